// Durability: `zerobus serve` killed with SIGKILL in the middle of ingestion and restarted on
// the same data directory still has every record it acknowledged.
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"
#include "zbtest_temp_dir.h"

namespace {

using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";
constexpr char kDdl[] = "main.default.events (id BIGINT NOT NULL, payload STRING)";
constexpr int kRecordsPerRequest = 10;

std::vector<std::string> Batch(int64_t offset) {
  std::vector<std::string> records;
  for (int k = 0; k < kRecordsPerRequest; ++k) {
    records.push_back("{\"id\":" + std::to_string(offset * kRecordsPerRequest + k) +
                      ",\"payload\":\"" + std::string(80, 'p') + "\"}");
  }
  return records;
}

std::set<int64_t> StoredIds(const std::string &data_dir) {
  std::set<int64_t> ids;
  sqlite3 *db = nullptr;
  const std::string path = data_dir + "/zerobus.db";
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt *statement = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(db, "SELECT id FROM \"main.default.events\"", -1, &statement, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(db);
  while (sqlite3_step(statement) == SQLITE_ROW) ids.insert(sqlite3_column_int64(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return ids;
}

TEST(Crash, EveryAcknowledgedRecordSurvivesSigkillAndRestart) {
  zbtest::TempDir dir;
  std::atomic<int64_t> last_ack{-1};
  int64_t sent = 0;
  {
    zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(),
                         "--table", kDdl});
    const int port = serve.port("grpc");
    ASSERT_GT(port, 0);
    zbtest::RawStream stream(port, 30s);
    ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
    std::thread acks([&] {
      while (std::optional<int64_t> ack = stream.ReadAck()) last_ack = *ack;
    });
    bool killed = false;
    // Keeps writing (pipelined, never waiting for acks) until the dead server stops taking
    // requests; the kill comes once some requests are acknowledged and more are in flight.
    for (; sent < 200000; ++sent) {
      if (!killed && last_ack.load() >= 50) {
        ASSERT_EQ(kill(serve.child().pid(), SIGKILL), 0);
        killed = true;
      }
      if (!stream.Write(zbtest::JsonBatch(sent, Batch(sent)))) break;
    }
    acks.join();
    EXPECT_TRUE(killed);
    EXPECT_EQ(serve.child().Wait(10s), 128 + SIGKILL);
    stream.Finish();
  }
  ASSERT_GE(last_ack.load(), 50);

  // The restarted server recovers the database before it writes its ready file.
  zbtest::Serve serve(
      {ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--table", kDdl});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  const std::set<int64_t> ids = StoredIds(dir.path());
  const int64_t acked_records = (last_ack.load() + 1) * kRecordsPerRequest;
  for (int64_t id = 0; id < acked_records; ++id) {
    ASSERT_EQ(ids.count(id), 1u) << "acknowledged record " << id << " is lost (acks up to request "
                                 << last_ack.load() << ", " << sent << " requests sent)";
  }
  // Every request is stored whole or not at all.
  EXPECT_EQ(ids.size() % kRecordsPerRequest, 0u);

  // And the restarted server goes on storing.
  zbtest::RawStream stream(port);
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":-1})")));
  EXPECT_EQ(stream.ReadAck(), 0);
  EXPECT_EQ(StoredIds(dir.path()).count(-1), 1u);
}

}  // namespace
