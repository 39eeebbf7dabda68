#include "core/stats.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/version.h"

namespace zerobus {
namespace {

using nlohmann::json;

int64_t MicrosSinceEpoch(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
}

json LatencyJson(const LatencyHistogram &latency) {
  return {{"count", latency.count()},
          {"min", latency.min()},
          {"max", latency.max()},
          {"mean", latency.count() ? latency.sum() / latency.count() : 0},
          {"p50", latency.Percentile(0.50)},
          {"p99", latency.Percentile(0.99)},
          {"p99_9", latency.Percentile(0.999)}};
}

json ErrorsJson(uint64_t count, const Status &last) {
  json last_json = nullptr;
  if (!last.ok()) {
    last_json = {{"code", static_cast<int32_t>(last.code())},
                 {"name", StatusName(last.code())},
                 {"grpc_status", last.grpc_status()},
                 {"retryable", last.retryable()},
                 {"message", last.message()}};
  }
  return {{"count", count}, {"last", std::move(last_json)}};
}

json StreamJson(const StreamStats &stats) {
  return {{"ts_us", MicrosSinceEpoch(stats.taken_at)},
          {"table", stats.table},
          {"record_type", stats.format == RecordFormat::kJson    ? "json"
                          : stats.format == RecordFormat::kAvro  ? "avro"
                          : stats.format == RecordFormat::kArrow ? "arrow"
                                                                 : "proto"},
          {"state", StreamStateName(stats.state)},
          {"server_stream_id", stats.server_stream_id},
          {"offsets",
           {{"issued", stats.offsets_issued},
            {"sent", stats.offsets_sent},
            {"acked", stats.offsets_acked}}},
          {"in_flight", {{"records", stats.records_in_flight}, {"bytes", stats.bytes_in_flight}}},
          {"recoveries", stats.recoveries},
          {"records_replayed", stats.records_replayed},
          {"errors", ErrorsJson(stats.errors, stats.last_error)},
          {"wire",
           {{"requests", stats.wire.requests_sent},
            {"records", stats.wire.records_sent},
            {"bytes", stats.wire.bytes_sent},
            {"acks", stats.wire.acks_received}}},
          {"ack_latency_us", LatencyJson(stats.ack_latency)}};
}

// Error messages may quote servers, which can send any bytes: what is not UTF-8 is replaced.
std::string Dump(const json &value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const char *StreamStateName(StreamState state) {
  switch (state) {
    case StreamState::kOpen:
      return "open";
    case StreamState::kRecovering:
      return "recovering";
    case StreamState::kPaused:
      return "paused";
    case StreamState::kFailed:
      return "failed";
    case StreamState::kClosed:
      return "closed";
  }
  return nullptr;
}

std::string StreamStatsJson(const StreamStats &stats) {
  return Dump(StreamJson(stats));
}

std::string SdkStatsJson(const std::string &endpoint, const std::vector<StreamStats> &streams) {
  json list = json::array();
  for (const StreamStats &stats : streams) list.push_back(StreamJson(stats));
  return Dump({{"ts_us", MicrosSinceEpoch(std::chrono::system_clock::now())},
               {"version", kVersionString},
               {"endpoint", endpoint},
               {"streams", std::move(list)}});
}

void StreamRegistry::Add(const StatsSource *stream) {
  sync::MutexLock lock(mu_);
  streams_.push_back(stream);
}

void StreamRegistry::Remove(const StatsSource *stream) {
  sync::MutexLock lock(mu_);
  streams_.erase(std::remove(streams_.begin(), streams_.end(), stream), streams_.end());
}

std::vector<StreamStats> StreamRegistry::Snapshot() const {
  sync::MutexLock lock(mu_);
  std::vector<StreamStats> all(streams_.size());
  for (size_t i = 0; i < streams_.size(); ++i) streams_[i]->Snapshot(&all[i]);
  return all;
}

}  // namespace zerobus
