// `zerobus rows TABLE`: prints what `zerobus serve` stored for a table, one JSON object per
// line, so that a producer's output can be checked by eye or piped into jq.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "server/row_reader.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus rows TABLE [--data-dir DIR] [--limit N] [--offset N]\n"
    "\n"
    "Prints the rows `zerobus serve --data-dir DIR` stored for TABLE (catalog.schema.table),\n"
    "oldest first, one JSON object per line: nested columns as JSON, BINARY as base64, DATE as\n"
    "days and TIMESTAMP as microseconds since the epoch. The server may be running.\n"
    "\n"
    "Options:\n"
    "  --data-dir DIR  the server's data directory (default: the current directory)\n"
    "  --limit N       print at most N rows\n"
    "  --offset N      skip the first N rows\n"
    "  --help          show this help\n"
    "\n"
    "Examples:\n"
    "  zerobus rows main.default.events --data-dir data\n"
    "  zerobus rows main.default.events --limit 10 | jq .id\n";

}  // namespace

int RunRows(int argc, char **argv) {
  std::string table;
  std::string data_dir = ".";
  long long limit = -1;
  long long offset = 0;
  Flags flags("rows", kUsage);
  flags.Positional([&](const std::string &v) {
    if (!table.empty()) return "unexpected argument '" + v + "'";
    table = v;
    return std::string();
  });
  flags.Value("--data-dir", [&](const std::string &v) {
    data_dir = v;
    return std::string();
  });
  flags.Value("--limit", [&](const std::string &v) {
    return ParseCount(v, &limit) ? "" : "--limit wants a number, got '" + v + "'";
  });
  flags.Value("--offset", [&](const std::string &v) {
    return ParseCount(v, &offset) ? "" : "--offset wants a number, got '" + v + "'";
  });
  if (std::optional<int> status = flags.Parse(argc, argv)) return *status;
  if (table.empty()) {
    std::fprintf(stderr, "zerobus rows: which table?\n\n%s", kUsage);
    return 2;
  }

  std::string error;
  const std::unique_ptr<server::RowReader> reader = server::RowReader::Open(data_dir, &error);
  std::vector<nlohmann::json> rows;
  if (!reader || !reader->Read(table, offset, limit, &rows, &error)) {
    std::fprintf(stderr, "zerobus rows: %s\n", error.c_str());
    return 1;
  }
  for (const nlohmann::json &row : rows) {
    std::printf("%s\n", row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return 0;
}

}  // namespace zerobus::cli
