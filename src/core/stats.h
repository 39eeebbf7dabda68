// Statistics (zb_stream_stats_json(), zb_sdk_stats_json(), the statistics callback): what a
// stream counts, the SDK's list of its live streams, and their JSON (docs/STATISTICS.md).
#ifndef ZEROBUS_CORE_STATS_H
#define ZEROBUS_CORE_STATS_H

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/histogram.h"
#include "core/record_format.h"
#include "core/status.h"
#include "core/stream_info.h"
#include "sync/mutex.h"

namespace zerobus {

// What went on the wire and came back. Replayed requests count each time they are sent.
struct WireCounters {
  uint64_t requests_sent = 0;
  uint64_t records_sent = 0;
  uint64_t bytes_sent = 0;  // batch bodies: the records with their framing
  uint64_t acks_received = 0;
};

// One stream's figures at one moment.
struct StreamStats {
  std::chrono::system_clock::time_point taken_at;
  std::string table;
  RecordFormat format = RecordFormat::kProto;
  StreamState state = StreamState::kOpen;
  std::string server_stream_id;  // of the current or last connection
  uint64_t offsets_issued = 0;
  uint64_t offsets_sent = 0;  // offsets below this were sent at least once
  uint64_t offsets_acked = 0;
  uint64_t records_in_flight = 0;
  uint64_t bytes_in_flight = 0;
  uint64_t recoveries = 0;
  uint64_t records_replayed = 0;
  uint64_t errors = 0;
  Status last_error;  // ok when errors == 0
  WireCounters wire;
  LatencyHistogram ack_latency;  // from a request's write to its ack, since the stream opened
};

// The JSON of one stream, and of an SDK with its streams (docs/STATISTICS.md).
std::string StreamStatsJson(const StreamStats &stats);
std::string SdkStatsJson(const std::string &endpoint, const std::vector<StreamStats> &streams);

// A stream as the registry sees it.
class StatsSource {
 public:
  virtual void Snapshot(StreamStats *out) const = 0;

 protected:
  ~StatsSource() = default;
};

// The live streams of one SDK, in the order they opened. Thread-safe. Snapshot() locks each
// stream while the registry is locked: a stream must never add or remove itself while it holds
// its own lock.
class StreamRegistry {
 public:
  void Add(const StatsSource *stream);
  void Remove(const StatsSource *stream);
  std::vector<StreamStats> Snapshot() const;

 private:
  mutable sync::Mutex mu_;
  std::vector<const StatsSource *> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STATS_H
