// Arrow streams through the C API against the in-process `zerobus serve` over real gRPC
// (Flight's DoPut): batches built by hand in the C Data Interface (zbtest_arrow.h) are stored
// as the table's rows, exactly once, with their offsets acknowledged and each batch's release
// called exactly once; with and without IPC compression; a batch over the 10 MiB message
// limit split into frames; a connection broken in the middle of a batch, acknowledged in part,
// replaying only the rows that were not; withheld acks, close signals; schemas refused naming
// the column; unacknowledged batches given back as IPC bytes.
#include <gtest/gtest.h>
#include <zerobus/arrow_c_data.h>
#include <zerobus/zerobus.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "arrow/ipc_reader.h"
#include "zbtest_arrow.h"
#include "zbtest_server.h"
#include "zbtest_temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace za = zerobus::arrow;

constexpr int32_t kWaitMs = 20000;

class ArrowStream : public ::testing::Test {
 protected:
  void SetUp() override { Start(0); }
  void TearDown() override { Stop(); }

  // A server reading at most `rows_per_second` rows a second per call (0: no limit), and an
  // SDK on it.
  void Start(double rows_per_second) {
    zbtest_server_options options{};
    options.schema = ZBTEST_ARROW_DDL "; main.default.json (id BIGINT)";
    options.data_dir = dir_.path().c_str();
    options.max_rows_per_second = rows_per_second;
    server_ = zbtest_server_start(&options);
    ASSERT_NE(server_, nullptr);
    zb_config *cfg = Config({"transport.plaintext", "true"});
    zb_error *err = nullptr;
    ASSERT_EQ(zb_sdk_new(zbtest_server_endpoint(server_), cfg, &sdk_, &err), ZB_OK)
        << zb_error_message(err);
    zb_config_destroy(cfg);
  }
  void Stop() {
    zb_sdk_destroy(sdk_);
    zbtest_server_stop(server_);
    sdk_ = nullptr;
    server_ = nullptr;
  }

  static zb_config *Config(const std::vector<std::string> &pairs) {
    zb_config *cfg = nullptr;
    EXPECT_EQ(zb_config_new(&cfg, nullptr), ZB_OK);
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
      EXPECT_EQ(zb_config_set(cfg, pairs[i].c_str(), pairs[i + 1].c_str(), nullptr), ZB_OK)
          << pairs[i];
    }
    return cfg;
  }

  // An Arrow stream into the test table with `pairs` set (recovery quick).
  zb_stream *Open(std::vector<std::string> pairs = {}) {
    pairs.insert(pairs.end(), {"recovery.backoff.ms", "1"});
    zb_config *cfg = Config(pairs);
    struct ArrowSchema schema;
    zbtest_arrow_schema(&schema);
    zb_stream *stream = nullptr;
    zb_error *err = nullptr;
    EXPECT_EQ(zb_stream_new_arrow(sdk_, ZBTEST_ARROW_TABLE, &schema, cfg, &stream, &err), ZB_OK)
        << zb_error_message(err);
    zb_error_free(err);
    schema.release(&schema);
    zb_config_destroy(cfg);
    return stream;
  }

  // Ingests `rows` rows from `first_id` as one batch; returns its offset.
  static uint64_t Ingest(zb_stream *stream, int64_t first_id, int64_t rows, int *released,
                         size_t name_bytes = 0) {
    struct ArrowArray batch;
    zbtest_arrow_batch(&batch, first_id, rows, name_bytes, released);
    uint64_t offset = UINT64_MAX;
    zb_error *err = nullptr;
    EXPECT_EQ(zb_stream_ingest_arrow(stream, &batch, &offset, &err), ZB_OK)
        << zb_error_message(err);
    zb_error_free(err);
    EXPECT_EQ(batch.release, nullptr);
    return offset;
  }

  static void Flush(zb_stream *stream) {
    zb_error *err = nullptr;
    ASSERT_EQ(zb_stream_flush(stream, kWaitMs, &err), ZB_OK) << zb_error_message(err);
  }

  // The table holds exactly the rows 0 .. rows-1, once each, in order.
  void ExpectRows(int64_t rows, size_t name_bytes = 0) {
    EXPECT_EQ(zbtest_server_record_count(server_, ZBTEST_ARROW_TABLE), rows);
    for (int64_t id = 0; id < rows; ++id) {
      const uint8_t *data = nullptr;
      size_t len = 0;
      ASSERT_TRUE(zbtest_server_record(server_, ZBTEST_ARROW_TABLE, id, &data, &len, nullptr));
      ASSERT_TRUE(zbtest_arrow_row_is(data, len, id, name_bytes)) << "row " << id;
    }
  }

  // gRPC lets go of a request's slices once they are on the socket, which is before the ack
  // that follows them: a release due at an ack has happened by then or very soon after.
  static void ExpectReleased(const int &released, int expected) {
    const auto deadline = Clock::now() + 5s;
    while (released < expected && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(released, expected);
  }

  zbtest::TempDir dir_;
  zbtest_server *server_ = nullptr;
  zb_sdk *sdk_ = nullptr;
};

TEST_F(ArrowStream, StoresRowsAcksOffsetsAndReleasesEachBatchOnce) {
  zb_stream *stream = Open();
  ASSERT_NE(stream, nullptr);
  int released = 0;
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(Ingest(stream, i * 100, 100, &released), uint64_t(i));
  Flush(stream);
  ExpectReleased(released, 5);
  zb_event events[8];
  size_t count = 0;
  ASSERT_EQ(zb_stream_poll(stream, events, sizeof(zb_event), 8, 0, &count, nullptr), ZB_OK);
  ASSERT_GE(count, 1u);
  EXPECT_EQ(events[count - 1].type, ZB_EVENT_ACK);
  EXPECT_EQ(events[count - 1].last_offset, 4u);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  ASSERT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  EXPECT_EQ(info.records_accepted, 5u);
  EXPECT_EQ(info.records_acked, 5u);
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(released, 5);
  ExpectRows(500);
}

class ArrowCompression : public ArrowStream, public ::testing::WithParamInterface<const char *> {};

TEST_P(ArrowCompression, StoresTheSameRows) {
  zb_stream *stream = Open({"arrow.compression", GetParam()});
  ASSERT_NE(stream, nullptr);
  int released = 0;
  for (int64_t i = 0; i < 3; ++i) Ingest(stream, i * 1000, 1000, &released, 40);
  Flush(stream);
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(released, 3);
  ExpectRows(3000, 40);
}

INSTANTIATE_TEST_SUITE_P(Codecs, ArrowCompression, ::testing::Values("none", "lz4_frame", "zstd"));

TEST_F(ArrowStream, SplitsABatchOverTheMessageLimitIntoFrames) {
  zb_stream *stream = Open();
  ASSERT_NE(stream, nullptr);
  int released = 0;
  // 1,400 rows, six in seven with a 10,000-byte name: 12 MB, over the 10 MiB a message may carry.
  EXPECT_EQ(Ingest(stream, 0, 1400, &released, 10000), 0u);
  Flush(stream);
  char *json = nullptr;
  ASSERT_EQ(zb_stream_stats_json(stream, &json, nullptr, nullptr), ZB_OK);
  const auto stats = nlohmann::json::parse(json);
  zb_string_free(json);
  EXPECT_GE(stats["wire"]["requests"].get<int64_t>(), 2);
  EXPECT_EQ(stats["wire"]["records"].get<int64_t>(), 1400);
  EXPECT_EQ(stats["record_type"], "arrow");
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(released, 1);
  ExpectRows(1400, 10000);
}

TEST_F(ArrowStream, ABrokenCallReplaysOnlyTheRowsOfABatchNotAcknowledged) {
  // Frames of at most 4 KiB: a batch of 400 rows of 32-byte names travels in about five, and
  // the server breaks the call at the frame that would take it past 200 rows. It reads a frame
  // only once the rows before it are paid for at 250 rows/s (some 300 ms a frame), so the acks
  // of those before it have gone out by then, even under ThreadSanitizer: the batch is
  // acknowledged in part. (An ack still pending when the call breaks is lost with it, and its
  // rows are sent again: at least once.)
  Stop();
  Start(250);
  zb_stream *stream = Open({"stream.max.request.bytes", "4096"});
  ASSERT_NE(stream, nullptr);
  zbtest_server_fail_after(server_, 200, 14, "injected break");
  int released = 0;
  EXPECT_EQ(Ingest(stream, 0, 400, &released, 32), 0u);
  Flush(stream);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  ASSERT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  EXPECT_EQ(info.recoveries, 1u);
  EXPECT_EQ(info.records_replayed, 1u);
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(released, 1);
  // Exactly once: the acknowledged rows were not sent again.
  ExpectRows(400, 32);
}

TEST_F(ArrowStream, HoldsABatchUntilItsAckAndThenReleasesIt) {
  zb_stream *stream = Open();
  ASSERT_NE(stream, nullptr);
  zbtest_server_withhold_acks(server_, true);
  int released = 0;
  const uint64_t offset = Ingest(stream, 0, 50, &released);
  ASSERT_TRUE(zbtest_server_wait_records(server_, ZBTEST_ARROW_TABLE, 50, kWaitMs));
  zb_error *err = nullptr;
  EXPECT_EQ(zb_stream_wait_for_offset(stream, offset, 100, &err), ZB_ERR_TIMEOUT);
  zb_error_free(err);
  EXPECT_EQ(released, 0);
  zbtest_server_withhold_acks(server_, false);
  Flush(stream);
  ExpectReleased(released, 1);
  zb_stream_destroy(stream);
  ExpectRows(50);
}

TEST_F(ArrowStream, ACloseSignalPausesReconnectsAndLosesNothing) {
  ASSERT_TRUE(zbtest_server_set_fault_plan(
      server_, ZBTEST_ARROW_TABLE, R"({"close_after_records": 300, "close_signal_ms": 2000})"));
  zb_stream *stream = Open();
  ASSERT_NE(stream, nullptr);
  int released = 0;
  for (int64_t i = 0; i < 10; ++i) Ingest(stream, i * 100, 100, &released);
  Flush(stream);
  // The signal came after the 300th row; once what was sent is acknowledged the stream ends the
  // call and reconnects (bounded: the pause lasts 2 s at most).
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  const auto deadline = Clock::now() + 10s;
  do {
    ASSERT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  } while (info.recoveries == 0 && Clock::now() < deadline &&
           (std::this_thread::sleep_for(1ms), true));
  EXPECT_GE(info.recoveries, 1u);
  for (int64_t i = 10; i < 20; ++i) Ingest(stream, i * 100, 100, &released);
  Flush(stream);
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(released, 20);
  // Nothing lost and, as the pause waited for every ack, nothing sent twice.
  ExpectRows(2000);
}

TEST_F(ArrowStream, ReconnectsWhenNoAckComesInTime) {
  zb_stream *stream = Open({"stream.ack.timeout.ms", "200"});
  ASSERT_NE(stream, nullptr);
  zbtest_server_withhold_acks(server_, true);
  int released = 0;
  Ingest(stream, 0, 100, &released);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  const auto deadline = Clock::now() + 10s;
  do {
    ASSERT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  } while (info.recoveries == 0 && Clock::now() < deadline &&
           (std::this_thread::sleep_for(1ms), true));
  EXPECT_GE(info.recoveries, 1u);
  EXPECT_EQ(released, 0);
  zbtest_server_withhold_acks(server_, false);
  Flush(stream);
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(released, 1);
  // Sent again on each new call: stored at least once (the server kept what it did not ack).
  EXPECT_GE(zbtest_server_record_count(server_, ZBTEST_ARROW_TABLE), 100);
}

// A headers provider's table name header does not redirect a Flight call: the library's comes
// last and is the only one.
zb_status OtherTableHeader(zb_headers *headers, void *) {
  return zb_headers_add(headers, "x-databricks-zerobus-table-name", "main.default.json", nullptr);
}

TEST_F(ArrowStream, NamesItsTableLastWhateverAProviderSetsAndItsUserAgent) {
  zb_config *cfg = Config({});
  ASSERT_EQ(zb_config_set_headers_provider(cfg, OtherTableHeader, nullptr, nullptr, nullptr),
            ZB_OK);
  struct ArrowSchema schema;
  zbtest_arrow_schema(&schema);
  zb_stream *stream = nullptr;
  zb_error *err = nullptr;
  ASSERT_EQ(zb_stream_new_arrow(sdk_, ZBTEST_ARROW_TABLE, &schema, cfg, &stream, &err), ZB_OK)
      << zb_error_message(err);
  schema.release(&schema);
  zb_config_destroy(cfg);
  int released = 0;
  Ingest(stream, 0, 10, &released);
  Flush(stream);
  zb_stream_destroy(stream);
  ExpectRows(10);
  const char *agent = nullptr;
  int64_t streams = 0;
  ASSERT_TRUE(zbtest_server_user_agent(server_, ZBTEST_ARROW_TABLE, 0, &agent, &streams));
  EXPECT_EQ(std::string(agent).rfind("libzerobus/", 0), 0u) << agent;
}

TEST_F(ArrowStream, TakesARepeatedAckOfNothingForWhatItIs) {
  // The server repeats its latest ack, {-1, 0 rows} before the first: the stream stays on its
  // call, and goes on once acks flow again.
  ASSERT_TRUE(
      zbtest_server_set_fault_plan(server_, ZBTEST_ARROW_TABLE, R"({"repeat_stale_ack_ms": 20})"));
  zb_stream *stream = Open();
  ASSERT_NE(stream, nullptr);
  int released = 0;
  Ingest(stream, 0, 10, &released);
  ASSERT_TRUE(zbtest_server_wait_records(server_, ZBTEST_ARROW_TABLE, 10, kWaitMs));
  zb_error *err = nullptr;
  EXPECT_EQ(zb_stream_flush(stream, 200, &err), ZB_ERR_TIMEOUT);
  zb_error_free(err);
  zbtest_server_clear_faults(server_);
  Flush(stream);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  ASSERT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  EXPECT_EQ(info.recoveries, 0u);
  zb_stream_destroy(stream);
  ExpectRows(10);
}

TEST_F(ArrowStream, RefusesASchemaThatDoesNotFitTheTableNamingTheColumn) {
  struct ArrowSchema schema;
  zbtest_arrow_schema(&schema);
  schema.children[1]->name = "title";
  zb_stream *stream = nullptr;
  zb_error *err = nullptr;
  zb_config *cfg = Config({"recovery.enable", "false"});
  EXPECT_EQ(zb_stream_new_arrow(sdk_, ZBTEST_ARROW_TABLE, &schema, cfg, &stream, &err),
            ZB_ERR_TRANSPORT);
  EXPECT_NE(std::string(zb_error_message(err)).find("title"), std::string::npos)
      << zb_error_message(err);
  zb_error_free(err);
  // A type no Delta column maps to is refused before any connection.
  schema.children[1]->name = "name";
  schema.children[1]->format = "I";
  EXPECT_EQ(zb_stream_new_arrow(sdk_, ZBTEST_ARROW_TABLE, &schema, cfg, &stream, &err),
            ZB_ERR_INVALID_SCHEMA);
  EXPECT_NE(std::string(zb_error_message(err)).find("name"), std::string::npos)
      << zb_error_message(err);
  zb_error_free(err);
  zb_config_destroy(cfg);
  schema.children[1]->format = "u";
  schema.release(&schema);
}

TEST_F(ArrowStream, RecordsAndBatchesGoToTheirOwnKindOfStream) {
  zb_stream *arrow = Open();
  ASSERT_NE(arrow, nullptr);
  zb_error *err = nullptr;
  EXPECT_EQ(zb_stream_ingest_json(arrow, "{\"id\":1}", 8, nullptr, &err), ZB_ERR_RECORD_TYPE);
  zb_error_free(err);
  zb_stream *json = nullptr;
  ASSERT_EQ(
      zb_stream_new(sdk_, "main.default.json", ZB_RECORD_JSON, nullptr, 0, nullptr, &json, nullptr),
      ZB_OK);
  int released = 0;
  struct ArrowArray batch;
  zbtest_arrow_batch(&batch, 0, 10, 0, &released);
  EXPECT_EQ(zb_stream_ingest_arrow(json, &batch, nullptr, &err), ZB_ERR_RECORD_TYPE);
  zb_error_free(err);
  EXPECT_EQ(batch.release, nullptr);
  EXPECT_EQ(released, 1);
  // A batch that contradicts the schema is refused, and released.
  zbtest_arrow_batch(&batch, 0, 10, 0, &released);
  batch.n_children = 1;
  EXPECT_EQ(zb_stream_ingest_arrow(arrow, &batch, nullptr, &err), ZB_ERR_INVALID_RECORD);
  zb_error_free(err);
  EXPECT_EQ(released, 2);
  zb_stream_destroy(json);
  zb_stream_destroy(arrow);
}

TEST_F(ArrowStream, IngestsACStreamAndIpcBytes) {
  zb_stream *stream = Open();
  ASSERT_NE(stream, nullptr);
  int released = 0;
  struct ArrowArrayStream batches;
  zbtest_arrow_stream(&batches, 0, 3, 100, &released);
  uint64_t last = 0;
  size_t count = 0;
  zb_error *err = nullptr;
  ASSERT_EQ(zb_stream_ingest_arrow_stream(stream, &batches, &last, &count, &err), ZB_OK)
      << zb_error_message(err);
  EXPECT_EQ(batches.release, nullptr);
  EXPECT_EQ(last, 2u);
  EXPECT_EQ(count, 3u);
  Flush(stream);
  ExpectReleased(released, 4);  // three batches and the C stream
  // The unacknowledged batches come back as IPC bytes, which the stream takes again.
  zbtest_server_withhold_acks(server_, true);
  Ingest(stream, 300, 100, &released);
  ASSERT_TRUE(zbtest_server_wait_records(server_, ZBTEST_ARROW_TABLE, 400, kWaitMs));
  zb_records *unacked = nullptr;
  ASSERT_EQ(zb_stream_unacked(stream, &unacked, nullptr), ZB_OK);
  ASSERT_EQ(zb_records_count(unacked), 1u);
  const void *ipc = nullptr;
  size_t ipc_len = 0;
  uint64_t offset = 0;
  ASSERT_EQ(zb_records_get(unacked, 0, &ipc, &ipc_len, &offset, nullptr), ZB_OK);
  EXPECT_EQ(offset, 3u);
  za::Schema schema;
  std::vector<za::RecordBatch> decoded;
  ASSERT_TRUE(za::ReadIpcStream(za::Buffer{static_cast<const uint8_t *>(ipc), ipc_len, nullptr},
                                za::ReadLimits(), &schema, &decoded)
                  .ok());
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].length, 100);
  zbtest_server_withhold_acks(server_, false);
  Flush(stream);
  ASSERT_EQ(zb_stream_ingest_arrow_ipc(stream, ipc, ipc_len, &last, &count, &err), ZB_OK)
      << zb_error_message(err);
  zb_records_free(unacked);
  EXPECT_EQ(last, 4u);
  EXPECT_EQ(count, 1u);
  ASSERT_EQ(zb_stream_close(stream, kWaitMs, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  EXPECT_EQ(zbtest_server_record_count(server_, ZBTEST_ARROW_TABLE), 500);
}

}  // namespace
