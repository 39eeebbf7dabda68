// A stream whose records travel over several server streams of one table (stream.lanes > 1),
// for more than one stream's quota behind one handle. Each lane is a Stream of its own (its
// call, window, recovery and backoff) that reports to this one instead of queueing events;
// this one keeps what the caller sees: one contiguous offset space, one cumulative watermark
// (every offset below it is durable, on whichever lane it went), one event queue, and the
// in-flight bounds for the handle as a whole.
//
// Records go to the live lane holding the fewest unacknowledged bytes (a lane that is
// reconnecting gets none while another is live), so a slow lane gets fewer. Rows of different
// lanes land in the table in no particular order. A lane that fails for good fails the handle:
// one error event covers every offset above the watermark (records other lanes made durable
// meanwhile included: at least once), ingest fails, the other lanes are stopped, and
// CopyUnacked() returns every record no lane got acknowledged, in offset order.
//
// Locks: a lane calls the LaneSink functions with its own mutex held, and they take mu_; so
// nothing here calls into a lane with mu_ held.
#ifndef ZEROBUS_CORE_LANED_STREAM_H
#define ZEROBUS_CORE_LANED_STREAM_H

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/scheduler.h"
#include "core/stream.h"
#include "core/stream_handle.h"
#include "sync/mutex.h"

namespace zerobus {

class LanedStream final : public StreamHandle, private LaneSink, private StatsSource {
 public:
  // Opens settings.lanes lanes, one after the other, and returns once the server accepted
  // every one; when one cannot open, the others are closed and its error returned.
  static Status Open(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                     std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                     const Config &config, UserHandle handle, std::unique_ptr<StreamHandle> *out);

  ~LanedStream() override;

  Status Recreate(UserHandle handle, std::unique_ptr<StreamHandle> *out) const override;
  Status Ingest(const RecordView *records, size_t count, RecordFormat format,
                uint64_t *last_offset) override;
  Status WaitForOffset(uint64_t offset, int32_t timeout_ms) override;
  Status Flush(int32_t timeout_ms) override;
  Status Poll(size_t capacity, int32_t timeout_ms, const EventQueue::Take &take,
              size_t *count) override;
  void CopyUnacked(std::vector<std::pair<uint64_t, std::string>> *out) const override;
  StreamInfo GetInfo() const override;
  void Snapshot(StreamStats *out) const override;

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { kOpen, kClosing, kClosed, kFailed };
  // Records that went into one lane in one unit: consecutive there and in the logical offsets.
  struct Chunk {
    uint64_t logical_first;
    uint64_t lane_first;
    size_t count;
    size_t framed_bytes;
  };
  // What this stream knows of one lane.
  struct LaneBook {
    std::deque<Chunk> unacked;  // in lane (and logical) offset order
    size_t bytes = 0;           // framed bytes routed to the lane and not acknowledged
    bool live = false;          // its call is live: records flow
  };

  LanedStream(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
              std::string descriptor, std::shared_ptr<const RecordSchema> schema,
              const Config &config, UserHandle handle);

  EventQueue &events() override { return events_; }

  // LaneSink, with the lane's mutex held.
  uint64_t OnLaneAppended(size_t lane, uint64_t lane_first, size_t count,
                          size_t framed_bytes) override;
  void OnLaneAcked(size_t lane, uint64_t lane_last) override;
  void OnLaneFailed(size_t lane, const Status &why) override;
  void OnLaneLive(size_t lane, bool live) override;

  // With mu_ held: the lane for the next records, the live one with the fewest unacknowledged
  // bytes, or the one with the fewest when none is live.
  size_t PickLaneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: the count of offsets acknowledged on every lane, the lowest offset still
  // unacknowledged on any of them.
  uint64_t WatermarkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: an error event for every offset above the watermark.
  void ReportUnackedLocked(const Status &why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status CloseOnce(int32_t timeout_ms, bool *first) override;
  void LogClosed(const Status &result) const override;
  // Stops every lane's connection and supervision, keeping their records. Not with mu_ held.
  void HaltLanes();
  template <typename Predicate>
  bool WaitLocked(sync::UniqueLock &lock, std::condition_variable &cv, int32_t timeout_ms,
                  Predicate done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename MakeMessage>
  void Log(LogLevel level, const char *component, MakeMessage what) const {
    sdk_->logger().Log(level, component, [&] { return table_name_ + ": " + what(); });
  }

  const std::shared_ptr<Sdk> sdk_;
  const std::string table_name_;
  const RecordFormat format_;
  const std::string descriptor_;
  const std::shared_ptr<const RecordSchema> schema_;  // OpenFromSchema() only
  const Config config_;                               // for Recreate()
  const size_t max_records_;
  const size_t max_bytes_;
  const int64_t ingest_timeout_ms_;
  // Filled by Open() before anyone else sees the stream; never changed after.
  std::vector<std::unique_ptr<Stream>> lanes_;
  bool registered_ = false;  // in the SDK's statistics: Open() succeeded

  mutable sync::Mutex mu_;
  std::condition_variable changed_;  // acks, state
  std::condition_variable room_;     // the window has room, or ingest must stop waiting
  std::vector<LaneBook> books_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kOpen;
  Status failure_ ABSL_GUARDED_BY(mu_);
  bool close_done_ ABSL_GUARDED_BY(mu_) = false;
  Status close_result_ ABSL_GUARDED_BY(mu_);
  uint64_t next_offset_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_count_ ABSL_GUARDED_BY(mu_) = 0;  // the watermark announced so far, plus one
  // Records and framed bytes in flight, those being handed to a lane included.
  size_t records_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Stops the other lanes once one failed, on the SDK's supervision threads.
  std::shared_ptr<Scheduler::Task> halter_ ABSL_GUARDED_BY(mu_);

  sync::Mutex close_mu_;  // serializes Close()
  EventQueue events_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_LANED_STREAM_H
