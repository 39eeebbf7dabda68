// A stream into one table: accepts records from any number of threads, keeps them in the
// in-flight window until the server acknowledges them, and survives broken connections.
//
// Threads: callers (open, ingest, waits, close), gRPC's threads (the connection's writes, acks
// and end), the SDK's supervision threads (Supervise(): reconnects, the ack timeout, the end of
// a close signal's pause) and its dispatch threads (the event queue's callbacks). Everything
// mutable is guarded by mu_; no gRPC operation and no user code runs while it is held. The log
// callback runs on callers' threads (open, close, destroy) and in Supervise() (connections
// ending, recoveries, failures), never on gRPC's nor on ingest.
#ifndef ZEROBUS_CORE_STREAM_H
#define ZEROBUS_CORE_STREAM_H

#include <absl/functional/function_ref.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "arrow/model.h"
#include "core/batch_window.h"
#include "core/config.h"
#include "core/connection.h"
#include "core/event_queue.h"
#include "core/log.h"
#include "core/log_throttle.h"
#include "core/oauth.h"
#include "core/record_schema.h"
#include "core/scheduler.h"
#include "core/sdk.h"
#include "core/stats.h"
#include "core/status.h"
#include "core/stream_handle.h"
#include "core/stream_info.h"
#include "core/window.h"
#include "sync/mutex.h"

namespace zerobus {

// Checks that `config` names one source of credentials at most, and makes the OAuth token
// source when that source is a client id and secret or token federation (else leaves `*out`
// empty). ZB_ERR_INVALID_ARG otherwise.
Status MakeTokenSource(const Sdk &sdk, const std::string &table, const Config &config,
                       std::shared_ptr<TokenSource> *out);

// Where a lane of a LanedStream reports what its records become. Every call comes with the
// lane's mutex held, and may take the laned stream's own (lane first, then the laned stream:
// the laned stream never calls into a lane with its mutex held).
class LaneSink {
 public:
  // `count` records of `framed_bytes` went into the lane's window at lane offsets
  // `lane_first`.. in one unit. Returns the logical offset of the last.
  virtual uint64_t OnLaneAppended(size_t lane, uint64_t lane_first, size_t count,
                                  size_t framed_bytes) = 0;
  // The server acknowledged the lane's offsets up to `lane_last`.
  virtual void OnLaneAcked(size_t lane, uint64_t lane_last) = 0;
  // The lane failed for good with `why`.
  virtual void OnLaneFailed(size_t lane, const Status &why) = 0;
  // The lane's call became live (records flow) or stopped being so.
  virtual void OnLaneLive(size_t lane, bool live) = 0;

 protected:
  ~LaneSink() = default;
};

// One lane of a LanedStream: the sink it reports to, its index, and what every lane of the
// stream shares: the token source, and the memory of their windows.
struct LaneOf {
  LaneSink *sink;
  size_t index;
  std::shared_ptr<TokenSource> tokens;
  std::shared_ptr<SegmentPool> pool;
};

class Stream final : public StreamHandle, private ConnectionListener, private StatsSource {
 public:
  using Clock = std::chrono::steady_clock;

  // Opens a stream and returns once the server accepted it. `handle` is what event callbacks
  // receive as their stream. `schema`: see StreamHandle::OpenFromSchema().
  // `persistence`: whether the stream uses PersistentStream, and how (see Persistence).
  static Status OpenWith(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                         std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                         const Config &config, UserHandle handle, Persistence persistence,
                         std::unique_ptr<Stream> *out);
  // Opens lane `lane.index` of a LanedStream: it reports its offsets, acks and failure to
  // `lane.sink` instead of queueing events, and its offsets are its own, which the sink maps.
  // Not in the SDK's statistics (the laned stream is).
  static Status OpenLane(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                         std::string descriptor, const Config &config, LaneOf lane,
                         std::unique_ptr<Stream> *out);
  // Opens an Arrow stream (StreamHandle::OpenArrow()): DoPut on a channel of its own.
  static Status OpenArrow(std::shared_ptr<Sdk> sdk, std::string table_name,
                          std::shared_ptr<const arrow::Schema> schema, const Config &config,
                          UserHandle handle, std::unique_ptr<Stream> *out);

  ~Stream() override;

  Status Recreate(UserHandle handle, std::unique_ptr<StreamHandle> *out) const override;
  Status Ingest(const RecordView *records, size_t count, RecordFormat format,
                uint64_t *last_offset) override;
  Status IngestBatch(arrow::RecordBatch rows, uint64_t *offset) override;
  const arrow::Schema *arrow_schema() const override { return arrow_schema_.get(); }
  Status WaitForOffset(uint64_t offset, int32_t timeout_ms) override;
  Status Flush(int32_t timeout_ms) override;
  Status Poll(size_t capacity, int32_t timeout_ms, const EventQueue::Take &take,
              size_t *count) override;
  void CopyUnacked(std::vector<std::pair<uint64_t, std::string>> *out) const override;
  StreamInfo GetInfo() const override;
  void Snapshot(StreamStats *out) const override;
  PersistentInfo GetPersistentInfo() const override;
  // Ends the stream's connection and supervision at once, sending nothing more, and keeps its
  // unacknowledged records (a laned stream stops its other lanes after one failed).
  void Halt();

  // ZB_OK when `records` fit into one request, with their framed size (Window::CheckFits()).
  Status Frame(const RecordView *records, size_t count, size_t *framed) const {
    return CheckFitsUnlocked(records, count, framed);
  }

 private:
  // What the user may still do with the stream.
  enum class State { kOpen, kClosing, kClosed, kFailed };
  // Where the stream's connection is. Every change goes through MoveLocked(), which holds the
  // table of the changes allowed. Who makes them: Supervise() from kBackoff, kConnecting,
  // kRefused, kLive, kPaused and kDown; OnResponse() from kConnecting to kLive and from kLive to
  // kPaused; the writer from kLive or kPaused to kHalfClosed; OnDone() from a state with a call
  // to the one without that follows it.
  enum class Link {
    kBackoff,     // no call; the next attempt is due at retry_at_
    kConnecting,  // a call started; the server has not accepted the stream (attempt_deadline_)
    kAbandoning,  // kConnecting past its deadline: the call is being cancelled
    kLive,        // the server accepted the stream: records flow
    kPaused,      // kLive after a close signal: acks drain, nothing new is sent (pause_deadline_)
    kEnding,      // kLive or kPaused that Supervise() is ending: no ack in time, or the pause over
    kHalfClosed,  // kLive or kPaused with every record acknowledged: the close half-closed it
    kRefused,     // the call ended before the server accepted the stream: the attempt failed
    kDown,        // the call ended after the server accepted the stream
    kFinished,    // the call ended after the half-close
    kGone,        // no more connections: the stream failed, or could not open
  };
  // What the current call has done so far; each attempt starts from a fresh one.
  struct CallProgress {
    bool writer_busy = false;    // a write (or the half-close) is outstanding
    bool reads_ended = false;    // no more responses will come
    bool hold_released = false;  // the connection may end (Connection::ReleaseHold())
    // The server announced the end of the call (CloseStreamSignal): its end is planned.
    bool close_signalled = false;
    bool pause_logged = false;  // Supervise() has logged the close signal
  };
  // A line for the log callback, built by a ...Locked() function and written once mu_ is let go.
  struct PendingLog {
    LogLevel level;
    const char *component;
    bool throttled;  // a line about connections: LogConnection()
    std::function<std::string()> what;
  };
  using PendingLogs = std::vector<PendingLog>;

  // What a stream is opened with beyond its table and config: the record format and its
  // descriptor or writer schema, the schema JSON records are encoded with, and an Arrow
  // stream's schema (format kArrow).
  struct Kind {
    RecordFormat format;
    std::string descriptor;
    std::shared_ptr<const RecordSchema> schema;
    std::shared_ptr<const arrow::Schema> arrow_schema;
  };

  // OpenWith(), OpenLane() and OpenArrow(): `lane` is null but for a lane.
  static Status OpenChecked(std::shared_ptr<Sdk> sdk, std::string table_name, Kind kind,
                            const Config &config, UserHandle handle, const LaneOf *lane,
                            Persistence persistence, std::unique_ptr<Stream> *out);
  Stream(std::shared_ptr<Sdk> sdk, std::string table_name, Kind kind, const Config &config,
         UserHandle handle, std::shared_ptr<TokenSource> tokens, const LaneOf *lane,
         const Persistence &persistence);
  // The outbox of the stream's kind: a Window of records (with durable offsets for a persistent
  // stream), or a BatchWindow of Arrow batches.
  std::unique_ptr<Outbox> MakeOutbox(const LaneOf *lane) const;
  Window &record_window() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<Window &>(*window_);
  }
  const Window &record_window() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<const Window &>(*window_);
  }
  BatchWindow &batch_window() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<BatchWindow &>(*window_);
  }
  const BatchWindow &batch_window() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<const BatchWindow &>(*window_);
  }
  // Takes a unit of `count` offsets and `bytes` bytes into the window: waits for room as
  // stream.ingest.timeout.ms says, then `append` (with mu_ held) adds it and returns the offset
  // of its last, and the writer starts when idle. A FunctionRef, not a std::function: the
  // callers' lambdas hold more than std::function keeps without allocating, once per call.
  Status Admit(size_t count, size_t bytes, absl::FunctionRef<uint64_t()> append,
               uint64_t *last_offset);

  EventQueue &events() override { return events_; }

  // ConnectionListener, on gRPC's threads.
  void OnWriteDone(Connection *connection, bool ok) override;
  Status OnResponse(Connection *connection, const wire::Response &response) override;
  void OnReadsEnded(Connection *connection) override;
  void OnDone(Connection *connection, const Status &outcome) override;

  // Open(): runs Supervise() on the caller's thread until the server accepts the stream or the
  // attempts are spent, then hands the stream to the SDK's supervision threads.
  Status RunUntilOpen();
  // One round of supervision: acts on link_ until there is nothing to do but wait, and returns
  // when to look again at the latest (Clock::time_point::max(): only when woken). On the SDK's
  // supervision threads, one round at a time, or on the caller's thread in RunUntilOpen().
  Clock::time_point Supervise();
  // With mu_ held: moves link_ to `to`, which must be allowed to follow it (see Link).
  void MoveLocked(Link to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: has Supervise() look at the stream soon.
  void WakeSupervisorLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a gRPC call of the stream may still be running (OnDone has not come).
  bool CallAliveLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the server accepted the current call.
  bool AcceptedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A connection attempt, in Supervise(). Without mu_: requests the OAuth token (a new one
  // when `renew_token`), runs the headers provider and makes the connection. `*kept_token`:
  // the attempt presents a token it did not request itself; `*waits_for_ready`: the transport's
  // last connection failed for want of a server (gRPC's channel in TRANSIENT_FAILURE; the own
  // client's refused, unreachable or unresolved), so the call waits for a connection
  // (Transport::Open) instead of failing at once with the error of an earlier attempt.
  Status PrepareAttempt(std::string first_request, bool renew_token, bool *kept_token,
                        bool *waits_for_ready, std::shared_ptr<Connection> *connection);
  // With mu_ held: the first request of the next call: create_stream, or for a persistent
  // stream the server created or is to resume, resume_stream by its id.
  std::string FirstRequestLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: the server accepted the current call (created or resumed the stream as
  // `stream_id`). Takes the first request to write, if any, as TakeWriteLocked() does.
  bool AcceptLocked(const std::string &stream_id, grpc::ByteBuffer *request, bool *more_follows)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: the server resumed the persistent stream, every offset up to the watermark
  // in `response` committed.
  Status ResumedLocked(const wire::Response &response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: `acked` became durable (an ack, or a resume's watermark).
  void ReleasedLocked(const AckedRange &acked) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: makes `connection` the current one, to be started; the window is replayed
  // on it. Returns the previous connection, to be freed without mu_.
  std::shared_ptr<Connection> BeginAttemptLocked(std::shared_ptr<Connection> connection,
                                                 Clock::time_point deadline, bool kept_token,
                                                 bool waits_for_ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Without mu_: the error that ends an attempt the server did not accept by its deadline.
  Status AbandonReason() const;
  // With mu_ held: the outcome of the call the server never accepted (kRefused), with a hint
  // when it looks like a server that expects TLS.
  Status RefusalLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: an attempt failed with `failed`. Spends one attempt of the recovery budget
  // and plans the next (kBackoff), or gives up (GiveUpLocked()).
  void AttemptFailedLocked(const Status &failed, bool kept_token, PendingLogs *logs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: a line for the recovery the current connection made, once.
  void NoteRecoveryLocked(PendingLogs *logs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: the next attempt after `delay` (kBackoff), with a new OAuth token when
  // `renew_token`.
  void RetryLaterLocked(std::chrono::milliseconds delay, bool renew_token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: the accepted call ended (kDown): plans the reconnection, or gives up.
  void CallEndedLocked(PendingLogs *logs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held, kLive or kPaused: logs a recovery or a close signal once, and ends the call
  // when no ack came in time or the pause is over (returning the connection to fail with
  // `*end`); else *wake is when to look again.
  std::shared_ptr<Connection> WatchLiveLocked(Status *end, Clock::time_point *wake,
                                              PendingLogs *logs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: no more attempts. A stream that was open fails with `why` (FailLocked());
  // one being opened reports `why` to RunUntilOpen().
  void GiveUpLocked(const Status &why, PendingLogs *logs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Without mu_: writes what the ...Locked() functions had to say.
  void WriteLogs(PendingLogs *logs);

  // The pause a CloseStreamSignal asks for, capped by stream.paused.max.wait.ms.
  std::chrono::milliseconds PauseFor(int64_t server_ms) const;
  // With mu_ held: a connection (accepted) has ended. Spends one attempt of the recovery budget
  // unless it made progress, and tells whether to reconnect and after what delay, or why the
  // stream fails (a non-OK *why).
  bool PlanReconnectLocked(const Status &ended, bool renew_token, std::chrono::milliseconds *delay,
                           Status *why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The delay before connection attempt `attempt` (1 = the first retry): exponential, capped,
  // and randomized so that many clients do not reconnect in step.
  std::chrono::milliseconds Backoff(int64_t attempt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status CloseOnce(int32_t timeout_ms, bool *first) override;
  // A lane's close is not logged: its laned stream logs its own.
  void LogClosed(const Status &result) const override;
  // Logs a line about connections ending, failing or recovering, unless too many came lately
  // (LogThrottle). Not with mu_ held; in Supervise().
  template <typename MakeMessage>
  void LogConnection(LogLevel level, const char *component, MakeMessage what);
  // Whether `why` ended a connection because of an OAuth token a new one may replace.
  bool RenewsToken(const Status &why) const;
  // With mu_ held: the next request for the connection's idle writer, marking it busy; false
  // when there is none to write now. `more_follows`: another request is ready behind it
  // (Connection::Write()'s buffer hint).
  bool TakeWriteLocked(grpc::ByteBuffer *request, bool *more_follows)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ held: applies the server's cumulative ack `ack` (Outbox::Ack()).
  Status AckLocked(int64_t ack) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
  // batch without mu_, keeping that work out of the lock. ZB_ERR_RECORD_TYPE on an Arrow stream.
  Status CheckFitsUnlocked(const RecordView *records, size_t count,
                           size_t *framed) const ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // BatchWindow::Encode, likewise without mu_.
  Status EncodeUnlocked(arrow::RecordBatch rows,
                        EncodedBatch *out) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return batch_window().Encode(std::move(rows), out);
  }
  // Logs `what` about this stream (prefixed with its table) when `level` is enabled; `what` is
  // built only then. Never with mu_ held.
  template <typename MakeMessage>
  void Log(LogLevel level, const char *component, MakeMessage what) const {
    sdk_->logger().Log(level, component, [&] { return log_name_ + ": " + what(); });
  }
  // Waits on `cv` until `done` or the deadline; false on timeout.
  template <typename Predicate>
  bool WaitLocked(sync::UniqueLock &lock, std::condition_variable &cv, int32_t timeout_ms,
                  Predicate done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the connection and supervision and waits for both.
  void StopBackground();
  void Shutdown();

  const std::shared_ptr<Sdk> sdk_;
  const std::string table_name_;
  const RecordFormat format_;
  const std::string descriptor_;
  // What JSON records are encoded with; OpenFromSchema() only.
  const std::shared_ptr<const RecordSchema> schema_;
  const std::shared_ptr<const arrow::Schema> arrow_schema_;  // an Arrow stream's
  // EphemeralStream, PersistentStream (durable), or DoPut for an Arrow stream.
  const CallKind &call_kind_;
  const Config config_;  // for Recreate(); the stream reads settings_
  const Settings &settings_;
  const std::string create_request_;
  const std::unique_ptr<Transport> transport_;  // the SDK's channel, or the stream's own
  const std::shared_ptr<TokenSource> tokens_;   // with OAuth or federation only
  LaneSink *const sink_;                        // a lane's, else null
  const size_t lane_index_;
  const std::string log_name_;  // what log lines begin with: the table, and the lane of one

  mutable sync::Mutex mu_;
  std::condition_variable changed_;  // acks, state, connection events
  std::condition_variable room_;     // the window has room, or ingest must stop waiting
  const std::unique_ptr<Outbox> window_ ABSL_PT_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kOpen;
  Status failure_ ABSL_GUARDED_BY(mu_);  // kFailed: why
  bool close_done_ ABSL_GUARDED_BY(mu_) = false;
  Status close_result_ ABSL_GUARDED_BY(mu_);  // what the first close returned
  // Close has every record acknowledged: the writer half-closes the connection when idle.
  bool half_close_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // background work must end

  // Supervision: the SDK's task once the stream is open. Until then RunUntilOpen() runs
  // Supervise() itself and waits on supervisor_wake_ for woken_.
  std::shared_ptr<Scheduler::Task> supervisor_ ABSL_GUARDED_BY(mu_);
  std::condition_variable supervisor_wake_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool opening_ ABSL_GUARDED_BY(mu_) = true;  // RunUntilOpen() has not returned
  Status open_failure_ ABSL_GUARDED_BY(mu_);  // why the attempts to open the stream failed

  // The current connection, where it is, and its writer.
  std::shared_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
  Link link_ ABSL_GUARDED_BY(mu_) = Link::kBackoff;
  Clock::time_point retry_at_ ABSL_GUARDED_BY(mu_) = Clock::time_point::min();  // kBackoff
  bool renew_token_ ABSL_GUARDED_BY(mu_) = false;  // the next attempt requests a new token
  Clock::time_point attempt_deadline_ ABSL_GUARDED_BY(mu_);  // kConnecting
  bool attempt_kept_token_ ABSL_GUARDED_BY(mu_) = false;
  bool attempt_waits_for_ready_ ABSL_GUARDED_BY(mu_) = false;
  CallProgress call_ ABSL_GUARDED_BY(mu_);
  Status connection_outcome_ ABSL_GUARDED_BY(mu_);  // how the last call ended
  // The connection's last progress: an acknowledgement of new records, or the first request
  // sent with nothing unacknowledged. stream.ack.timeout.ms counts from here, so that messages
  // that acknowledge nothing new (a repeated watermark) do not keep a dead stream alive.
  Clock::time_point last_progress_ ABSL_GUARDED_BY(mu_);
  // When the server accepted the current connection
  Clock::time_point accepted_at_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_when_accepted_ ABSL_GUARDED_BY(mu_) = 0;  // window_.acked_count() then
  Clock::time_point pause_deadline_ ABSL_GUARDED_BY(mu_);  // kPaused
  // When the server said it would close the call
  int64_t close_signal_ms_ ABSL_GUARDED_BY(mu_) = 0;
  // The current connection recovers the stream: Supervise() logs it once accepted.
  bool recovery_to_log_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t replayed_before_recovery_ ABSL_GUARDED_BY(mu_) = 0;  // records_replayed_ then
  std::string server_stream_id_ ABSL_GUARDED_BY(mu_);           // of the current or last connection
  // What the current attempt counted in records_replayed_: sent on the call before it, not
  // acknowledged there. A resume takes back what it finds committed of them.
  uint64_t rewound_ ABSL_GUARDED_BY(mu_) = 0;
  // A persistent stream's durable id: the one to resume, or the one the server created.
  std::string persistent_id_ ABSL_GUARDED_BY(mu_);
  // A stream opened by resume: the watermark the first resume answered.
  bool resumed_at_open_ ABSL_GUARDED_BY(mu_) = false;
  bool resume_has_watermark_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t resume_watermark_ ABSL_GUARDED_BY(mu_) = 0;

  bool ever_connected_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t connections_accepted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t recoveries_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t records_replayed_ ABSL_GUARDED_BY(mu_) = 0;
  // Failed connection attempts and connections that ended in error
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  Status last_error_ ABSL_GUARDED_BY(mu_);

  // The recovery budget: connection attempts in a row that failed, accepted connections that
  // ended without progress included; progress resets it.
  int64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;
  std::minstd_rand jitter_ ABSL_GUARDED_BY(mu_);
  // Supervise()'s own, which runs one round at a time (and StopBackground()'s once it stopped
  // supervision): how many lines about connections were written lately, and what the last
  // connection attempt that reached the network was told, for the error of one that then waited
  // in vain for the server.
  LogThrottle connection_log_;
  std::string last_connect_error_;

  sync::Mutex close_mu_;  // serializes zb_stream_close()
  EventQueue events_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STREAM_H
