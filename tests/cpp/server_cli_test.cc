// `zerobus serve` as a process: its announcement line, serving, logging and stopping on signals,
// and the dispatcher's handling of bad command lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zbtest_child.h"
#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"
#include "zbtest_temp_dir.h"

namespace {

using zbtest::Child;
using namespace std::chrono_literals;

// A stream on `port` gets its one record acknowledged and ends cleanly.
void ExpectToStoreARecord(int port) {
  zbtest::RawStream stream(port);
  ASSERT_NE(stream.Open(zbtest::CreateJson("main.default.events")), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":1})")));
  EXPECT_EQ(stream.ReadAck(), 0);
  stream.WritesDone();
  EXPECT_TRUE(stream.Finish().ok());
}

TEST(Cli, ServeAnnouncesItsEndpointServesAndStopsOnSigterm) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0"});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  Child &child = serve.child();
  EXPECT_EQ(child.ReadLine(10s), "zerobus serve: listening on " + serve.url("grpc"));

  ExpectToStoreARecord(port);

  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  EXPECT_EQ(child.Wait(10s), 0);
  const std::string log = child.Stderr();
  EXPECT_NE(log.find("stream opened: table=main.default.events"), std::string::npos) << log;
  EXPECT_NE(log.find("stream closed: table=main.default.events"), std::string::npos) << log;
}

TEST(Cli, ServeDeclaresTablesFromFlagsAndSchemaFiles) {
  const std::string schema = testing::TempDir() + "/cli_schema.sql";
  {
    FILE *file = fopen(schema.c_str(), "w");
    ASSERT_NE(file, nullptr);
    fputs("-- two tables\nmain.default.a (id BIGINT NOT NULL)\nmain.default.b (s STRING);\n", file);
    fclose(file);
  }
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--schema-file", schema,
                       "--table", "main.default.events (id BIGINT, payload STRING)"});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  std::string line;
  for (int i = 0; i < 6 && line.find("table(s) declared") == std::string::npos; ++i) {
    line = serve.child().ReadLine(10s);
  }
  EXPECT_NE(line.find("3 table(s) declared"), std::string::npos) << line;
  for (const char *table : {"main.default.a", "main.default.b", "main.default.events"}) {
    zbtest::RawStream stream(port);
    EXPECT_NE(stream.Open(zbtest::CreateJson(table)), "") << table;
  }
  zbtest::RawStream stream(port);
  stream.Write(zbtest::CreateJson("main.default.undeclared"));
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Cli, ServeRefusesBadTableDefinitions) {
  const std::vector<std::vector<std::string>> bad = {
      {"serve", "--table", "main.default (id INT)"},
      {"serve", "--table", "main.default.t (id INT)", "--table", "main.default.T (x INT)"},
      {"serve", "--schema-file", "/nonexistent/schema.sql"},
  };
  for (const auto &args : bad) {
    std::vector<std::string> argv = args;
    argv.insert(argv.begin(), ZEROBUS_CLI);
    Child child(argv);
    EXPECT_EQ(child.Wait(10s), 2) << args.back();
    EXPECT_NE(child.Stderr().find("zerobus serve:"), std::string::npos) << args.back();
  }
}

TEST(Cli, ServeStopsOnSigintWithACallOpen) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen=127.0.0.1:0", "--null-sink"});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  zbtest::RawStream stream(port);
  ASSERT_NE(stream.Open(zbtest::CreateJson("main.default.events")), "");

  ASSERT_EQ(kill(serve.child().pid(), SIGINT), 0);
  EXPECT_EQ(serve.child().Wait(10s), 0);
  EXPECT_FALSE(stream.Finish().ok());
}

TEST(Cli, ServeStopsPromptlyWithAnIdleKeepAliveConnection) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen=127.0.0.1:0"});
  const int port = serve.port("http");
  ASSERT_GT(port, 0);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
  const std::string request = "GET /api/2.1/unity-catalog/tables/a.b.c HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char reply[256];
  ASSERT_GT(read(fd, reply, sizeof reply), 0);
  // The connection stays open and idle: the server must not wait out a long keep-alive.
  ASSERT_EQ(kill(serve.child().pid(), SIGTERM), 0);
  EXPECT_EQ(serve.child().Wait(3s), 0);
  close(fd);
}

TEST(Cli, ServeFailsOnABusyPort) {
  zbtest::Serve first({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0"});
  const int port = first.port("grpc");
  ASSERT_GT(port, 0);
  Child second({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(second.Wait(10s), 1);
  EXPECT_NE(second.Stderr().find("cannot listen"), std::string::npos);
}

TEST(Cli, ServeHelpGoesToStdout) {
  Child child({ZEROBUS_CLI, "serve", "--help"});
  EXPECT_EQ(child.Wait(10s), 0);
  EXPECT_NE(child.Stdout().find("usage: zerobus serve"), std::string::npos);
}

TEST(Cli, BadCommandLinesExitWithUsageOnStderr) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"serve", "--bogus"},
      {"serve", "--listen"},
      {"serve", "--listen", "127.0.0.1"},
      {"serve", "--listen", "127.0.0.1:99999"},
  };
  for (const auto &args : bad) {
    std::vector<std::string> argv = args;
    argv.insert(argv.begin(), ZEROBUS_CLI);
    Child child(argv);
    EXPECT_EQ(child.Wait(10s), 2) << (args.empty() ? "(no arguments)" : args.back());
    EXPECT_EQ(child.Stdout(), "");
    EXPECT_NE(child.Stderr().find("usage: zerobus"), std::string::npos)
        << (args.empty() ? "(no arguments)" : args.back());
  }
}

// --ready-file: once the server listens, its addresses as a JSON object, the gRPC port the one
// it serves on and announces; the file is gone once the server stops, and no temporary file of
// the rename stays behind.
TEST(Cli, ServeWritesItsAddressesToTheReadyFile) {
  zbtest::TempDir dir;
  const std::string ready_file = dir.path() + "/ready.json";
  Child child({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--ready-file", ready_file});
  const nlohmann::json ready = zbtest::WaitForReadyFile(ready_file, child.pid(), 10s);
  ASSERT_TRUE(ready.is_object());
  EXPECT_EQ(ready.value("pid", 0), child.pid());
  const int port = ready["grpc"].value("port", 0);
  ASSERT_GT(port, 0) << ready.dump();
  EXPECT_EQ(ready["grpc"].value("url", ""), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(ready["grpc"].value("host", ""), "127.0.0.1");
  EXPECT_EQ(child.ReadLine(10s), "zerobus serve: listening on " + ready["grpc"].value("url", ""));
  const int http_port = ready["http"].value("port", 0);
  const int admin_port = ready["admin"].value("port", 0);
  EXPECT_GT(http_port, 0) << ready.dump();
  EXPECT_GT(admin_port, 0) << ready.dump();
  EXPECT_EQ(ready["http"].value("url", ""), "http://127.0.0.1:" + std::to_string(http_port));
  EXPECT_EQ(ready["admin"].value("url", ""), "http://127.0.0.1:" + std::to_string(admin_port));
  EXPECT_FALSE(ready.value("data_dir", "").empty()) << ready.dump();

  ExpectToStoreARecord(port);

  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  EXPECT_EQ(child.Wait(10s), 0);
  EXPECT_NE(access(ready_file.c_str(), F_OK), 0) << "the ready file outlived the server";
  EXPECT_EQ(rmdir(dir.path().c_str()), 0) << "something besides the ready file was left";
  EXPECT_EQ(mkdir(dir.path().c_str(), 0700), 0);
}

TEST(Cli, ServeFailsWhenItCannotWriteTheReadyFile) {
  Child child({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--ready-file",
               "/nonexistent-directory/ready.json"});
  EXPECT_EQ(child.Wait(10s), 1);
  EXPECT_NE(child.Stderr().find("--ready-file"), std::string::npos);
}

}  // namespace
