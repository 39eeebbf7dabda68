// Rows in SQLite: one column per Delta column, kept across restarts, acknowledged only once
// committed, read back with `zerobus rows`; undeclared tables keep records as they arrived.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server.h"
#include "server/sqlite_row_store.h"
#include "table/ddl_parser.h"
#include "zbtest_child.h"
#include "zbtest_dynamic.h"
#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"
#include "zbtest_server.h"
#include "zbtest_temp_dir.h"

namespace {

using nlohmann::json;
using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";
constexpr char kDdl[] =
    "main.default.events (id BIGINT NOT NULL, device STRING, ok BOOLEAN, raw BINARY, "
    "tags ARRAY<STRING>, loc STRUCT<lat: DOUBLE, lon: DOUBLE>, amount DECIMAL(6,2))";

class StorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<Server> Start(const std::string &ddl = kDdl, std::string *error_out = nullptr) {
    ServerOptions options;
    options.data_dir = dir_.path();
    std::string error;
    options.tables.resize(1);
    EXPECT_TRUE(zerobus::table::ParseTableDdl(ddl, &options.tables[0], &error)) << error;
    std::unique_ptr<Server> server = Server::Start(std::move(options), &error);
    if (error_out != nullptr) {
      *error_out = error;
    } else {
      EXPECT_NE(server, nullptr) << error;
    }
    return server;
  }

  json Row(const Server &server, int64_t index) {
    std::optional<zerobus::server::Record> record = server.rows().Get(kTable, index);
    return record ? json::parse(record->data) : json();
  }

  zbtest::TempDir dir_;
};

TEST_F(StorageTest, AvroDatumsAreStoredAsRowsAndAWriterSchemaThatDoesNotFitIsRefused) {
  auto server = Start();
  const std::string writer = R"({"type": "record", "name": "e", "fields": [
      {"name": "id", "type": "long"}, {"name": "device", "type": ["null", "string"]},
      {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal",
       "precision": 6, "scale": 2}]}]})";
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateAvro(kTable, writer)), "");
  // id 1, device "d1", amount 12.30 (unscaled 1230 = 0x04ce); then id 2 with nulls. Zig-zag:
  // 1 -> 02, 2 -> 04, union branch 1 -> 02, length 2 -> 04.
  const std::string first(
      "\x02\x02\x04"
      "d1"
      "\x02\x04\x04\xce",
      9);
  const std::string second("\x04\x00\x00", 3);
  ASSERT_TRUE(stream.Write(zbtest::AvroRecord(0, first)));
  ASSERT_EQ(stream.ReadAck(), 0);
  ASSERT_TRUE(stream.Write(zbtest::AvroBatch(1, {second})));
  ASSERT_EQ(stream.ReadAck(), 1);
  EXPECT_EQ(Row(*server, 0), json::parse(R"({"id":1,"device":"d1","ok":null,"raw":null,
      "tags":null,"loc":null,"amount":"12.30"})"));
  EXPECT_EQ(Row(*server, 1)["id"], 2);
  // A datum that does not read is refused naming the record and the column.
  ASSERT_TRUE(stream.Write(zbtest::AvroRecord(2, std::string("\x06\x04", 2))));
  grpc::Status refused = stream.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "offset_id 2: column 'device': union branch 2 of a union of 2");

  RawStream misfit(server->port());
  misfit.Write(zbtest::CreateAvro(kTable, R"({"type": "record", "name": "e", "fields": [
      {"name": "id", "type": "string"}]})"));
  refused = misfit.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "avro_schema_json does not fit main.default.events: column 'id': the writer's type "
            "is string, the column is bigint");
  RawStream without(server->port());
  without.Write(zbtest::CreateAvro(kTable, ""));
  EXPECT_EQ(without.Finish().error_message(), "avro_schema_json is required for AVRO streams");
  EXPECT_EQ(server->rows().Count(kTable), 2);
}

TEST_F(StorageTest, RowsHaveAColumnPerDeltaColumnAndAreAckedOnceCommitted) {
  auto server = Start();
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(
      zbtest::JsonBatch(0, {R"({"id":1,"device":"d1","ok":true,"raw":"AAH/","tags":["a","b"],
             "loc":{"lat":1.5},"amount":"12.30"})",
                            R"({"id":2})"})));
  ASSERT_EQ(stream.ReadAck(), 0);
  // Acknowledged means committed: the rows are readable at once.
  EXPECT_EQ(server->rows().Count(kTable), 2);
  EXPECT_EQ(Row(*server, 0), json::parse(R"({"id":1,"device":"d1","ok":true,"raw":"AAH/",
      "tags":["a","b"],"loc":{"lat":1.5,"lon":null},"amount":"12.30"})"));
  EXPECT_EQ(Row(*server, 1), json::parse(R"({"id":2,"device":null,"ok":null,"raw":null,
      "tags":null,"loc":null,"amount":null})"));
}

TEST_F(StorageTest, RowsSurviveARestartOnTheSameDataDirectory) {
  {
    auto server = Start();
    RawStream stream(server->port());
    ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(stream.Write(zbtest::JsonRecord(i, "{\"id\":" + std::to_string(i) + "}")));
    }
    stream.WritesDone();
    ASSERT_TRUE(stream.Finish().ok());
  }
  auto server = Start();
  EXPECT_EQ(server->rows().Count(kTable), 5);
  EXPECT_EQ(Row(*server, 4)["id"], 4);
}

TEST_F(StorageTest, ATableStoredWithOtherColumnsCannotBeRedeclared) {
  Start().reset();
  std::string error;
  EXPECT_EQ(Start("main.default.events (id BIGINT NOT NULL, extra INT)", &error), nullptr);
  EXPECT_NE(error.find("table main.default.events is stored with columns"), std::string::npos)
      << error;
}

TEST_F(StorageTest, ProtoRecordsAreStoredAsRowsToo) {
  auto server = Start();
  zbtest::DynamicSchema schema(R"pb(
    name: "E"
    field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
    field { name: "tags" number: 2 label: LABEL_REPEATED type: TYPE_STRING }
  )pb");
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateProto(kTable, schema.descriptor())), "");
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, schema.Record(R"(id: 7 tags: "x")"))));
  ASSERT_EQ(stream.ReadAck(), 0);
  EXPECT_EQ(Row(*server, 0)["id"], 7);
  EXPECT_EQ(Row(*server, 0)["tags"], json::parse(R"(["x"])"));
}

TEST_F(StorageTest, ConcurrentStreamsAreAllCommittedInTheirOwnOrder) {
  auto server = Start();
  constexpr int kStreams = 4;
  constexpr int kRequests = 30;
  std::vector<std::thread> producers;
  for (int s = 0; s < kStreams; ++s) {
    producers.emplace_back([&, s] {
      RawStream stream(server->port());
      ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
      for (int i = 0; i < kRequests; ++i) {
        ASSERT_TRUE(
            stream.Write(zbtest::JsonRecord(i, "{\"id\":" + std::to_string(s * 1000 + i) +
                                                   ",\"device\":\"s" + std::to_string(s) + "\"}")));
      }
      stream.WritesDone();
      EXPECT_TRUE(stream.Finish().ok());
    });
  }
  for (std::thread &producer : producers) producer.join();
  ASSERT_EQ(server->rows().Count(kTable), kStreams * kRequests);
  std::vector<int> next(kStreams, 0);
  for (int i = 0; i < kStreams * kRequests; ++i) {
    const int64_t id = Row(*server, i)["id"].get<int64_t>();
    const int s = static_cast<int>(id / 1000);
    EXPECT_EQ(id % 1000, next[s]++) << "stream " << s << " out of order";
  }
}

TEST_F(StorageTest, UndeclaredTablesKeepRecordsAsTheyArrived) {
  ServerOptions options;
  options.data_dir = dir_.path();
  std::string error;
  auto server = Server::Start(std::move(options), &error);
  ASSERT_NE(server, nullptr) << error;
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateProto("main.default.raw", zbtest::EventDescriptor())), "");
  const std::string event = zbtest::EncodeEvent(3, "three");
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, event)));
  ASSERT_EQ(stream.ReadAck(), 0);
  std::optional<zerobus::server::Record> record = server->rows().Get("main.default.raw", 0);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->data, event);
  EXPECT_FALSE(record->json);
}

TEST_F(StorageTest, ZbtestServerStoresInSqliteWhenGivenADataDirectory) {
  zbtest_server_options options{};
  options.schema = kDdl;
  options.data_dir = dir_.path().c_str();
  zbtest_server *server = zbtest_server_start(&options);
  ASSERT_NE(server, nullptr);
  const std::string endpoint = zbtest_server_endpoint(server);
  {
    RawStream stream(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
    ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
    ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":5})")));
    ASSERT_EQ(stream.ReadAck(), 0);
  }
  const uint8_t *data;
  size_t len;
  bool is_json = false;
  ASSERT_TRUE(zbtest_server_record(server, kTable, 0, &data, &len, &is_json));
  EXPECT_TRUE(is_json);
  EXPECT_EQ(json::parse(std::string(reinterpret_cast<const char *>(data), len))["id"], 5);
  zbtest_server_stop(server);
}

TEST_F(StorageTest, ZerobusRowsPrintsTheStoredRowsAsJsonLines) {
  {
    auto server = Start();
    RawStream stream(server->port());
    ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
    ASSERT_TRUE(stream.Write(
        zbtest::JsonBatch(0, {R"({"id":1,"tags":["a"]})", R"({"id":2})", R"({"id":3})"})));
    ASSERT_EQ(stream.ReadAck(), 0);
  }
  zbtest::Child rows(
      {ZEROBUS_CLI, "rows", kTable, "--data-dir", dir_.path(), "--offset", "0", "--limit", "2"});
  ASSERT_EQ(rows.Wait(10s), 0) << rows.Stderr();
  EXPECT_EQ(rows.Stdout(),
            "{\"amount\":null,\"device\":null,\"id\":1,\"loc\":null,\"ok\":null,\"raw\":null,"
            "\"tags\":[\"a\"]}\n"
            "{\"amount\":null,\"device\":null,\"id\":2,\"loc\":null,\"ok\":null,\"raw\":null,"
            "\"tags\":null}\n");

  zbtest::Child missing({ZEROBUS_CLI, "rows", "main.default.nope", "--data-dir", dir_.path()});
  EXPECT_EQ(missing.Wait(10s), 1);
  EXPECT_NE(missing.Stderr().find("no table main.default.nope"), std::string::npos);
}

TEST_F(StorageTest, TheDatabaseIsItsOwnersAloneAndNoLinkIsFollowed) {
  // Even under a umask of 0, the database and the -wal and -shm files SQLite makes beside it
  // are readable by their owner only: they hold every row.
  const mode_t umask_before = umask(0);
  std::unique_ptr<Server> server = Start();
  umask(umask_before);
  ASSERT_NE(server, nullptr);
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":1})")));
  ASSERT_EQ(stream.ReadAck(), 0);
  const std::string db = zerobus::server::DatabasePath(dir_.path());
  for (const std::string &path : {db, db + "-wal", db + "-shm"}) {
    struct stat info;
    ASSERT_EQ(lstat(path.c_str(), &info), 0) << path;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << path;
  }
  stream.WritesDone();
  EXPECT_TRUE(stream.Finish().ok());
  server.reset();

  // A link where the database goes is refused, not followed.
  zbtest::TempDir other;
  const std::string target = other.path() + "/elsewhere.db";
  ASSERT_EQ(symlink(target.c_str(), zerobus::server::DatabasePath(other.path()).c_str()), 0);
  ServerOptions options;
  options.data_dir = other.path();
  std::string error;
  EXPECT_EQ(Server::Start(std::move(options), &error), nullptr);
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  struct stat info;
  EXPECT_NE(lstat(target.c_str(), &info), 0) << "the link's target was created";
}

TEST_F(StorageTest, ServeWithoutADataDirectorySaysWhereAndCleansUp) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0"});
  const std::string data_dir = serve.ready().value("data_dir", "");
  ASSERT_FALSE(data_dir.empty()) << serve.ready().dump();
  const std::string db = data_dir + "/zerobus.db";
  EXPECT_EQ(serve.child().ReadLine(10s).find("zerobus serve: listening on"), 0u);
  const std::string line = serve.child().ReadLine(10s);
  EXPECT_EQ(line.rfind("zerobus serve: storing rows in " + db + " (", 0), 0u) << line;
  EXPECT_NE(line.find("temporary directory"), std::string::npos);
  EXPECT_EQ(access(db.c_str(), F_OK), 0) << db;
  kill(serve.child().pid(), SIGTERM);
  EXPECT_EQ(serve.child().Wait(10s), 0);
  EXPECT_NE(access(data_dir.c_str(), F_OK), 0) << data_dir << " was not removed";
}

}  // namespace
