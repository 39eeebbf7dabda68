// Durability: `zerobus serve` killed with SIGKILL in the middle of ingestion and restarted on
// the same data directory still has every record it acknowledged, and a persistent stream
// resumes at exactly the offset whose rows it committed. And another process that opens the
// database meanwhile never takes the server's log away from it.
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "zbtest_raw_persistent.h"
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

// Rows in the table, duplicates included (StoredIds would hide them).
int64_t StoredRows(const std::string &data_dir) {
  sqlite3 *db = nullptr;
  const std::string path = data_dir + "/zerobus.db";
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt *statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM \"main.default.events\"", -1, &statement,
                               nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  const int64_t rows =
      sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

// Rows are exactly the records of offsets 0 to `watermark` (none without one), each once.
void ExpectRowsUpTo(const std::string &data_dir, std::optional<int64_t> watermark) {
  const int64_t committed = watermark ? (*watermark + 1) * kRecordsPerRequest : 0;
  const std::set<int64_t> ids = StoredIds(data_dir);
  EXPECT_EQ(StoredRows(data_dir), committed);
  ASSERT_EQ(static_cast<int64_t>(ids.size()), committed);
  if (committed > 0) {
    EXPECT_EQ(*ids.begin(), 0);
    EXPECT_EQ(*ids.rbegin(), committed - 1);
  }
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

TEST(Crash, APersistentStreamResumesAtExactlyTheRowsCommittedBeforeSigkill) {
  zbtest::TempDir dir;
  const std::vector<std::string> argv = {ZEROBUS_CLI,  "serve",    "--listen", "127.0.0.1:0",
                                         "--data-dir", dir.path(), "--table",  kDdl};
  std::string id;
  std::optional<int64_t> watermark;  // as the latest resume answered it
  // Three rounds: each resumes where the last kill left the stream (the first creates it),
  // writes pipelined and kills the server once some of its requests are acknowledged.
  for (int round = 0; round < 3; ++round) {
    zbtest::Serve serve(argv);
    const int port = serve.port("grpc");
    ASSERT_GT(port, 0);
    zbtest::RawPersistentStream stream(port, 30s);
    if (round == 0) {
      id = stream.Create(zbtest::CreateJson(kTable));
      ASSERT_NE(id, "");
    } else {
      ASSERT_TRUE(stream.Resume(id, databricks::zerobus::RecordType::JSON, "", &watermark))
          << stream.Finish().error_message();
      // The restarted server's rows are exactly those of offsets 0 to the watermark.
      ExpectRowsUpTo(dir.path(), watermark);
    }
    const int64_t first = watermark ? *watermark + 1 : 0;
    std::atomic<int64_t> last_ack{-1};
    std::thread acks([&] {
      while (std::optional<int64_t> ack = stream.ReadAck()) last_ack = *ack;
    });
    bool killed = false;
    for (int64_t offset = first; offset < first + 200000; ++offset) {
      if (!killed && last_ack.load() >= first + 50) {
        ASSERT_EQ(kill(serve.child().pid(), SIGKILL), 0);
        killed = true;
      }
      if (!stream.Write(zbtest::JsonBatch(offset, Batch(offset)))) break;
    }
    acks.join();
    EXPECT_TRUE(killed);
    EXPECT_EQ(serve.child().Wait(10s), 128 + SIGKILL);
    stream.Finish();
    ASSERT_GE(last_ack.load(), first + 50);
    // Everything acknowledged is committed: the next resume answers at least the last ack.
    {
      zbtest::Serve restarted(argv);
      zbtest::RawPersistentStream resumed(restarted.port("grpc"), 30s);
      std::optional<int64_t> answered;
      ASSERT_TRUE(resumed.Resume(id, databricks::zerobus::RecordType::JSON, "", &answered));
      ASSERT_TRUE(answered.has_value());
      EXPECT_GE(*answered, last_ack.load()) << "round " << round;
      // A resend of the watermark is refused, and stores nothing.
      ASSERT_TRUE(resumed.Write(zbtest::JsonBatch(*answered, Batch(*answered))));
      EXPECT_EQ(resumed.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      watermark = answered;
    }
  }
  ExpectRowsUpTo(dir.path(), watermark);
}

TEST(Crash, RowsStayVisibleAfterAnotherProcessOpensAndClosesTheDatabase) {
  zbtest::TempDir dir;
  zbtest::Serve serve(
      {ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(), "--table", kDdl});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  zbtest::RawStream stream(port);
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, Batch(0))));
  ASSERT_EQ(stream.ReadAck(), 0);
  // A read-write connection (as `sqlite3` or Python's sqlite3 opens one), which on close
  // checkpoints and deletes the WAL when it finds no other connection's lock on the file.
  sqlite3 *db = nullptr;
  const std::string path = dir.path() + "/zerobus.db";
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "SELECT count(*) FROM \"main.default.events\"", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(1, Batch(1))));
  ASSERT_EQ(stream.ReadAck(), 1);
  // Acknowledged means committed where every process sees it, not only after the server stops.
  EXPECT_EQ(StoredRows(dir.path()), 2 * kRecordsPerRequest);
}

}  // namespace
