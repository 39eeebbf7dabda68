// A stream into one table: accepts records from any number of threads, keeps them in the
// in-flight window until the server acknowledges them, and survives broken connections.
//
// Threads: callers (ingest, waits, close), gRPC's threads (the connection's writes, acks and
// end), the supervisor (reconnects, the ack timeout), and the event queue's dispatcher (user
// callbacks). Everything mutable is guarded by mu_; no gRPC operation and no user code runs
// while it is held. The log callback runs on callers' threads (open, close, destroy) and on the
// supervisor (connections ending, recoveries, failures), never on gRPC's nor on ingest.
#ifndef ZEROBUS_CORE_STREAM_H
#define ZEROBUS_CORE_STREAM_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/connection.h"
#include "core/event_queue.h"
#include "core/log.h"
#include "core/log_throttle.h"
#include "core/oauth.h"
#include "core/record_schema.h"
#include "core/sdk.h"
#include "core/stats.h"
#include "core/status.h"
#include "core/stream_info.h"
#include "core/window.h"
#include "sync/mutex.h"

namespace zerobus {

// How messages name record `index` of a batch of `count`: "the record" when it is alone.
std::string RecordName(size_t index, size_t count);

class Stream final : private ConnectionListener, private StatsSource {
 public:
  using Clock = std::chrono::steady_clock;

  // Opens a stream and returns once the server accepted it. `handle` is what event callbacks
  // receive as their stream.
  static Status Open(std::shared_ptr<Sdk> sdk, std::string table_name, bool json,
                     std::string descriptor, const Config &config, UserHandle handle,
                     std::unique_ptr<Stream> *out);
  // Opens a stream of protobuf records of `schema`'s table that also takes JSON records,
  // encoding each with `schema` (zb_stream_new_from_schema()).
  static Status OpenFromSchema(std::shared_ptr<Sdk> sdk, std::shared_ptr<const RecordSchema> schema,
                               const Config &config, UserHandle handle,
                               std::unique_ptr<Stream> *out);

  // Frees the stream (see zb_stream_destroy()): from its own event callback the work happens
  // once the callback returns.
  static void Destroy(std::unique_ptr<Stream> stream);

  // zb_stream_recreate(): a new stream like this one, holding this one's unacknowledged
  // records. ZB_ERR_STATE unless this stream failed or was closed.
  Status Recreate(UserHandle handle, std::unique_ptr<Stream> *out) const;

  ~Stream() override;

  // Accepts `count` records, all or none. On a stream opened from a schema, JSON records are
  // encoded to protobuf first, every one before any is accepted (ZB_ERR_INVALID_RECORD naming
  // the first that does not fit).
  Status Ingest(const RecordView *records, size_t count, bool json, uint64_t *last_offset);
  Status WaitForOffset(uint64_t offset, int32_t timeout_ms);
  Status Flush(int32_t timeout_ms);
  Status Close(int32_t timeout_ms);
  // zb_stream_poll(): see EventQueue::Poll().
  Status Poll(size_t capacity, int32_t timeout_ms, const EventQueue::Take &take, size_t *count);
  void CopyUnacked(std::vector<std::pair<uint64_t, std::string>> *out) const;
  StreamInfo GetInfo() const;
  // The stream's statistics (zb_stream_stats_json()).
  void Snapshot(StreamStats *out) const override;

 private:
  enum class State { kOpen, kClosing, kClosed, kFailed };

  static Status OpenWith(std::shared_ptr<Sdk> sdk, std::string table_name, bool json,
                         std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                         const Config &config, UserHandle handle, std::unique_ptr<Stream> *out);
  Stream(std::shared_ptr<Sdk> sdk, std::string table_name, bool json, std::string descriptor,
         std::shared_ptr<const RecordSchema> schema, const Config &config, UserHandle handle,
         std::unique_ptr<TokenSource> tokens);

  // Ingest() of JSON records on a stream opened from a schema.
  Status IngestEncoded(const RecordView *records, size_t count, uint64_t *last_offset);

  // ConnectionListener, on gRPC's threads.
  void OnWriteDone(Connection *connection, bool ok) override;
  Status OnResponse(Connection *connection, const wire::Response &response) override;
  void OnReadsEnded(Connection *connection) override;
  void OnDone(Connection *connection, const Status &outcome) override;

  // The pause a CloseStreamSignal asks for, capped by stream.paused.max.wait.ms.
  std::chrono::milliseconds PauseFor(int64_t server_ms) const;
  // With mu_ held, on the supervisor: a connection (accepted) has ended. Spends one attempt of
  // the recovery budget unless it made progress, and tells whether to reconnect and after
  // what delay, or why the stream fails (a non-OK *why).
  bool PlanReconnectLocked(const Status &ended, bool renew_token, std::chrono::milliseconds *delay,
                           Status *why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The delay before connection attempt `attempt` (1 = the first retry): exponential, capped,
  // and randomized so that many clients do not reconnect in step.
  std::chrono::milliseconds Backoff(int64_t attempt);
  // Close() but for delivering the events: once per stream, serialized. `*first` tells whether
  // this call did the closing.
  Status CloseOnce(int32_t timeout_ms, bool *first);
  // Opens a connection and waits until the server accepts the stream; at most one connection
  // lives at a time. Retries as recovery.* says, and once more with a new OAuth token when the
  // server refused a kept one, within the budget failed_attempts_ has left. `renew_token`: the
  // first attempt requests a new token; `delay`: how long to wait before it.
  Status Connect(bool renew_token, std::chrono::milliseconds delay);
  // One attempt. It never fails with an error gRPC cached from an earlier one: on a channel in
  // TRANSIENT_FAILURE it resets gRPC's reconnect backoff and waits for a connection, within
  // recovery.timeout.ms. `*kept_token`: the attempt presented an OAuth token it did not request
  // itself.
  Status ConnectOnce(bool renew_token, bool *kept_token);
  // Logs a line about connections ending, failing or recovering, unless too many came lately
  // (LogThrottle). Not with mu_ held; on the supervisor, or on the caller's thread in Open().
  template <typename MakeMessage>
  void LogConnection(LogLevel level, const char *component, MakeMessage what);
  // Whether `why` ended a connection because of an OAuth token a new one may replace.
  bool RenewsToken(const Status &why) const;
  // With mu_ held: the next request for the connection's idle writer, marking it busy.
  SegmentPtr TakeWriteLocked(int64_t *wire_offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: whether the idle writer is to half-close the live connection now, marking
  // it busy; at most once per connection.
  bool TakeHalfCloseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // CloseOnce() once every record is acknowledged: half-closes the live connection and waits
  // until `deadline` for the server to end the call. Logs a call that did not end with OK.
  // Not analysed (-Wthread-safety): it lets the caller's lock go and takes it back, which the
  // analysis cannot follow through a parameter.
  void EndCallGracefully(sync::UniqueLock &lock, Clock::time_point deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // With mu_ held: the stream fails for good with `why`; error event for what is unacked.
  void FailLocked(const Status &why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: counts an error for the statistics.
  void NoteErrorLocked(const Status &error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: the state as zb_stream_info and the statistics name it.
  StreamState PublicStateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Window::CheckFits reads only the window's limits, which never change: Ingest checks a
  // batch without mu_, keeping that work out of the lock.
  Status CheckFitsUnlocked(const RecordView *records, size_t count,
                           size_t *framed) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return window_.CheckFits(records, count, framed);
  }
  // Logs `what` about this stream (prefixed with its table) when `level` is enabled; `what` is
  // built only then. Never with mu_ held.
  template <typename MakeMessage>
  void Log(LogLevel level, const char *component, MakeMessage what) const {
    sdk_->logger().Log(level, component, [&] { return table_name_ + ": " + what(); });
  }
  // Waits on `cv` until `done` or the deadline; false on timeout.
  template <typename Predicate>
  bool WaitLocked(sync::UniqueLock &lock, std::condition_variable &cv, int32_t timeout_ms,
                  Predicate done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Supervise();
  // Ends the connection and the supervisor and waits for both.
  void StopBackground();
  void Shutdown();

  const std::shared_ptr<Sdk> sdk_;
  const std::string table_name_;
  const bool json_;
  const std::string descriptor_;
  // What JSON records are encoded with; OpenFromSchema() only.
  const std::shared_ptr<const RecordSchema> schema_;
  const Config config_;  // for Recreate(); the stream reads settings_
  const Settings &settings_;
  const std::string create_request_;
  const std::shared_ptr<grpc::Channel> channel_;  // the SDK's, or the stream's own
  const std::unique_ptr<TokenSource> tokens_;     // with OAuth client credentials only

  mutable sync::Mutex mu_;
  std::condition_variable changed_;  // acks, state, connection events
  std::condition_variable room_;     // the window has room, or ingest must stop waiting
  // Only what the supervisor acts on at once: the connection's end, stopping, a close signal
  // and, while paused, acks. It looks at the ack timeout on its own schedule, so that a
  // request sent after a lull and every ack cost no thread wakeup of theirs.
  std::condition_variable supervisor_wake_;
  Window window_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kOpen;
  Status failure_ ABSL_GUARDED_BY(mu_);  // kFailed: why
  bool close_done_ ABSL_GUARDED_BY(mu_) = false;
  Status close_result_ ABSL_GUARDED_BY(mu_);  // what the first close returned
  // Close has every record acknowledged: the writer half-closes the connection when idle.
  bool half_close_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // background work must end

  // The current connection and its writer.
  std::shared_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
  bool connection_ready_ ABSL_GUARDED_BY(mu_) = false;  // the server accepted the stream on it
  bool writer_busy_ ABSL_GUARDED_BY(mu_) = false;       // a write is outstanding
  bool reads_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  // The writer half-closed this connection (WritesDone)
  bool half_closed_ ABSL_GUARDED_BY(mu_) = false;
  // OnDone came (or there never was a connection)
  bool connection_done_ ABSL_GUARDED_BY(mu_) = true;
  Status connection_outcome_ ABSL_GUARDED_BY(mu_);
  // The connection's last progress: an acknowledgement of new records, or the first request
  // sent with nothing unacknowledged. stream.ack.timeout.ms counts from here, so that messages
  // that acknowledge nothing new (a repeated watermark) do not keep a dead stream alive.
  Clock::time_point last_progress_ ABSL_GUARDED_BY(mu_);
  // When the server accepted the current connection
  Clock::time_point accepted_at_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_when_accepted_ ABSL_GUARDED_BY(mu_) = 0;  // window_.acked_count() then
  // The server sent CloseStreamSignal: drain, then reconnect
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point pause_deadline_ ABSL_GUARDED_BY(mu_);
  // When the server said it would close the call
  int64_t close_signal_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool pause_logged_ ABSL_GUARDED_BY(mu_) = false;     // the supervisor has logged the close signal
  std::string server_stream_id_ ABSL_GUARDED_BY(mu_);  // of the current or last connection

  bool ever_connected_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t connections_accepted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t recoveries_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t records_replayed_ ABSL_GUARDED_BY(mu_) = 0;
  // Failed connection attempts and connections that ended in error
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  Status last_error_ ABSL_GUARDED_BY(mu_);

  // The recovery budget: connection attempts in a row that failed, accepted connections that
  // ended without progress included; progress resets it. With LogThrottle and jitter_, the
  // supervisor's own (and Open()'s, before the supervisor starts).
  int64_t failed_attempts_ = 0;
  LogThrottle connection_log_;
  // What the last connection attempt that reached the network was told, for the error of one
  // that then waited in vain for the server.
  std::string last_connect_error_;

  sync::Mutex close_mu_;  // serializes zb_stream_close()
  std::minstd_rand jitter_;
  std::thread supervisor_;
  EventQueue events_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STREAM_H
