// `zerobus serve`: the local server as a process, for developing producers without a workspace.
#include <pthread.h>
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "commands.h"
#include "directories.h"
#include "flags.h"
#include "server/ddl_parser.h"
#include "server/server.h"
#include "server/sqlite_row_store.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus serve [options]\n"
    "\n"
    "Serves the Zerobus Ingest gRPC protocol (plaintext) until SIGINT or SIGTERM.\n"
    "\n"
    "  --listen HOST:PORT     address to listen on (default 127.0.0.1:50051; port 0 picks a\n"
    "                         free port). The server has no authentication: keep it on loopback.\n"
    "  --table DDL            declare a table, e.g. 'main.default.events (id BIGINT NOT NULL,\n"
    "                         device STRING, tags ARRAY<STRING>)'; repeatable\n"
    "  --schema-file FILE     declare the tables of FILE: one DDL statement per line, or\n"
    "                         statements ending in ';'; '--' starts a comment; repeatable\n"
    "  --accept-undeclared-tables\n"
    "                         accept streams to tables that were not declared, keeping their\n"
    "                         records unchecked. This is the default when no table is declared;\n"
    "                         otherwise such streams fail with NOT_FOUND, as on the service.\n"
    "  --data-dir DIR         store rows durably in DIR/zerobus.db (SQLite; created if needed).\n"
    "                         Without it a temporary directory is used, printed at start-up\n"
    "                         and removed when the server stops.\n"
    "  --null-sink            acknowledge records on receipt and store nothing (benchmarks)\n"
    "  --help                 show this help\n";

// Splits HOST:PORT at the last colon; an IPv6 host may come in brackets.
std::string ParseListen(const std::string &value, server::ServerOptions *options) {
  const std::string error = "--listen wants HOST:PORT, got '" + value + "'";
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) return error;
  std::string host = value.substr(0, colon);
  long long port;
  if (!ParseCount(value.substr(colon + 1), &port) || port > 65535) return error;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return error;
  options->host = host;
  options->port = static_cast<int>(port);
  return "";
}

std::string ReadSchemaFile(const std::string &path, std::vector<server::TableSchema> *tables) {
  std::ifstream file(path);
  if (!file) return "cannot read schema file '" + path + "'";
  std::stringstream text;
  text << file.rdbuf();
  std::string error;
  if (!server::ParseSchemaText(text.str(), tables, &error)) return path + ": " + error;
  return "";
}

std::string Lower(std::string text) {
  for (char &c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Parses argv into `options`; on a usage error prints it and returns the exit status.
std::optional<int> ParseArgs(int argc, char **argv, server::ServerOptions *options) {
  bool accept_undeclared = false;
  Flags flags("serve", kUsage);
  flags.Value("--listen", [&](const std::string &v) { return ParseListen(v, options); });
  flags.Switch("--null-sink", [&] { options->null_sink = true; });
  flags.Value("--data-dir", [&](const std::string &v) {
    options->data_dir = v;
    return v.empty() ? std::string("--data-dir wants a directory") : std::string();
  });
  flags.Value("--table", [&](const std::string &v) {
    server::TableSchema table;
    std::string error;
    if (!server::ParseTableDdl(v, &table, &error)) return "--table: " + error;
    options->tables.push_back(std::move(table));
    return std::string();
  });
  flags.Value("--schema-file",
              [&](const std::string &v) { return ReadSchemaFile(v, &options->tables); });
  flags.Switch("--accept-undeclared-tables", [&] { accept_undeclared = true; });
  if (std::optional<int> status = flags.Parse(argc, argv)) return status;

  std::set<std::string> names;
  for (const server::TableSchema &table : options->tables) {
    if (!names.insert(Lower(table.full_name)).second) {
      std::fprintf(stderr, "zerobus serve: table %s is declared twice\n", table.full_name.c_str());
      return 2;
    }
  }
  options->accept_undeclared_tables = accept_undeclared || options->tables.empty();
  return std::nullopt;
}

}  // namespace

int RunServe(int argc, char **argv) {
  server::ServerOptions options;
  options.port = 50051;
  if (std::optional<int> status = ParseArgs(argc, argv, &options)) return *status;
  options.log = [](const std::string &line) {
    std::fprintf(stderr, "zerobus serve: %s\n", line.c_str());
  };

  std::optional<TemporaryDirectory> temporary;
  if (!options.null_sink) {
    std::string error;
    if (options.data_dir.empty()) {
      temporary.emplace();
      options.data_dir = temporary->path();
      if (options.data_dir.empty()) error = "cannot create a temporary directory";
    }
    if (error.empty()) MakeDirectory(options.data_dir, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
      return 1;
    }
  }

  // Blocked before any thread starts, so that every gRPC thread inherits the mask and the
  // signals reach only the sigwait below, where stopping is ordinary code rather than a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const size_t declared = options.tables.size();
  const bool accept_undeclared = options.accept_undeclared_tables;
  const bool null_sink = options.null_sink;
  const std::string data_dir = options.data_dir;
  std::string error;
  std::unique_ptr<server::Server> server = server::Server::Start(std::move(options), &error);
  if (!server) {
    std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
    return 1;
  }
  // The first line is the address: scripts and tests wait for it.
  std::printf("zerobus serve: listening on %s\n", server->endpoint().c_str());
  if (null_sink) {
    std::printf("zerobus serve: null sink: records are acknowledged on receipt, not stored\n");
  } else {
    std::printf("zerobus serve: storing rows in %s%s\n", server::DatabasePath(data_dir).c_str(),
                temporary ? " (a temporary directory, removed on exit)" : "");
  }
  std::printf("zerobus serve: %zu table(s) declared; %s\n", declared,
              accept_undeclared ? "streams to other tables are accepted unchecked"
                                : "streams to other tables fail with NOT_FOUND");
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "zerobus serve: %s received, stopping\n", strsignal(signal_number));
  server->Stop();
  return 0;
}

}  // namespace zerobus::cli
