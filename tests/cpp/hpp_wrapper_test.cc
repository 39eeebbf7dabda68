// The C++ wrapper (include/zerobus/zerobus.hpp) against the local server: the rows it stores,
// the errors it throws, the callbacks it owns, and the timeouts it converts.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <zerobus/zerobus.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "zbtest_arrow.h"
#include "zbtest_event.h"
#include "zbtest_server.h"
#include "zbtest_temp_dir.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char *kTable = "main.default.events";
constexpr const char *kDdl = "main.default.events (id BIGINT, payload STRING)";

std::string Event(int64_t id, const char *payload) {
  std::string record(64, '\0');
  record.resize(
      zbtest_encode_event(id, payload, reinterpret_cast<uint8_t *>(record.data()), record.size()));
  return record;
}

zerobus::Bytes EventDescriptor() {
  const uint8_t *data = nullptr;
  size_t size = 0;
  zbtest_descriptor(&data, &size);
  return zerobus::Bytes(data, size);
}

// Runs `body` and returns the zerobus::Error it throws; fails the test if it throws none.
template <class Body>
zerobus::Error Thrown(Body body) {
  try {
    body();
  } catch (const zerobus::Error &error) {
    return error;
  }
  ADD_FAILURE() << "no zerobus::Error was thrown";
  return zerobus::Error(ZB_OK, "", false, -1);
}

// A server storing rows durably (so that they read back as JSON whatever the record type),
// with the Event table declared, and an SDK pointed at it.
class HppWrapperTest : public testing::Test {
 protected:
  void SetUp() override {
    zbtest_server_options options{};
    const std::string tables = std::string(kDdl) + "; " + ZBTEST_ARROW_DDL;
    options.schema = tables.c_str();
    options.reject_undeclared_tables = true;
    options.data_dir = dir_.path().c_str();
    server_ = zbtest_server_start(&options);
    ASSERT_NE(server_, nullptr);
    sdk_ = std::make_unique<zerobus::Sdk>(zbtest_server_endpoint(server_),
                                          zerobus::Config().set("transport.plaintext", true));
  }
  void TearDown() override {
    sdk_.reset();
    zbtest_server_stop(server_);
  }

  std::vector<json> Rows() const {
    std::vector<json> rows;
    const uint8_t *data = nullptr;
    size_t size = 0;
    for (int64_t i = 0; zbtest_server_record(server_, kTable, i, &data, &size, nullptr); ++i) {
      rows.push_back(json::parse(data, data + size));
    }
    return rows;
  }

  static json Row(int64_t id, const char *payload) { return {{"id", id}, {"payload", payload}}; }

  zbtest::TempDir dir_;
  zbtest_server *server_ = nullptr;
  std::unique_ptr<zerobus::Sdk> sdk_;
};

TEST_F(HppWrapperTest, JsonRecordsFromStringViewsAndContainersAreStored) {
  zerobus::Stream stream = sdk_->json_stream(kTable);
  EXPECT_EQ(stream.ingest_json(R"({"id": 0, "payload": "a"})"), 0u);
  const std::string owned = R"({"id": 1, "payload": "b"})";
  EXPECT_EQ(stream.ingest_json(owned), 1u);
  const std::vector<std::string> batch = {R"({"id": 2, "payload": "c"})",
                                          R"({"id": 3, "payload": "d"})"};
  EXPECT_EQ(stream.ingest_json_batch(batch), 3u);
  EXPECT_EQ(stream.ingest_json_batch({R"({"id": 4, "payload": "e"})"}), 4u);
  stream.flush(10s);
  EXPECT_EQ(stream.info().records_acked, 5u);
  stream.close(10s);
  EXPECT_EQ(Rows(),
            (std::vector<json>{Row(0, "a"), Row(1, "b"), Row(2, "c"), Row(3, "d"), Row(4, "e")}));
}

TEST_F(HppWrapperTest, ProtoRecordsFromByteRangesAreStored) {
  zerobus::Stream stream = sdk_->proto_stream(kTable, EventDescriptor());
  const std::string first = Event(0, "string");
  stream.ingest_proto(first);
  const std::string second = Event(1, "vector");
  stream.ingest_proto(std::vector<uint8_t>(second.begin(), second.end()));
  const std::string third = Event(2, "pointer and size");
  stream.ingest_proto(zerobus::Bytes(third.data(), third.size()));
  const std::list<std::string> batch = {Event(3, "x"), Event(4, "y")};
  const uint64_t last = stream.ingest_proto_batch(batch);
  EXPECT_EQ(last, 4u);
  stream.wait_for_offset(last, 10s);
  stream.close();
  EXPECT_EQ(Rows(), (std::vector<json>{Row(0, "string"), Row(1, "vector"),
                                       Row(2, "pointer and size"), Row(3, "x"), Row(4, "y")}));
}

TEST_F(HppWrapperTest, ArrowBatchesFromCDataAndAStreamAreStoredAndReleased) {
  struct ArrowSchema schema;
  zbtest_arrow_schema(&schema);
  zerobus::Stream stream = sdk_->arrow_stream(ZBTEST_ARROW_TABLE, &schema, zerobus::Config());
  schema.release(&schema);
  int released = 0;
  struct ArrowArray batch;
  zbtest_arrow_batch(&batch, 0, 10, 8, &released);
  EXPECT_EQ(stream.ingest_arrow(&batch), 0u);
  EXPECT_EQ(batch.release, nullptr);  // moved into the library
  struct ArrowArrayStream batches;
  zbtest_arrow_stream(&batches, 10, 3, 5, &released);
  EXPECT_EQ(stream.ingest_arrow_stream(&batches), 3u);
  // A record ingest on an Arrow stream is refused.
  EXPECT_EQ(Thrown([&] { stream.ingest_json("{}"); }).code(), ZB_ERR_RECORD_TYPE);
  stream.close(10s);
  EXPECT_EQ(stream.info().records_acked, 4u);
  const uint8_t *data = nullptr;
  size_t size = 0;
  for (int64_t id = 0; id < 25; ++id) {
    ASSERT_TRUE(zbtest_server_record(server_, ZBTEST_ARROW_TABLE, id, &data, &size, nullptr));
    // The batch's names are padded to 8 bytes, the C stream's are not.
    EXPECT_TRUE(zbtest_arrow_row_is(data, size, id, id < 10 ? 8 : 0)) << id;
  }
  EXPECT_FALSE(zbtest_server_record(server_, ZBTEST_ARROW_TABLE, 25, &data, &size, nullptr));
  // Each batch and the C stream released once: once acknowledged, and the stream at once.
  EXPECT_EQ(released, 1 + 3 + 1);
}

TEST_F(HppWrapperTest, ADescriptorWakeupIsWrittenWhenAcksWait) {
  int ends[2];
  ASSERT_EQ(pipe2(ends, O_NONBLOCK), 0);
  zerobus::Stream stream =
      sdk_->proto_stream(kTable, EventDescriptor(), zerobus::Config().wakeup_fd(ends[1], true));
  const uint64_t offset = stream.ingest_proto(Event(0, "woken"));
  pollfd readable{ends[0], POLLIN, 0};
  ASSERT_EQ(poll(&readable, 1, 10000), 1);
  const std::vector<zerobus::Event> events = stream.poll(1, 0ms);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].last_offset, offset);
  EXPECT_EQ(Thrown([] { zerobus::Config().wakeup_fd(-2, false); }).code(), ZB_ERR_INVALID_ARG);
  close(ends[0]);
}

TEST_F(HppWrapperTest, SchemaStreamEncodesJsonRecords) {
  const zerobus::Schema schema = zerobus::Schema::from_ddl(kDdl);
  EXPECT_EQ(schema.table_name(), kTable);
  EXPECT_NE(schema.proto_source().find("optional string payload = 2;"), std::string::npos);
  EXPECT_EQ(schema.encode_json(R"({"id": 7, "payload": "p"})"), Event(7, "p"));
  const zerobus::Error invalid = Thrown([&] { schema.encode_json(R"({"id": "seven"})"); });
  EXPECT_EQ(invalid.code(), ZB_ERR_INVALID_RECORD);

  zerobus::Stream stream = sdk_->stream(schema);
  stream.ingest_json(R"({"id": 0, "payload": "json"})");
  stream.ingest_proto(Event(1, "proto"));
  stream.close(10s);
  EXPECT_EQ(Rows(), (std::vector<json>{Row(0, "json"), Row(1, "proto")}));
}

TEST_F(HppWrapperTest, FailuresThrowErrorsWithTheirCodeAndGrpcStatus) {
  const zerobus::Error unknown_key = Thrown([] { zerobus::Config().set("no.such.key", 1); });
  EXPECT_EQ(unknown_key.code(), ZB_ERR_UNKNOWN_KEY);
  EXPECT_STREQ(unknown_key.name(), "ZB_ERR_UNKNOWN_KEY");
  EXPECT_NE(std::string(unknown_key.what()).find("no.such.key"), std::string::npos);

  // The server refuses a table it does not have, as the service does: NOT_FOUND, final.
  const zerobus::Error missing = Thrown([&] { sdk_->json_stream("main.default.missing"); });
  EXPECT_EQ(missing.code(), ZB_ERR_TRANSPORT);
  EXPECT_EQ(missing.grpc_status(), 5);
  EXPECT_FALSE(missing.retryable());

  zerobus::Stream stream = sdk_->json_stream(kTable);
  EXPECT_EQ(Thrown([&] { stream.ingest_proto(Event(0, "x")); }).code(), ZB_ERR_RECORD_TYPE);
  const std::vector<std::string> empty;
  EXPECT_EQ(Thrown([&] { stream.ingest_json_batch(empty); }).code(), ZB_ERR_EMPTY_BATCH);
  stream.close(10s);
  EXPECT_EQ(Thrown([&] { stream.ingest_json(R"({"id": 1})"); }).code(), ZB_ERR_CLOSED);

  // A moved-from object holds no handle; the C API answers that as a NULL handle.
  zerobus::Stream moved = std::move(stream);
  EXPECT_EQ(Thrown([&] { stream.flush(); }).code(), ZB_ERR_INVALID_ARG);
  EXPECT_EQ(moved.info().state, ZB_STREAM_CLOSED);
  zerobus::Config config;
  const zerobus::Config taken = std::move(config);
  EXPECT_EQ(Thrown([&] { config.on_event([](const zerobus::Event &) {}); }).code(),
            ZB_ERR_INVALID_ARG);
  EXPECT_EQ(Thrown([&] { config.set("recovery.retries", 1); }).code(), ZB_ERR_INVALID_ARG);
}

// adopt(): handles made through the C API, owned and destroyed by the objects that adopt them.
TEST_F(HppWrapperTest, AdoptedHandlesAreOwnedAndDestroyedByTheirObjects) {
  std::atomic<int> freed{0};
  zb_config *raw_config = nullptr;
  ASSERT_EQ(zb_config_new(&raw_config, nullptr), ZB_OK);
  ASSERT_EQ(zb_config_set_event_callback(
                raw_config, [](zb_stream *, const zb_event *, void *) {}, &freed,
                [](void *count) { ++*static_cast<std::atomic<int> *>(count); }, nullptr),
            ZB_OK);
  {
    zerobus::Config config = zerobus::Config::adopt(raw_config);
    config.set("transport.plaintext", true);
    zb_sdk *raw_sdk = nullptr;
    ASSERT_EQ(zb_sdk_new(zbtest_server_endpoint(server_), config.get(), &raw_sdk, nullptr), ZB_OK);
    const zerobus::Sdk sdk = zerobus::Sdk::adopt(raw_sdk);
    zb_schema *raw_schema = nullptr;
    ASSERT_EQ(zb_schema_from_ddl(kDdl, &raw_schema, nullptr), ZB_OK);
    const zerobus::Schema schema = zerobus::Schema::adopt(raw_schema);
    EXPECT_EQ(schema.table_name(), kTable);
    zb_stream *raw_stream = nullptr;
    ASSERT_EQ(
        zb_stream_new_from_schema(sdk.get(), schema.get(), config.get(), &raw_stream, nullptr),
        ZB_OK);
    zerobus::Stream stream = zerobus::Stream::adopt(raw_stream);
    stream.ingest_json(R"({"id": 7, "payload": "adopted"})");
    stream.close(10s);
    EXPECT_EQ(freed.load(), 0);
  }
  // The config and the stream each held the callback: both are destroyed.
  EXPECT_EQ(freed.load(), 1);
  EXPECT_EQ(Rows(), std::vector<json>{Row(7, "adopted")});
  // Adopting NULL gives an object that holds no handle, as a moved-from one.
  EXPECT_EQ(Thrown([] { zerobus::Stream::adopt(nullptr).flush(); }).code(), ZB_ERR_INVALID_ARG);
}

TEST_F(HppWrapperTest, UnackedRecordsSurviveATimedOutCloseAndGoAgainThroughRecreate) {
  zbtest_server_withhold_acks(server_, true);
  zerobus::Stream stream = sdk_->json_stream(kTable);
  stream.ingest_json_batch({R"({"id": 0, "payload": "a"})", R"({"id": 1, "payload": "b"})"});
  EXPECT_EQ(Thrown([&] { stream.flush(50ms); }).code(), ZB_ERR_TIMEOUT);
  EXPECT_EQ(Thrown([&] { stream.close(100ms); }).code(), ZB_ERR_TIMEOUT);

  const std::vector<zerobus::Record> unacked = stream.unacked();
  ASSERT_EQ(unacked.size(), 2u);
  EXPECT_EQ(unacked[0].offset, 0u);
  EXPECT_EQ(unacked[1].offset, 1u);
  EXPECT_EQ(unacked[1].data, R"({"id": 1, "payload": "b"})");

  // The withheld records may have been stored already (at-least-once); the recreated stream
  // stores them again, and its own acks come through.
  zbtest_server_withhold_acks(server_, false);
  zerobus::Stream again = stream.recreate();
  again.close(10s);
  const std::vector<json> rows = Rows();
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(std::vector<json>(rows.end() - 2, rows.end()),
            (std::vector<json>{Row(0, "a"), Row(1, "b")}));
}

TEST_F(HppWrapperTest, EventCallbackSeesEveryAckAndIsFreedWithTheLastHolder) {
  auto acked = std::make_shared<std::atomic<uint64_t>>(0);
  {
    zerobus::Config config;
    config.on_event([acked](const zerobus::Event &event) {
      if (event.type == zerobus::Event::Type::ack) *acked += event.record_count();
    });
    zerobus::Stream stream = sdk_->json_stream(kTable, config);
    for (int i = 0; i < 100; ++i) stream.ingest_json(R"({"id": 1, "payload": "p"})");
    // close() returns once the callback has seen the events so far.
    stream.close(10s);
    EXPECT_EQ(acked->load(), 100u);
    // The config and the stream each hold the callback's std::function, which holds `acked`.
    EXPECT_EQ(acked.use_count(), 2);
  }
  EXPECT_EQ(acked.use_count(), 1);
  EXPECT_EQ(Rows().size(), 100u);
}

TEST_F(HppWrapperTest, AnExceptionFromACallbackIsReportedAndGoesNoFurther) {
  std::atomic<int> calls{0};
  zerobus::Config config;
  config.on_event([&calls](const zerobus::Event &) {
    ++calls;
    throw std::runtime_error("callback failure");
  });
  testing::internal::CaptureStderr();
  {
    zerobus::Stream stream = sdk_->json_stream(kTable, config);
    stream.ingest_json(R"({"id": 0, "payload": "a"})");
    stream.close(10s);
  }
  const std::string stderr_text = testing::internal::GetCapturedStderr();
  EXPECT_GE(calls.load(), 1);
  EXPECT_NE(stderr_text.find("the event callback threw"), std::string::npos) << stderr_text;
  EXPECT_NE(stderr_text.find("callback failure"), std::string::npos) << stderr_text;
}

TEST_F(HppWrapperTest, AThrowingHeadersProviderFailsTheConnectionWithAuth) {
  zerobus::Config config;
  config.set("recovery.retries", 0);
  config.headers_provider([](zerobus::Headers &headers) {
    headers.add("x-example", "fine");
    headers.add("Not A Header Name", "refused");  // throws zerobus::Error
  });
  EXPECT_EQ(Thrown([&] { sdk_->json_stream(kTable, config); }).code(), ZB_ERR_AUTH);

  config.headers_provider([](zerobus::Headers &headers) { headers.add("x-example", "fine"); });
  sdk_->json_stream(kTable, config).close(10s);
}

TEST_F(HppWrapperTest, PollReturnsTheAcksOfAStreamWithoutCallback) {
  // The wakeup runs on a library thread once the queue turns non-empty; nobody polls before it
  // came, since a poll that empties the queue first may make it unnecessary.
  std::promise<void> woken;
  std::atomic<bool> first_wakeup{true};
  zerobus::Config config;
  config.on_wakeup([&] {
    if (first_wakeup.exchange(false)) woken.set_value();
  });
  zerobus::Stream stream = sdk_->proto_stream(kTable, EventDescriptor(), config);
  const uint64_t last = stream.ingest_proto_batch(
      std::array<std::string, 3>{Event(0, "a"), Event(1, "b"), Event(2, "c")});
  stream.flush(10s);
  ASSERT_EQ(woken.get_future().wait_for(10s), std::future_status::ready);
  // Acks are cumulative: whatever events they came in, the last one reaches the last offset.
  uint64_t watermark = 0;
  for (int polls = 0; polls < 10 && watermark < last; ++polls) {
    for (const zerobus::Event &event : stream.poll(16, 1s)) {
      EXPECT_EQ(event.type, zerobus::Event::Type::ack);
      EXPECT_FALSE(event.error.has_value());
      watermark = event.last_offset;
    }
  }
  EXPECT_EQ(watermark, last);
  EXPECT_TRUE(stream.poll(16, 0ms).empty());
  stream.close(10s);
  EXPECT_EQ(Rows().size(), 3u);
}

TEST_F(HppWrapperTest, LogMessagesReachTheCallbackUntilTheLastHolderIsGone) {
  struct Message {
    zerobus::LogLevel level;
    std::string component;
    std::string text;
  };
  std::mutex mutex;
  std::vector<Message> messages;
  {
    zerobus::Config config;
    config.set("transport.plaintext", true).set("log.level", "info");
    config.on_log([&](zerobus::LogLevel level, std::string_view component, std::string_view text) {
      const std::lock_guard<std::mutex> lock(mutex);
      messages.push_back({level, std::string(component), std::string(text)});
    });
    zerobus::Sdk sdk(zbtest_server_endpoint(server_), config);
    zerobus::Stream stream = sdk.json_stream(kTable);
    stream.ingest_json(R"({"id": 0, "payload": "logged"})");
    stream.close(10s);
  }
  // Config, SDK and stream are gone, so the callback can no longer run: no lock needed.
  ASSERT_FALSE(messages.empty());
  bool stream_reported = false;
  for (const Message &message : messages) {
    EXPECT_LE(static_cast<int32_t>(message.level), ZB_LOG_INFO) << message.text;
    if (message.component == "stream" && message.text.find(kTable) != std::string::npos) {
      stream_reported = true;
    }
  }
  EXPECT_TRUE(stream_reported);
}

TEST_F(HppWrapperTest, StatisticsComeAsJsonFromStreamSdkAndCallback) {
  std::promise<std::string> first_report;
  std::atomic<bool> first{true};
  zerobus::Config config;
  config.set("transport.plaintext", true).set("statistics.interval.ms", 20);
  config.on_statistics([&](std::string_view json_text) {
    if (first.exchange(false)) first_report.set_value(std::string(json_text));
  });
  zerobus::Sdk sdk(zbtest_server_endpoint(server_), config);
  zerobus::Stream stream = sdk.json_stream(kTable);
  stream.ingest_json_batch({R"({"id": 0})", R"({"id": 1})", R"({"id": 2})"});
  stream.flush(10s);

  const json stream_stats = json::parse(stream.statistics_json());
  EXPECT_EQ(stream_stats["table"], kTable);
  EXPECT_EQ(stream_stats["offsets"]["issued"], 3);
  EXPECT_EQ(stream_stats["offsets"]["acked"], 3);
  const json sdk_stats = json::parse(sdk.statistics_json());
  ASSERT_EQ(sdk_stats["streams"].size(), 1u);
  EXPECT_EQ(sdk_stats["streams"][0]["table"], kTable);

  std::future<std::string> report = first_report.get_future();
  ASSERT_EQ(report.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(json::parse(report.get()).contains("streams"));
  stream.close(10s);
}

TEST(HppWrapperTimeouts, RoundUpToMillisecondsAndStayInRange) {
  using zerobus::detail::timeout_ms;
  EXPECT_EQ(timeout_ms(0ms), 0);
  EXPECT_EQ(timeout_ms(-5s), 0);
  EXPECT_EQ(timeout_ms(1us), 1);
  EXPECT_EQ(timeout_ms(1500us), 2);
  EXPECT_EQ(timeout_ms(2s), 2000);
  EXPECT_EQ(timeout_ms(std::chrono::hours(24 * 365)), std::numeric_limits<int32_t>::max());
}

TEST(HppWrapperConfig, ValuesOfEveryTypeReadBack) {
  zerobus::Config config;
  config.set("recovery.retries", 7).set("transport.plaintext", true).set("auth.token", "t");
  EXPECT_EQ(config.get("recovery.retries"), "7");
  EXPECT_EQ(config.get("transport.plaintext"), "true");
  EXPECT_EQ(config.get("auth.token"), "[hidden]");
  const zerobus::Config copy = config.clone();
  config.set("recovery.retries", 1);
  EXPECT_EQ(copy.get("recovery.retries"), "7");
}

}  // namespace
