// One EphemeralStream call: the create_stream handshake, offset and record checks, storing
// records, and cumulative acknowledgements shaped by the fault settings.
#ifndef ZEROBUS_SERVER_EPHEMERAL_STREAM_H
#define ZEROBUS_SERVER_EPHEMERAL_STREAM_H

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
#include "server/record_decoder.h"
#include "server/row_store.h"
#include "server/stats.h"
#include "server/stream_registry.h"
#include "server/table_catalog.h"
#include "server/timer.h"
#include "server/token_issuer.h"
#include "zerobus_service.pb.h"

namespace zerobus::server {

// What a call uses from its server. Everything outlives every call.
struct StreamEnv {
  RowStore *store = nullptr;  // null: null sink, records are counted and dropped
  Stats *stats = nullptr;
  Faults *faults = nullptr;
  Timer *timer = nullptr;
  StreamRegistry *registry = nullptr;
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

// The call reads and writes raw bytes: it scans the hot request, an ingest_record_batch, in
// place (ingest_request_view.h) and parses only the others into messages.
class EphemeralStreamCall : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Creates the reactor for a new call, registers it and sends the response headers at once:
  // the official client waits for them before it sends create_stream. The reactor lives until
  // gRPC is done with the call (and any pending timer has fired).
  // `authorization` is the call's authorization header, if any; `client` its x-zerobus-sdk
  // header (the client's name and version, for the log), if any.
  static grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *Start(
      const StreamEnv &env, std::string authorization, std::string client);

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

 private:
  using Clock = std::chrono::steady_clock;

  EphemeralStreamCall(const StreamEnv &env, std::string authorization, std::string client)
      : env_(env), authorization_(std::move(authorization)), client_(std::move(client)) {}

  // Reader side: each returns the status to end the call with when the request is refused.
  grpc::Status HandleCreate();
  grpc::Status HandleIngest();
  // The request just read, in one piece: a view of its only slice, or of a copy when it came
  // in several. Valid until the next read.
  std::string_view RequestBytes();
  // Parses `bytes` into request_ (INVALID_ARGUMENT when they are not a request).
  grpc::Status ParseRequest(std::string_view bytes);
  // Views the ingest request in request_ in ingest_, refusing anything else.
  grpc::Status ViewParsedIngest();
  grpc::Status CheckOffset(bool present, int64_t offset) const;
  // Checks and decodes the records of ingest_; nothing is stored when this fails.
  grpc::Status CheckRecords(size_t request_bytes, std::vector<Row> *rows);
  // The store's answer for a request: acknowledge it, or fail the call.
  void OnStored(Clock::time_point arrival, int64_t offset, int64_t records,
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
  // These four are called with mu_ held. TakeDueAck puts the newest ack that may go out now
  // into response_; TakeStaleAck puts the latest ack sent once more, when a stale one is due;
  // ArmTimer makes sure a Pump runs when the oldest delayed ack or the next stale one falls
  // due; Abandon records that the call is dead, so that nothing but Finish follows.
  bool TakeDueAck(Clock::time_point now, const AckPolicy &policy);
  bool TakeStaleAck(Clock::time_point now, const AckPolicy &policy);
  void ArmTimer(Clock::time_point now, const AckPolicy &policy);
  void Abandon();

  const StreamEnv env_;
  const std::string authorization_;
  const std::string client_;
  std::shared_ptr<EphemeralStreamCall> self_;  // keeps the reactor alive until OnDone

  // Reader side only (reads never overlap); OnDone reads them after the last read ended.
  grpc::ByteBuffer request_bytes_;
  grpc::Slice request_slice_;                // the last request's only slice, if it had one
  std::vector<grpc::Slice> request_slices_;  // a request in several slices,
  std::string request_flat_;                 // and its copy in one piece
  databricks::zerobus::EphemeralStreamRequest request_;  // a request that was not scanned
  IngestRequestView ingest_;  // the ingest request being handled, viewing one of the above
  bool created_ = false;
  std::string table_;  // written once, under mu_, which Pump holds to read it
  const table::TableSchema *schema_ = nullptr;  // null: an undeclared table, records unchecked
  std::unique_ptr<RecordDecoder> decoder_;      // with a schema
  std::string stream_id_;
  databricks::zerobus::RecordType type_ = databricks::zerobus::RecordType::PROTO;
  Stats::Table *counters_ = nullptr;
  int64_t next_offset_ = 0;
  int64_t records_ = 0;
  std::mt19937_64 generator_;  // for random faults, seeded per stream
  bool close_fault_fired_ = false;
  // Rate limits: when the stream will have paid for what it sent, at each limit's rate.
  Clock::time_point rows_paid_until_{};
  Clock::time_point bytes_paid_until_{};
  Clock::duration read_delay_{};  // set by HandleIngest, used by ContinueReading

  std::recursive_mutex order_mu_;
  std::mutex mu_;
  // The response to send next, filled under mu_, and its bytes, owned by the write in flight.
  databricks::zerobus::EphemeralStreamResponse response_;
  grpc::ByteBuffer response_bytes_;
  bool create_response_pending_ = false;
  bool accepted_ = false;  // the create_stream response has gone out
  int64_t last_ack_ = -1;  // the offset of the latest ack sent
  // When a stale ack is next due (FaultPlan::repeat_stale_ack).
  Clock::time_point next_stale_ack_{};
  // Stored requests not yet acknowledged: when each arrived, and its offset.
  std::deque<std::pair<Clock::time_point, int64_t>> unacked_;
  int64_t storing_ = 0;  // requests handed to the store and not yet stored
  std::optional<Clock::time_point> timer_due_;
  bool write_in_flight_ = false;
  bool read_paused_ = false;  // stalled: no read outstanding until Kick resumes
  // A CloseStreamSignal to send, announcing this duration; then the call ends after it.
  std::optional<std::chrono::milliseconds> close_signal_pending_;
  bool close_signal_sent_ = false;
  bool reads_done_ = false;
  bool cancelled_ = false;
  std::optional<grpc::Status> finish_status_;  // the call is to end with this
  bool finish_called_ = false;
  grpc::Status final_status_;  // what Finish was given, for the log
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_EPHEMERAL_STREAM_H
