// Declared tables over real gRPC: streams to them open, streams to other tables fail with
// NOT_FOUND unless the server accepts undeclared tables.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_raw_stream.h"
#include "zbtest_server.h"

namespace {

using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using zerobus::table::TableSchema;

std::unique_ptr<Server> StartWith(const std::string &ddl, bool accept_undeclared) {
  ServerOptions options;
  TableSchema table;
  std::string error;
  EXPECT_TRUE(zerobus::table::ParseTableDdl(ddl, &table, &error)) << error;
  options.tables.push_back(table);
  options.accept_undeclared_tables = accept_undeclared;
  std::unique_ptr<Server> server = Server::Start(std::move(options), &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

TEST(Tables, UndeclaredTablesFailWithNotFoundLikeTheService) {
  auto server = StartWith("main.default.events (id BIGINT, payload STRING)", false);
  RawStream stream(server->port());
  stream.Write(zbtest::CreateJson("main.default.other"));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("main.default.other"), std::string::npos);
  EXPECT_EQ(server->total_stats().streams_opened, 0);
}

TEST(Tables, DeclaredTablesMatchCaseInsensitivelyAndStoreUnderTheirOwnName) {
  auto server = StartWith("main.default.events (id BIGINT, payload STRING)", false);
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateProto("MAIN.Default.EVENTS", zbtest::EventDescriptor())), "");
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, zbtest::EncodeEvent(1, "x"))));
  EXPECT_EQ(stream.ReadAck(), 0);
  EXPECT_EQ(server->rows().Count("main.default.events"), 1);
}

TEST(Tables, UndeclaredTablesAreAcceptedWhenAsked) {
  auto server = StartWith("main.default.events (id BIGINT, payload STRING)", true);
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson("main.default.anything")), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"free":"form"})")));
  EXPECT_EQ(stream.ReadAck(), 0);
  EXPECT_EQ(server->rows().Count("main.default.anything"), 1);
}

TEST(Tables, ZbtestServerDeclaresTablesFromDdl) {
  zbtest_server_options options{};
  options.schema = "main.default.events (id BIGINT, payload STRING);";
  options.reject_undeclared_tables = true;
  zbtest_server *server = zbtest_server_start(&options);
  ASSERT_NE(server, nullptr);
  const std::string endpoint = zbtest_server_endpoint(server);
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  {
    RawStream stream(port);
    stream.Write(zbtest::CreateJson("main.default.missing"));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    RawStream stream(port);
    EXPECT_NE(stream.Open(zbtest::CreateJson("main.default.events")), "");
  }
  zbtest_server_stop(server);

  options.schema = "main.default.events (id NOTATYPE)";
  EXPECT_EQ(zbtest_server_start(&options), nullptr);
}

}  // namespace
