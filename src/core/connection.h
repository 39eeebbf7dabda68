// One bidirectional gRPC call of a stream (Zerobus's EphemeralStream or PersistentStream, or
// Arrow Flight's DoPut):
// writes requests one at a time, reads responses, and reports both to its listener. It decides
// nothing about what to send; the stream does.
#ifndef ZEROBUS_CORE_CONNECTION_H
#define ZEROBUS_CORE_CONNECTION_H

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "core/wire.h"
#include "sync/mutex.h"

namespace zerobus {

class Connection;

// Told what happens on a connection, on gRPC's threads. Calls for one connection never
// overlap in a way that matters: one write and one read are outstanding at most.
class ConnectionListener {
 public:
  virtual ~ConnectionListener() = default;
  // A write, or the half-close (WritesDone()), finished; `ok` is false when the call is broken.
  virtual void OnWriteDone(Connection *connection, bool ok) = 0;
  // A response arrived. A non-OK status fails the connection with it.
  virtual Status OnResponse(Connection *connection, const wire::Response &response) = 0;
  // No more responses will come; the connection ends once the listener calls ReleaseHold().
  virtual void OnReadsEnded(Connection *connection) = 0;
  // The call is over with `outcome`, the connection's last word: OK only when the server ended
  // it with OK after WritesDone(), the end a graceful close expects. The listener must hold a
  // reference to the connection until then, and drop it on a thread of its own, never in here.
  virtual void OnDone(Connection *connection, const Status &outcome) = 0;
};

// Which method a call runs, how its responses read as wire::Response, and whether the stream
// outlives the call (PersistentStream: a retired stream, FAILED_PRECONDITION, is final).
struct CallKind {
  const char *method;
  Status (*decode)(std::string_view bytes, wire::Response *out);
  bool durable;
};

// Zerobus's EphemeralStream: create_stream first, ingest_record_batch requests.
extern const CallKind kEphemeralStreamCall;
// Zerobus's PersistentStream: create_stream or resume_stream first, one ingest_record request
// per record at its durable offset.
extern const CallKind kPersistentStreamCall;

class Connection final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                         public std::enable_shared_from_this<Connection> {
 public:
  // Prepares a call of `kind` carrying `headers` that will send `create_request` first (the
  // create_stream request, or the Arrow schema's FlightData). Start() runs it.
  // `wait_for_ready`: the call waits for the channel to connect (until Fail() ends it) instead
  // of failing at once while the channel is in TRANSIENT_FAILURE, with a cached error.
  static std::shared_ptr<Connection> Create(
      const std::shared_ptr<grpc::Channel> &channel,
      const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
      std::string create_request, bool wait_for_ready, ConnectionListener *listener);

  // Starts the call. The connection keeps itself alive until OnDone, and does not end before
  // ReleaseHold() even when gRPC is done with it, so that a write can always be started safely.
  void Start();

  // Writes one request (Outbox::TakeNextRequest()). One at a time. `more_follows`: another
  // request comes right after this one (Outbox::more_ready()), so gRPC may hold this one in its
  // buffer to gather both into fewer socket writes.
  void Write(grpc::ByteBuffer request, bool more_follows = false);

  // Half-closes the call: tells the server no request follows (END_STREAM), so that it can
  // end the call with its status once it has acknowledged everything. A write-side operation:
  // never while a Write() is outstanding, and no Write() after it; its end is reported to
  // OnWriteDone.
  void WritesDone();

  // Ends the call with a cancellation (RST_STREAM); `why` becomes the outcome unless the
  // connection already has one.
  void Fail(const Status &why);

  // Lets the call end once gRPC is done with it.
  void ReleaseHold() { RemoveHold(); }

 private:
  Connection(const std::shared_ptr<grpc::Channel> &channel, const CallKind &kind,
             std::string create_request, ConnectionListener *listener);

  void OnWriteDone(bool ok) override;
  void OnWritesDoneDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status &status) override;
  void HandleRead(bool ok);

  // gRPC runs one reaction after another, perhaps on different threads, ordered by its own
  // synchronization, which ThreadSanitizer cannot see in Debian's uninstrumented build. An
  // empty critical section at both ends of each reaction (and Start() holding the lock) makes
  // that order visible, for two uncontended lock operations per reaction.
  void Fence();
  std::recursive_mutex order_mu_;

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  const CallKind kind_;
  ConnectionListener *const listener_;
  std::string create_request_;
  grpc::ByteBuffer write_buffer_;
  grpc::ByteBuffer read_buffer_;
  std::shared_ptr<Connection> self_;

  sync::Mutex failure_mu_;
  Status failure_ ABSL_GUARDED_BY(failure_mu_);  // set by Fail() before the call ends
  // WritesDone() was called: an OK status is the expected end.
  bool half_closed_ ABSL_GUARDED_BY(failure_mu_) = false;
};

// The memory (bytes) the connections of one SDK may hold for what they receive, shared by its
// channels. Responses past wire::kMaxResponseBytes fail their call only once gRPC holds them
// whole, so a server streaming one huge response would otherwise make the client hold all of
// it; beyond this, gRPC cancels calls with RESOURCE_EXHAUSTED "Buffers full". Normal traffic
// (acks of a few bytes, even over thousands of streams) stays far below.
inline constexpr size_t kResponseMemoryBytes = size_t{32} << 20;

// The library's view of a gRPC status that ended a call: ZB_ERR_TRANSPORT with the status's
// code (KnownStatusCode()), retryable unless the code says the request can never succeed; or
// ZB_ERR_PROTOCOL, retryable, when gRPC ended the call because the server's response went past
// wire::kMaxResponseBytes or kResponseMemoryBytes.
// On a PersistentStream call (`persistent`), FAILED_PRECONDITION (the stream was retired) is
// final too: the stream never resumes.
Status StatusFromGrpc(const grpc::Status &status, bool persistent = false);

// `failure`, which ended a call before the server accepted the stream, with a hint when gRPC
// reached the server and it closed the connection before answering in HTTP/2 (not a refused
// connection, nor UNAVAILABLE sent by a server), which gRPC cannot tell from a dropped
// connection: in plaintext (`tls` false), a server that expects TLS; over TLS without a client
// certificate (`client_certificate` false), a server that requires one (mutual TLS). A stream
// the server once accepted (`ever_accepted`) knows neither is the cause: `failure` as it is.
Status ExplainRefusal(const Status &failure, bool tls, bool client_certificate, bool ever_accepted);

// `code` when it is one of gRPC's codes (0..16), else UNKNOWN: a server may send any number
// as grpc-status, and gRPC hands it on as it came.
grpc::StatusCode KnownStatusCode(int code);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_CONNECTION_H
