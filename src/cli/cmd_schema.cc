// `zerobus schema`: a table's protobuf schema (the .proto source and the binary descriptor that
// a stream is opened with), built by the library from a Unity Catalog table description or from
// DDL, so that producers need no hand-written .proto.
#include <zerobus/zerobus.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/workspace_access.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus schema (--ddl DDL | --table-json FILE | --workspace URL --table NAME)\n"
    "                      [--proto FILE] [--descriptor FILE] [--avro]\n"
    "\n"
    "Prints the proto2 source of a table's protobuf schema, as the service maps Delta types\n"
    "(docs/SCHEMAS.md), and writes the binary google.protobuf.DescriptorProto that a stream of\n"
    "the table is opened with; or, with --avro, prints the table's Avro writer schema.\n"
    "\n"
    "Options:\n"
    "  --ddl DDL          the table as one Delta DDL statement, e.g.\n"
    "                     'main.default.events (id BIGINT NOT NULL, tags ARRAY<STRING>)'\n"
    "  --table-json FILE  the table as Unity Catalog describes it: the body of\n"
    "                     GET /api/2.1/unity-catalog/tables/NAME ('-' reads standard input)\n"
    "  --workspace URL --table NAME\n"
    "                     the table NAME (catalog.schema.table) as the workspace at URL\n"
    "                     describes it, read with the client credentials of\n"
    "                     DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or the token of\n"
    "                     DATABRICKS_TOKEN, or none; `zerobus serve` prints its own\n"
    "                     workspace URL. An http:// URL is spoken to in plaintext.\n"
    "  --ca-file FILE     the authorities to trust for the workspace (default: the system's)\n"
    "  --proto FILE       write the .proto source to FILE instead of standard output\n"
    "  --descriptor FILE  write the serialized DescriptorProto to FILE\n"
    "  --avro             print the table's Avro writer schema (Avro JSON, for AVRO streams)\n"
    "                     instead of the .proto source\n"
    "  --help             show this help\n"
    "\n"
    "Examples:\n"
    "  zerobus schema --ddl 'main.sales.orders (id BIGINT NOT NULL, total DECIMAL(8,2))'\n"
    "  zerobus schema --workspace https://HOST --table main.sales.orders --descriptor o.desc\n"
    "  curl -s -H \"Authorization: Bearer $TOKEN\" \\\n"
    "    https://HOST/api/2.1/unity-catalog/tables/main.sales.orders |\n"
    "    zerobus schema --table-json - --descriptor orders.desc --proto orders.proto\n";

bool ReadAll(const std::string &path, std::string *text) {
  if (path == "-") {
    text->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return !std::cin.bad();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

bool WriteAll(const std::string &path, const void *data, size_t len) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char *>(data), static_cast<std::streamsize>(len));
  return static_cast<bool>(out.flush());
}

}  // namespace

int RunSchema(int argc, char **argv) {
  std::string ddl;
  std::string table_json_path;
  std::string proto_path;
  std::string descriptor_path;
  std::string workspace;
  std::string table;
  std::string ca_file;
  bool avro = false;
  Flags flags("schema", kUsage);
  flags.Switch("--avro", [&] { avro = true; });
  flags.Value("--workspace", [&](const std::string &v) {
    workspace = v;
    return std::string();
  });
  flags.Value("--table", [&](const std::string &v) {
    table = v;
    return std::string();
  });
  flags.Value("--ca-file", [&](const std::string &v) {
    ca_file = v;
    return std::string();
  });
  flags.Value("--ddl", [&](const std::string &v) {
    ddl = v;
    return std::string();
  });
  flags.Value("--table-json", [&](const std::string &v) {
    table_json_path = v;
    return std::string();
  });
  flags.Value("--proto", [&](const std::string &v) {
    proto_path = v;
    return std::string();
  });
  flags.Value("--descriptor", [&](const std::string &v) {
    descriptor_path = v;
    return std::string();
  });
  if (std::optional<int> done = flags.Parse(argc, argv)) return *done;
  const int sources = !ddl.empty() + !table_json_path.empty() + !workspace.empty();
  if (sources != 1 || workspace.empty() != table.empty()) {
    std::fprintf(stderr,
                 "zerobus schema: give one of --ddl, --table-json, and --workspace with --table\n"
                 "\n%s",
                 kUsage);
    return 2;
  }

  std::string json;
  if (!table_json_path.empty() && !ReadAll(table_json_path, &json)) {
    std::fprintf(stderr, "zerobus schema: cannot read %s\n", table_json_path.c_str());
    return 1;
  }
  std::optional<zerobus::Schema> schema;
  try {
    if (!ddl.empty()) {
      schema = zerobus::Schema::from_ddl(ddl);
    } else if (!workspace.empty()) {
      WorkspaceAccess access;
      access.url = workspace;
      access.ca_file = ca_file;
      schema = FetchSchema(access, table);
    } else {
      schema = zerobus::Schema::from_table_json(json);
    }
  } catch (const zerobus::Error &error) {
    std::fprintf(stderr, "zerobus schema: %s\n", error.message().c_str());
    return 1;
  }

  if (avro) {
    try {
      std::printf("%s\n", schema->avro().c_str());
    } catch (const zerobus::Error &error) {
      std::fprintf(stderr, "zerobus schema: %s\n", error.message().c_str());
      return 1;
    }
  }
  const std::string source = schema->proto_source();
  if (avro && proto_path.empty()) {
    // Standard output holds the Avro schema: the .proto source goes only where --proto says.
  } else if (proto_path.empty()) {
    std::fputs(source.c_str(), stdout);
  } else if (!WriteAll(proto_path, source.data(), source.size())) {
    std::fprintf(stderr, "zerobus schema: cannot write %s\n", proto_path.c_str());
    return 1;
  }
  if (!descriptor_path.empty()) {
    const zerobus::Bytes descriptor = schema->descriptor();
    if (!WriteAll(descriptor_path, descriptor.data(), descriptor.size())) {
      std::fprintf(stderr, "zerobus schema: cannot write %s\n", descriptor_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace zerobus::cli
