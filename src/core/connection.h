// One bidirectional gRPC call of a stream (Zerobus's EphemeralStream or PersistentStream, or
// Arrow Flight's DoPut), and the transport that opens them:
// a call writes requests one at a time, reads responses, and reports both to its listener. It
// decides nothing about what to send; the stream does.
#ifndef ZEROBUS_CORE_CONNECTION_H
#define ZEROBUS_CORE_CONNECTION_H

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/wire.h"

namespace zerobus {

class Connection;

// Told what happens on a connection, on the transport's threads (and OnWriteDone() perhaps on
// the thread that started the write, within Write() or WritesDone()). Calls for one connection
// never overlap in a way that matters: one write and one read are outstanding at most.
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

// One call, over gRPC C++ (grpcpp_connection.h) or the library's own HTTP/2 client
// (native_connection.h): the stream sees no difference.
class Connection {
 public:
  virtual ~Connection() = default;

  // Starts the call, which sends the first request given to its constructor first. The
  // connection keeps itself alive until OnDone, and does not end before ReleaseHold() even when
  // the call is over, so that a write can always be started safely.
  virtual void Start() = 0;

  // Writes one request (Outbox::TakeNextRequest()). One at a time: the next once OnWriteDone()
  // has come, which may be before this returns, on the calling thread. `more_follows`: another
  // request comes right after this one (Outbox::more_ready()), so the transport may hold this
  // one to gather both into fewer socket writes. Never with the listener's locks held.
  virtual void Write(grpc::ByteBuffer request, bool more_follows = false) = 0;

  // Half-closes the call: tells the server no request follows (END_STREAM), so that it can
  // end the call with its status once it has acknowledged everything. A write-side operation:
  // never while a Write() is outstanding, and no Write() after it; its end is reported to
  // OnWriteDone, perhaps before this returns.
  virtual void WritesDone() = 0;

  // Ends the call with a cancellation (RST_STREAM); `why` becomes the outcome unless the
  // connection already has one.
  virtual void Fail(const Status &why) = 0;

  // Lets the call end once the transport is done with it.
  virtual void ReleaseHold() = 0;
};

// How a stream reaches its server: the calls it opens, one per connection attempt.
class Transport {
 public:
  virtual ~Transport() = default;
  // A call of `kind` carrying `headers` that will send `create_request` first (the
  // create_stream request, or the Arrow schema's FlightData). Start() runs it.
  // `waits_for_ready` tells whether the call waits for a connection (until Fail() ends it)
  // instead of failing at once with the error of an earlier attempt.
  virtual std::shared_ptr<Connection> Open(
      const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
      std::string create_request, ConnectionListener *listener, bool *waits_for_ready) = 0;
  // Whether the transport holds a connection to the server now: a stream that could not open
  // a call tells a slow server from an unreachable one by it.
  virtual bool Connected() const = 0;
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
// The same for a status given as its number (any int a server sent) and message.
Status StatusFromGrpc(int code, const std::string &message, bool persistent);

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
