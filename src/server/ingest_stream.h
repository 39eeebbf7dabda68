// One EphemeralStream or PersistentStream call: the create_stream (or resume_stream)
// handshake, offset and record checks, storing records, and cumulative acknowledgements shaped
// by the fault settings. The two RPCs differ only in their first message, in the field numbers
// of their messages, and in that a persistent stream's offsets are durable.
#ifndef ZEROBUS_SERVER_INGEST_STREAM_H
#define ZEROBUS_SERVER_INGEST_STREAM_H

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/status.h>

#include "server/faults.h"
#include "server/ingest_request_view.h"
#include "server/log_sink.h"
#include "server/persistent_streams.h"
#include "server/record_decoder.h"
#include "server/row_store.h"
#include "server/stats.h"
#include "server/stream_registry.h"
#include "server/table_catalog.h"
#include "server/timer.h"
#include "server/token_issuer.h"
#include "sync/mutex.h"
#include "zerobus_service.pb.h"

namespace zerobus::server {

// What a call uses from its server. Everything outlives every call.
struct StreamEnv {
  RowStore *store = nullptr;  // null: null sink, records are counted and dropped
  Stats *stats = nullptr;
  Faults *faults = nullptr;
  Timer *timer = nullptr;
  StreamRegistry *registry = nullptr;
  PersistentLeases *leases = nullptr;
  const LogSink *log = nullptr;
  const TableCatalog *tables = nullptr;
  // With authentication on, the issuer of the tokens streams must present; null: off.
  const TokenIssuer *tokens = nullptr;
  // Records and requests larger than this are refused with INVALID_ARGUMENT.
  size_t max_message_bytes = 0;
  // How long a stream may live (zero: for ever), and how long before its end the server
  // announces it with CloseStreamSignal.
  std::chrono::milliseconds stream_lifetime{0};
  std::chrono::milliseconds close_signal_lead{0};
  // Per-stream limits (0: none): the call reads no faster than this.
  double max_rows_per_second = 0;
  double max_bytes_per_second = 0;
};

// Which RPC a call serves.
enum class StreamRpc { kEphemeral, kPersistent };

// The call reads and writes raw bytes: it scans the hot request, an ingest_record_batch, in
// place (ingest_request_view.h) and parses only the others into messages.
// Flight's DoPut (flight_put.h) is the same life in other messages: it derives from this class
// and replaces the reading of requests (HandleFirst, HandleIngest) and the writing of
// responses (SerializeResponse); the phases, acks, faults, limits and statistics are shared.
class IngestStreamCall : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  virtual ~IngestStreamCall() = default;

  // Creates the reactor for a new call, registers it and sends the response headers at once:
  // the official client waits for them before it sends create_stream. The reactor lives until
  // gRPC is done with the call (and any pending timer has fired).
  // `authorization` is the call's authorization header, if any; `user_agent` its user-agent
  // (the client's name and version, counted in the statistics and logged), if any.
  static grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *Start(
      const StreamEnv &env, StreamRpc rpc, std::string authorization, std::string user_agent);

  // Re-evaluates the call after a fault change: sends whatever the settings now allow and
  // resumes reading after a stall. Thread-safe.
  void Kick();

  void OnReadDone(bool ok) override;
  void HandleRead(bool ok);
  // gRPC orders one reaction after another with its own synchronization, which
  // ThreadSanitizer cannot see in Debian's uninstrumented build: an empty critical section at
  // both ends of each reaction, and order_mu_ held around every operation started, make that
  // order visible for two uncontended lock operations per reaction.
  void Fence();
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 protected:
  using Clock = std::chrono::steady_clock;

  IngestStreamCall(const StreamEnv &env, StreamRpc rpc, std::string authorization,
                   std::string user_agent)
      : env_(env),
        rpc_(rpc),
        authorization_(std::move(authorization)),
        user_agent_(std::move(user_agent)) {}

  // Registers a call just made, sends its response headers and starts its first read; returns
  // the reactor for gRPC.
  static grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *Begin(
      std::shared_ptr<IngestStreamCall> call);

  // Reader side: each returns the status to end the call with when the request is refused.
  // HandleFirst takes the call's first request: create_stream, or resume_stream (HandleResume).
  virtual grpc::Status HandleFirst();
  virtual grpc::Status HandleIngest();
  // Serializes response_ (and, for an ack, response_records_) into response_bytes_, in the
  // message of the call's protocol. Called by one writer at a time.
  virtual void SerializeResponse();

  // The request just read, in one piece: a view of its only slice, or of a copy when it came
  // in several. Valid until the next read.
  std::string_view RequestBytes();
  // The request just read, as views of the slices it came in, in order (none for an empty
  // request). Valid until the next read, and until the next call of this or RequestBytes.
  const std::vector<std::string_view> &RequestPieces();
  // Finds the table (table_ its own spelling; schema_ set), unless a fault refuses the stream.
  grpc::Status FindTable(const std::string &table_name);
  // The stream is accepted: counted, logged (`format` names its records), given its lifetime.
  void Accept(const std::string &format);
  // The request at offset next_offset_ (of `request_bytes` on the wire) passed its checks:
  // applies the faults, the rate limits and the close signal, then stores `batch`'s rows and
  // records (nothing when a fault refuses it) and acknowledges them once stored.
  grpc::Status AcceptRecords(int64_t records, size_t request_bytes, WriteBatch batch);

  const StreamEnv env_;
  const StreamRpc rpc_;
  const std::string authorization_;
  const std::string user_agent_;
  const table::TableSchema *schema_ = nullptr;  // null: an undeclared table, records unchecked
  int64_t next_offset_ = 0;
  // The response to send next, filled under mu_, and its bytes, owned by the write in flight
  // (write_in_flight_ keeps them the writer's outside mu_). With an ack, response_records_
  // counts the records of the call up to it.
  databricks::zerobus::EphemeralStreamResponse response_;
  int64_t response_records_ = 0;
  grpc::ByteBuffer response_bytes_;

 private:
  // The call's life, from the writer's side: what Pump may send, and when the call ends. The
  // phases are declared in the order a call goes through them (EndLocked and AbandonLocked
  // compare them). AdvanceLocked, the one place the phase changes, allows only these steps:
  //   kAwaitingCreate -> kAccepting   create_stream (or resume_stream) passed its checks
  //   kAccepting      -> kOpen        its response went out
  //   kOpen           -> kDraining    the client half-closed: end once all it sent is acked
  //   kAwaitingCreate, kAccepting, kOpen, kDraining -> kEnding
  //                                   the call is to end with end_status_ (a refusal, a failed
  //                                   store, the stream's end of life, a half-close before the
  //                                   stream was accepted); acks already due still go out
  //   every phase but kFinished -> kCancelled
  //                                   the call is dead (cancelled, or a write failed): nothing
  //                                   but Finish follows
  //   kDraining, kEnding, kCancelled -> kFinished   Finish was called
  enum class Phase {
    kAwaitingCreate,
    kAccepting,
    kOpen,
    kDraining,
    kEnding,
    kCancelled,
    kFinished
  };

  grpc::Status HandleResume();
  // Checks what creating and resuming have in common (the table, the stream refusal fault,
  // the descriptor or writer schema) and sets the call up to decode records.
  // `table_name` as the client spelt it, `type` known to be valid.
  grpc::Status OpenTable(const std::string &table_name, databricks::zerobus::RecordType type,
                         const std::string &descriptor_proto, const std::string &avro_schema_json);
  // Parses `bytes` into request_ (INVALID_ARGUMENT when they are not a request). A
  // PersistentStreamRequest is parsed into persistent_request_, whose create or ingest payload
  // then moves to request_, where the rest of the call reads it.
  grpc::Status ParseRequest(std::string_view bytes);
  // Views the ingest request in request_ in ingest_, refusing anything else.
  grpc::Status ViewParsedIngest();
  grpc::Status CheckOffset(bool present, int64_t offset) const;
  // Checks and decodes the records of ingest_; nothing is stored when this fails.
  grpc::Status CheckRecords(size_t request_bytes, std::vector<Row> *rows);
  // The store's answer for a request: acknowledge it, or fail the call. `total` counts the
  // records of the call up to this request's.
  void OnStored(Clock::time_point arrival, int64_t offset, int64_t records, int64_t total,
                const std::string &error);

  // Starts the next write or the Finish when one is due; the single place that decides what
  // goes out, so that writes never overlap and Finish never races a write.
  void Pump();
  // Reads the next request, unless the table is stalled (Kick resumes), the stream is over its
  // rate (a timer resumes), or the call is ending.
  void ContinueReading();
  // Charges a request to the rate limits; how long to wait before reading the next one.
  Clock::duration Throttle(int64_t records, size_t bytes);
  void OnTimer();
  // Lifetime: announce the end, then end the call.
  void OnCloseSignalDue(std::chrono::milliseconds duration);
  void OnCloseDeadline();
  // TakeDueAckLocked puts the newest ack that may go out now into response_;
  // TakeStaleAckLocked puts the latest ack sent once more, when a stale one is due;
  // ArmTimerLocked makes sure a Pump runs when the oldest delayed ack or the next stale one
  // falls due.
  bool TakeDueAckLocked(Clock::time_point now, const AckPolicy &policy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool TakeStaleAckLocked(Clock::time_point now, const AckPolicy &policy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmTimerLocked(Clock::time_point now, const AckPolicy &policy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the call to `next`; a step the Phase comment does not list is a bug.
  void AdvanceLocked(Phase next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The call is to end with `status`, unless how it ends is already decided.
  void EndLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The client half-closed its side of the call.
  void HalfClosedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The call is dead, so that nothing but Finish follows.
  void AbandonLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The create_stream response went out and the call has not begun to end: stale acks and a
  // close signal may go out.
  bool StreamingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<IngestStreamCall> self_;  // keeps the reactor alive until OnDone

  // Reader side only (reads never overlap); OnDone reads them after the last read ended.
  grpc::ByteBuffer request_bytes_;
  grpc::Slice request_slice_;                     // the last request's only slice, if it had one
  std::vector<grpc::Slice> request_slices_;       // a request in several slices,
  std::vector<std::string_view> request_pieces_;  // views of its slices,
  std::string request_flat_;                      // and its copy in one piece
  databricks::zerobus::EphemeralStreamRequest request_;  // a request that was not scanned
  databricks::zerobus::PersistentStreamRequest persistent_request_;
  IngestRequestView ingest_;  // the ingest request being handled, viewing one of the above
  bool created_ = false;      // create_stream was accepted: later requests are ingests
  // Written once by the reader, under mu_, which Pump holds to read it; the reader reads it
  // without.
  std::string table_;
  std::unique_ptr<RecordDecoder> decoder_;  // with a schema
  std::string stream_id_;
  databricks::zerobus::RecordType type_ = databricks::zerobus::RecordType::PROTO;
  Stats::Table *counters_ = nullptr;
  // A persistent stream: held until the call and its store writes are gone. Its offset_ids
  // continue across calls; resumed_ with the offset committed when it was resumed.
  std::unique_ptr<PersistentLeases::Lease> lease_;
  bool resumed_ = false;
  std::optional<int64_t> resumed_at_;
  int64_t records_ = 0;
  std::mt19937_64 generator_;  // for random faults, seeded per stream
  bool close_fault_fired_ = false;
  // Rate limits: when the stream will have paid for what it sent, at each limit's rate.
  Clock::time_point rows_paid_until_{};
  Clock::time_point bytes_paid_until_{};
  Clock::duration read_delay_{};  // set by HandleIngest, used by ContinueReading

  std::recursive_mutex order_mu_;
  sync::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitingCreate;
  // What the call ends with (kEnding, kCancelled), and then what Finish was given, for the log.
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
  // The latest ack sent: its offset, and the records of the call it covers.
  int64_t last_ack_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t last_ack_records_ ABSL_GUARDED_BY(mu_) = 0;
  // When a stale ack is next due (FaultPlan::repeat_stale_ack).
  Clock::time_point next_stale_ack_ ABSL_GUARDED_BY(mu_){};
  // Stored requests not yet acknowledged: when each arrived, its offset, and the records of the
  // call up to it.
  struct Unacked {
    Clock::time_point arrival;
    int64_t offset;
    int64_t total;
  };
  std::deque<Unacked> unacked_ ABSL_GUARDED_BY(mu_);
  int64_t storing_ ABSL_GUARDED_BY(mu_) = 0;  // requests handed to the store, not yet stored
  std::optional<Clock::time_point> timer_due_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;  // stalled: no read until Kick resumes
  // A CloseStreamSignal to send, announcing this duration; then the call ends after it.
  std::optional<std::chrono::milliseconds> close_signal_pending_ ABSL_GUARDED_BY(mu_);
  bool close_signal_sent_ ABSL_GUARDED_BY(mu_) = false;
  // OnCancel ran: the call was cancelled, perhaps after it had ended with OK, so that the phase
  // cannot tell.
  bool cancel_seen_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_INGEST_STREAM_H
