// Statistics through the C API, read as a user's monitoring reads them: the JSON parses, its
// counters match what was ingested, sent and acknowledged, a recovery and its error show up,
// the SDK lists exactly its live streams, and the periodic callback keeps its interval and
// stops at zb_sdk_destroy(). The JSON is checked with nlohmann-json, as a C++ user would.
#include <gtest/gtest.h>
#include <zerobus/zerobus.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "zbtest_event.h"
#include "zbtest_server.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";
constexpr char kJsonTable[] = "main.default.json";

class Stats : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = zbtest_server_start(nullptr);
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { zbtest_server_stop(server_); }

  // A config with `pairs` ("key", "value", ...) set.
  static zb_config *Config(const std::vector<std::string> &pairs) {
    zb_config *cfg = nullptr;
    EXPECT_EQ(zb_config_new(&cfg, nullptr), ZB_OK);
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
      EXPECT_EQ(zb_config_set(cfg, pairs[i].c_str(), pairs[i + 1].c_str(), nullptr), ZB_OK)
          << pairs[i];
    }
    return cfg;
  }

  zb_sdk *NewSdk(zb_config *cfg) {
    zb_sdk *sdk = nullptr;
    zb_error *err = nullptr;
    EXPECT_EQ(zb_sdk_new(zbtest_server_endpoint(server_), cfg, &sdk, &err), ZB_OK)
        << zb_error_message(err);
    zb_error_free(err);
    return sdk;
  }

  zb_sdk *PlainSdk() {
    zb_config *cfg = Config({"transport.plaintext", "true"});
    zb_sdk *sdk = NewSdk(cfg);
    zb_config_destroy(cfg);
    return sdk;
  }

  static zb_stream *OpenProto(zb_sdk *sdk, const std::string &table = kTable) {
    const uint8_t *descriptor = nullptr;
    size_t descriptor_len = 0;
    zbtest_descriptor(&descriptor, &descriptor_len);
    zb_config *cfg = Config({"recovery.backoff.ms", "1"});
    zb_stream *stream = nullptr;
    zb_error *err = nullptr;
    EXPECT_EQ(zb_stream_new(sdk, table.c_str(), ZB_RECORD_PROTO, descriptor, descriptor_len, cfg,
                            &stream, &err),
              ZB_OK)
        << zb_error_message(err);
    zb_error_free(err);
    zb_config_destroy(cfg);
    return stream;
  }

  // Ingests Event records first .. first + count - 1 in batches of `batch`; returns their bytes.
  static uint64_t Ingest(zb_stream *stream, int64_t first, int count, int batch) {
    uint64_t bytes = 0;
    std::vector<std::vector<uint8_t>> records;
    for (int i = 0; i < count; i += batch) {
      records.clear();
      std::vector<const void *> pointers;
      std::vector<size_t> lens;
      for (int j = i; j < i + batch && j < count; ++j) {
        std::vector<uint8_t> record(64);
        record.resize(zbtest_encode_event(first + j, "statistics", record.data(), record.size()));
        bytes += record.size();
        records.push_back(std::move(record));
      }
      for (const auto &record : records) {
        pointers.push_back(record.data());
        lens.push_back(record.size());
      }
      EXPECT_EQ(zb_stream_ingest_proto_batch(stream, pointers.data(), lens.data(), pointers.size(),
                                             nullptr, nullptr),
                ZB_OK);
    }
    return bytes;
  }

  static json StreamStats(zb_stream *stream) {
    char *text = nullptr;
    size_t len = 0;
    EXPECT_EQ(zb_stream_stats_json(stream, &text, &len, nullptr), ZB_OK);
    EXPECT_EQ(std::string(text).size(), len);
    json parsed = json::parse(text, text + len);
    zb_string_free(text);
    return parsed;
  }

  static json SdkStats(zb_sdk *sdk) {
    char *text = nullptr;
    EXPECT_EQ(zb_sdk_stats_json(sdk, &text, nullptr, nullptr), ZB_OK);
    json parsed = json::parse(text);
    zb_string_free(text);
    return parsed;
  }

  // Checks the latency figures' presence and order.
  static void ExpectOrderedLatency(const json &latency, uint64_t count) {
    EXPECT_EQ(latency.at("count").get<uint64_t>(), count);
    const auto min = latency.at("min").get<uint64_t>(), p50 = latency.at("p50").get<uint64_t>(),
               p99 = latency.at("p99").get<uint64_t>(), p999 = latency.at("p99_9").get<uint64_t>(),
               max = latency.at("max").get<uint64_t>(), mean = latency.at("mean").get<uint64_t>();
    EXPECT_GT(min, 0u);  // a round trip over gRPC takes more than a microsecond
    EXPECT_LE(min, p50);
    EXPECT_LE(p50, p99);
    EXPECT_LE(p99, p999);
    EXPECT_LE(p999, max);
    EXPECT_LE(min, mean);
    EXPECT_LE(mean, max);
    // Nothing on loopback takes a minute.
    EXPECT_LT(max, 60u * 1000 * 1000);
  }

  zbtest_server *server_ = nullptr;
};

TEST_F(Stats, CountersMatchWhatWasIngestedAndAcknowledged) {
  zb_sdk *sdk = PlainSdk();
  zb_stream *stream = OpenProto(sdk);
  const int64_t before = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const uint64_t bytes = Ingest(stream, 0, 1000, 10);
  ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
  const json stats = StreamStats(stream);

  EXPECT_GE(stats.at("ts_us").get<int64_t>(), before);
  EXPECT_EQ(stats.at("table"), kTable);
  EXPECT_EQ(stats.at("record_type"), "proto");
  EXPECT_EQ(stats.at("state"), "open");
  EXPECT_FALSE(stats.at("server_stream_id").get<std::string>().empty());
  EXPECT_EQ(stats.at("offsets"), json({{"issued", 1000}, {"sent", 1000}, {"acked", 1000}}));
  EXPECT_EQ(stats.at("in_flight"), json({{"records", 0}, {"bytes", 0}}));
  EXPECT_EQ(stats.at("recoveries"), 0);
  EXPECT_EQ(stats.at("records_replayed"), 0);
  EXPECT_EQ(stats.at("errors"), json({{"count", 0}, {"last", nullptr}}));
  // What the server received is what the stream says it sent.
  const json &wire = stats.at("wire");
  EXPECT_EQ(wire.at("records"), 1000);
  EXPECT_EQ(wire.at("requests").get<int64_t>(), zbtest_server_requests(server_));
  EXPECT_GE(wire.at("acks").get<uint64_t>(), 1u);
  EXPECT_LE(wire.at("acks").get<uint64_t>(), wire.at("requests").get<uint64_t>());
  // Each record's bytes plus its tag and length.
  EXPECT_EQ(wire.at("bytes").get<uint64_t>(), bytes + 2 * 1000);
  // One latency per request, each request acknowledged.
  ExpectOrderedLatency(stats.at("ack_latency_us"), wire.at("requests").get<uint64_t>());

  // Records held back by the server are in flight, and only sent.
  zbtest_server_withhold_acks(server_, true);
  Ingest(stream, 1000, 5, 5);
  const Clock::time_point deadline = Clock::now() + 30s;
  json held;
  do {
    held = StreamStats(stream);
  } while (held.at("offsets").at("sent") != 1005 && Clock::now() < deadline);
  EXPECT_EQ(held.at("offsets"), json({{"issued", 1005}, {"sent", 1005}, {"acked", 1000}}));
  EXPECT_EQ(held.at("in_flight").at("records"), 5);
  EXPECT_GT(held.at("in_flight").at("bytes").get<uint64_t>(), 0u);
  zbtest_server_withhold_acks(server_, false);

  ASSERT_EQ(zb_stream_close(stream, 30000, nullptr), ZB_OK);
  EXPECT_EQ(StreamStats(stream).at("state"), "closed");
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
}

TEST_F(Stats, ARecoveryAndItsErrorAreCounted) {
  zb_sdk *sdk = PlainSdk();
  zb_stream *stream = OpenProto(sdk);
  Ingest(stream, 0, 10, 10);
  ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
  ASSERT_TRUE(zbtest_server_set_fault_plan(
      server_, kTable, R"({"fail_after_records": 5, "fail_status": "UNAVAILABLE"})"));
  Ingest(stream, 10, 10, 10);
  ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
  const json stats = StreamStats(stream);
  EXPECT_EQ(stats.at("recoveries"), 1);
  EXPECT_EQ(stats.at("records_replayed"), 10);
  EXPECT_EQ(stats.at("offsets").at("acked"), 20);
  // The 10 records sent twice.
  EXPECT_EQ(stats.at("wire").at("records"), 30);
  const json &errors = stats.at("errors");
  EXPECT_EQ(errors.at("count"), 1);
  const json &last = errors.at("last");
  EXPECT_EQ(last.at("code"), ZB_ERR_TRANSPORT);
  EXPECT_EQ(last.at("name"), "ZB_ERR_TRANSPORT");
  EXPECT_EQ(last.at("grpc_status"), 14);
  EXPECT_EQ(last.at("retryable"), true);
  EXPECT_NE(last.at("message").get<std::string>().find("UNAVAILABLE"), std::string::npos);
  // The replayed request's latency counts from its second write.
  ExpectOrderedLatency(stats.at("ack_latency_us"),
                       stats.at("wire").at("requests").get<uint64_t>() - 1);
  ASSERT_EQ(zb_stream_close(stream, 30000, nullptr), ZB_OK);
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
}

TEST_F(Stats, TheSdkListsEveryLiveStream) {
  zb_sdk *sdk = PlainSdk();
  json stats = SdkStats(sdk);
  EXPECT_EQ(stats.at("version"), zb_version_str());
  EXPECT_EQ(stats.at("endpoint"),
            std::string(zbtest_server_endpoint(server_)).substr(std::string("http://").size()));
  EXPECT_EQ(stats.at("streams"), json::array());

  zb_stream *proto = OpenProto(sdk);
  zb_stream *json_stream = nullptr;
  ASSERT_EQ(
      zb_stream_new(sdk, kJsonTable, ZB_RECORD_JSON, nullptr, 0, nullptr, &json_stream, nullptr),
      ZB_OK);
  Ingest(proto, 0, 3, 3);
  const char record[] = R"({"id": 1})";
  ASSERT_EQ(zb_stream_ingest_json(json_stream, record, sizeof record - 1, nullptr, nullptr), ZB_OK);
  ASSERT_EQ(zb_stream_flush(proto, 30000, nullptr), ZB_OK);
  ASSERT_EQ(zb_stream_flush(json_stream, 30000, nullptr), ZB_OK);

  stats = SdkStats(sdk);
  ASSERT_EQ(stats.at("streams").size(), 2u);
  EXPECT_EQ(stats.at("streams")[0].at("table"), kTable);
  EXPECT_EQ(stats.at("streams")[0].at("offsets").at("acked"), 3);
  EXPECT_EQ(stats.at("streams")[1].at("table"), kJsonTable);
  EXPECT_EQ(stats.at("streams")[1].at("record_type"), "json");
  EXPECT_EQ(stats.at("streams")[1].at("offsets").at("acked"), 1);

  zb_stream_destroy(proto);
  stats = SdkStats(sdk);
  ASSERT_EQ(stats.at("streams").size(), 1u);
  EXPECT_EQ(stats.at("streams")[0].at("table"), kJsonTable);
  zb_stream_destroy(json_stream);
  EXPECT_EQ(SdkStats(sdk).at("streams"), json::array());
  zb_sdk_destroy(sdk);
}

// What the statistics callback saw.
struct Reports {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Clock::time_point> times;
  std::vector<json> parsed;
  zb_sdk *expected_sdk = nullptr;
  int wrong_sdk = 0;
  bool ended = false;
  int after_end = 0;
  int freed = 0;

  static void Receive(zb_sdk *sdk, const char *text, size_t len, void *user_data) {
    auto *reports = static_cast<Reports *>(user_data);
    std::lock_guard<std::mutex> lock(reports->mu);
    if (sdk != reports->expected_sdk) ++reports->wrong_sdk;
    if (reports->ended) ++reports->after_end;
    reports->times.push_back(Clock::now());
    reports->parsed.push_back(json::parse(text, text + len, nullptr, false));
    reports->cv.notify_all();
  }
  static void Free(void *user_data) {
    auto *reports = static_cast<Reports *>(user_data);
    std::lock_guard<std::mutex> lock(reports->mu);
    ++reports->freed;
    reports->cv.notify_all();
  }
};

TEST_F(Stats, ThePeriodicCallbackKeepsItsIntervalAndStopsAtDestroy) {
  Reports reports;
  zb_config *cfg = Config({"transport.plaintext", "true", "statistics.interval.ms", "100"});
  ASSERT_EQ(zb_config_set_stats_callback(cfg, Reports::Receive, &reports, Reports::Free, nullptr),
            ZB_OK);
  const Clock::time_point created = Clock::now();
  zb_sdk *sdk = nullptr;
  {
    // The callback may fire before zb_sdk_new() returns the handle it will be given.
    std::lock_guard<std::mutex> lock(reports.mu);
    ASSERT_EQ(zb_sdk_new(zbtest_server_endpoint(server_), cfg, &sdk, nullptr), ZB_OK);
    reports.expected_sdk = sdk;
  }
  zb_config_destroy(cfg);
  zb_stream *stream = OpenProto(sdk);
  Ingest(stream, 0, 10, 10);
  ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
  {
    std::unique_lock<std::mutex> lock(reports.mu);
    ASSERT_TRUE(reports.cv.wait_for(lock, 30s, [&] { return reports.times.size() >= 4; }));
    EXPECT_EQ(reports.wrong_sdk, 0);
    // The first report one interval after the SDK was made, each next one an interval later
    // (less a little for the scheduler, as reports are due on a fixed cadence).
    EXPECT_GE(reports.times[0] - created, 95ms);
    for (size_t i = 1; i < reports.times.size(); ++i) {
      EXPECT_GE(reports.times[i] - reports.times[i - 1], 50ms) << i;
    }
    EXPECT_GE(reports.times[3] - reports.times[0], 290ms);
    for (const json &report : reports.parsed) {
      ASSERT_TRUE(report.is_object());
      EXPECT_TRUE(report.contains("ts_us"));
      EXPECT_TRUE(report.at("streams").is_array());
    }
    const json &latest = reports.parsed.back();
    ASSERT_EQ(latest.at("streams").size(), 1u);
    EXPECT_EQ(latest.at("streams")[0].at("offsets").at("acked"), 10);
  }
  // Streams outlive the SDK's handle; its statistics callback does not.
  zb_sdk_destroy(sdk);
  {
    std::lock_guard<std::mutex> lock(reports.mu);
    reports.ended = true;
    EXPECT_EQ(reports.freed, 1);
  }
  // Three intervals in which no report may come.
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard<std::mutex> lock(reports.mu);
    EXPECT_EQ(reports.after_end, 0);
  }
  ASSERT_EQ(zb_stream_close(stream, 30000, nullptr), ZB_OK);
  zb_stream_destroy(stream);
}

TEST_F(Stats, WithoutAnIntervalTheCallbackNeverRuns) {
  Reports reports;
  zb_config *cfg = Config({"transport.plaintext", "true"});
  ASSERT_EQ(zb_config_set_stats_callback(cfg, Reports::Receive, &reports, Reports::Free, nullptr),
            ZB_OK);
  zb_sdk *sdk = NewSdk(cfg);
  zb_config_destroy(cfg);
  std::this_thread::sleep_for(200ms);
  zb_sdk_destroy(sdk);
  std::lock_guard<std::mutex> lock(reports.mu);
  EXPECT_TRUE(reports.times.empty());
  EXPECT_EQ(reports.freed, 1);
}

void DestroyFromCallback(zb_sdk *sdk, const char *, size_t, void *user_data) {
  auto *reports = static_cast<Reports *>(user_data);
  {
    std::lock_guard<std::mutex> lock(reports->mu);
    if (reports->ended) {
      ++reports->after_end;
      return;
    }
    reports->ended = true;
  }
  zb_sdk_destroy(sdk);
  std::lock_guard<std::mutex> lock(reports->mu);
  reports->times.push_back(Clock::now());
  reports->cv.notify_all();
}

TEST_F(Stats, TheCallbackMayDestroyItsSdk) {
  Reports reports;
  zb_config *cfg = Config({"transport.plaintext", "true", "statistics.interval.ms", "10"});
  ASSERT_EQ(
      zb_config_set_stats_callback(cfg, DestroyFromCallback, &reports, Reports::Free, nullptr),
      ZB_OK);
  zb_sdk *sdk = NewSdk(cfg);
  ASSERT_NE(sdk, nullptr);
  zb_config_destroy(cfg);
  std::unique_lock<std::mutex> lock(reports.mu);
  // The registration is released once the callback has returned.
  ASSERT_TRUE(reports.cv.wait_for(lock, 30s, [&] { return reports.freed == 1; }));
  EXPECT_EQ(reports.times.size(), 1u);
  lock.unlock();
  std::this_thread::sleep_for(50ms);
  lock.lock();
  EXPECT_EQ(reports.after_end, 0);
}

TEST_F(Stats, BadArguments) {
  zb_error *err = nullptr;
  char *text = nullptr;
  size_t len = 0;
  EXPECT_EQ(zb_sdk_stats_json(nullptr, &text, &len, &err), ZB_ERR_INVALID_ARG);
  EXPECT_EQ(zb_error_code(err), ZB_ERR_INVALID_ARG);
  zb_error_free(err);
  EXPECT_EQ(zb_stream_stats_json(nullptr, &text, &len, nullptr), ZB_ERR_INVALID_ARG);
  EXPECT_EQ(text, nullptr);
  zb_sdk *sdk = PlainSdk();
  EXPECT_EQ(zb_sdk_stats_json(sdk, nullptr, &len, nullptr), ZB_ERR_INVALID_ARG);
  zb_stream *stream = OpenProto(sdk);
  EXPECT_EQ(zb_stream_stats_json(stream, nullptr, nullptr, nullptr), ZB_ERR_INVALID_ARG);
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  zb_string_free(nullptr);

  EXPECT_EQ(zb_config_set_stats_callback(nullptr, Reports::Receive, nullptr, nullptr, nullptr),
            ZB_ERR_INVALID_ARG);
  zb_config *cfg = Config({});
  for (const char *bad : {"-1", "86400001", "ten", "", "1.5"}) {
    EXPECT_EQ(zb_config_set(cfg, "statistics.interval.ms", bad, &err), ZB_ERR_INVALID_VALUE) << bad;
    EXPECT_NE(std::string(zb_error_message(err)).find("0 .. 86400000"), std::string::npos);
    zb_error_free(err);
  }
  EXPECT_EQ(zb_config_set(cfg, "statistics.interval.ms", "86400000", nullptr), ZB_OK);
  zb_config_destroy(cfg);
}

}  // namespace
