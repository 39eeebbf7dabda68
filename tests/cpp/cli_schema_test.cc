// `zerobus schema` as a process: the .proto it prints and the descriptor it writes, from DDL,
// from a Unity Catalog table description and from the local server's workspace side, the
// descriptor accepted by a server declaring the table, and mistakes reported with the
// library's message.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/uc_table_json.h"
#include "table/ddl_parser.h"
#include "zbtest_child.h"
#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"
#include "zbtest_server.h"
#include "zbtest_temp_dir.h"

namespace {

using zbtest::Child;
using namespace std::chrono_literals;

constexpr char kDdl[] =
    "main.sales.orders (id BIGINT NOT NULL, placed TIMESTAMP, "
    "lines ARRAY<STRUCT<sku: STRING NOT NULL, qty INT>>, tags MAP<STRING, STRING>)";

std::string ReadFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Cli, SchemaFromDdlPrintsTheProtoAndWritesADescriptorTheServerTakes) {
  zbtest::TempDir dir;
  const std::string descriptor = dir.path() + "/orders.desc";
  Child child({ZEROBUS_CLI, "schema", "--ddl", kDdl, "--descriptor", descriptor});
  ASSERT_EQ(child.Wait(10s), 0) << child.Stderr();
  const std::string proto = child.Stdout();
  EXPECT_NE(proto.find("message Orders {"), std::string::npos) << proto;
  EXPECT_NE(proto.find("required int64 id = 1;"), std::string::npos) << proto;
  EXPECT_NE(proto.find("map<string, string> tags = 4;"), std::string::npos) << proto;

  zbtest_server_options options{};
  options.schema = kDdl;
  options.reject_undeclared_tables = true;
  std::unique_ptr<zbtest_server, decltype(&zbtest_server_stop)> server(
      zbtest_server_start(&options), zbtest_server_stop);
  ASSERT_NE(server, nullptr);
  const int port = std::atoi(std::strrchr(zbtest_server_endpoint(server.get()), ':') + 1);
  zbtest::RawStream stream(port);
  EXPECT_FALSE(stream.Open(zbtest::CreateProto("main.sales.orders", ReadFile(descriptor))).empty());
}

TEST(Cli, SchemaFromTableJsonMatchesTheDdl) {
  zbtest::TempDir dir;
  zerobus::table::TableSchema table;
  std::string error;
  ASSERT_TRUE(zerobus::table::ParseTableDdl(kDdl, &table, &error)) << error;
  const std::string json = dir.path() + "/orders.json";
  std::ofstream(json) << zerobus::server::TableInfoJson(table, "s3://bucket/orders", 0).dump();
  const std::string proto = dir.path() + "/orders.proto";
  Child from_json({ZEROBUS_CLI, "schema", "--table-json", json, "--proto", proto});
  ASSERT_EQ(from_json.Wait(10s), 0) << from_json.Stderr();
  EXPECT_EQ(from_json.Stdout(), "");
  Child from_ddl({ZEROBUS_CLI, "schema", "--ddl", kDdl});
  ASSERT_EQ(from_ddl.Wait(10s), 0) << from_ddl.Stderr();
  EXPECT_EQ(ReadFile(proto), from_ddl.Stdout());
}

TEST(Cli, SchemaFromTheLocalServersWorkspaceMatchesTheDdl) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--table", kDdl});
  const std::string workspace = serve.url("http");
  ASSERT_FALSE(workspace.empty());
  Child fetched({ZEROBUS_CLI, "schema", "--workspace", workspace, "--table", "main.sales.orders"});
  ASSERT_EQ(fetched.Wait(10s), 0) << fetched.Stderr();
  Child from_ddl({ZEROBUS_CLI, "schema", "--ddl", kDdl});
  ASSERT_EQ(from_ddl.Wait(10s), 0) << from_ddl.Stderr();
  EXPECT_EQ(fetched.Stdout(), from_ddl.Stdout());
  Child missing({ZEROBUS_CLI, "schema", "--workspace", workspace, "--table", "main.sales.gone"});
  EXPECT_EQ(missing.Wait(10s), 1);
  EXPECT_NE(missing.Stderr().find("HTTP 404"), std::string::npos) << missing.Stderr();
}

TEST(Cli, SchemaMistakes) {
  Child unsupported({ZEROBUS_CLI, "schema", "--ddl", "a.b.c (m MAP<DOUBLE, INT>)"});
  EXPECT_EQ(unsupported.Wait(10s), 1);
  EXPECT_NE(unsupported.Stderr().find("MAP keys must be"), std::string::npos);
  Child missing({ZEROBUS_CLI, "schema", "--table-json", "/nonexistent/table.json"});
  EXPECT_EQ(missing.Wait(10s), 1);
  EXPECT_NE(missing.Stderr().find("cannot read /nonexistent/table.json"), std::string::npos);
  for (const std::vector<std::string> &args :
       {std::vector<std::string>{ZEROBUS_CLI, "schema"},
        std::vector<std::string>{ZEROBUS_CLI, "schema", "--workspace", "http://127.0.0.1:1"},
        std::vector<std::string>{ZEROBUS_CLI, "schema", "--ddl", kDdl, "--table", "a.b.c"}}) {
    Child bad(args);
    EXPECT_EQ(bad.Wait(10s), 2) << args.back();
    EXPECT_NE(bad.Stderr().find("usage: zerobus schema"), std::string::npos) << args.back();
  }
}

}  // namespace
