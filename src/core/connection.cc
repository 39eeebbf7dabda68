#include "core/connection.h"

#include <absl/status/status.h>
#include <grpcpp/support/slice.h>

#include "core/grpc_call.h"

namespace zerobus {
namespace {

// The codes the service uses for requests that can never succeed as they are; every other code
// is worth a new connection (reference/protocol.md §4.1). A persistent stream's resume adds
// FAILED_PRECONDITION, a retired stream (NOT_FOUND, an unknown one, is final anyway); ABORTED,
// a stream another call still holds, stays retryable: that call may be the client's own lost
// connection, which the server has not ended yet.
bool IsRetryable(grpc::StatusCode code, bool persistent) {
  switch (code) {
    case grpc::StatusCode::FAILED_PRECONDITION:
      return !persistent;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::NOT_FOUND:
      return false;
    default:
      return true;
  }
}

// The messages of gRPC's RESOURCE_EXHAUSTED for a message past the receive limit ("Received
// message larger than max (N vs. M)") and for a transport whose memory ran out.
constexpr char kGrpcMessageTooLarge[] = "Received message larger than max";
constexpr char kGrpcBuffersFull[] = "Buffers full";

Status DecodeEphemeralResponse(std::string_view bytes, wire::Response *out) {
  return wire::DecodeResponse(bytes, out, wire::StreamRpc::kEphemeral);
}

Status DecodePersistentResponse(std::string_view bytes, wire::Response *out) {
  return wire::DecodeResponse(bytes, out, wire::StreamRpc::kPersistent);
}

}  // namespace

const CallKind kEphemeralStreamCall{"/databricks.zerobus.Zerobus/EphemeralStream",
                                    DecodeEphemeralResponse, false};
const CallKind kPersistentStreamCall{"/databricks.zerobus.Zerobus/PersistentStream",
                                     DecodePersistentResponse, true};

Status StatusFromGrpc(const grpc::Status &status, bool persistent) {
  // Neither status.ok() nor status.error_code(): both load the number as a grpc::StatusCode.
  const grpc::StatusCode code = KnownStatusCode(GrpcStatusNumber(status));
  if (code == grpc::StatusCode::OK) {
    return Status(StatusCode::kTransport, "the server ended the stream without an error", true,
                  static_cast<int>(grpc::StatusCode::OK));
  }
  const std::string &message = status.error_message();
  if (code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    // gRPC's own limits, not the server's word: a response past the receive limit, or responses
    // filling the memory the SDK gives its channels (kResponseMemoryBytes) before one ends.
    if (message.rfind(kGrpcMessageTooLarge, 0) == 0) {
      return Status(StatusCode::kProtocol,
                    "the server sent a response larger than the " +
                        std::to_string(wire::kMaxResponseBytes) + " bytes the library takes (" +
                        message + ")",
                    true, static_cast<int>(code));
    }
    if (message == kGrpcBuffersFull) {
      return Status(StatusCode::kProtocol,
                    "responses took more than the " + std::to_string(kResponseMemoryBytes) +
                        " bytes of memory the SDK's connections may hold (gRPC: " + message +
                        "): a server sent a response far over the limit",
                    true, static_cast<int>(code));
    }
  }
  return Status(StatusCode::kTransport,
                "the server ended the stream: " +
                    absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) + ": " + message,
                IsRetryable(code, persistent), static_cast<int>(code));
}

Status ExplainRefusal(const Status &failure, bool tls, bool client_certificate,
                      bool ever_accepted) {
  if (ever_accepted || (tls && client_certificate)) return failure;
  if (failure.grpc_status() != static_cast<int>(grpc::StatusCode::UNAVAILABLE)) return failure;
  const std::string &message = failure.message();
  // gRPC's words (1.51) when no connection could be set up, and for the ways such a server
  // ends it; a refused connection says "Connection refused", and a server that answered says
  // what it likes, without the first.
  if (message.find("failed to connect to all addresses") == std::string::npos) return failure;
  bool closed = false;
  for (const char *words : {"Socket closed", "Connection reset by peer", "Broken pipe"}) {
    closed = closed || message.find(words) != std::string::npos;
  }
  if (!closed) return failure;
  const char *hint = tls ? " (no client certificate is configured (tls.cert.file or tls.cert.pem): "
                           "a server that requires one, mutual TLS, closes the connection)"
                         : " (connecting in plaintext, as transport.plaintext=true asks: a server "
                           "that expects TLS closes such connections)";
  return Status(failure.code(), message + hint, failure.retryable(), failure.grpc_status());
}

grpc::StatusCode KnownStatusCode(int code) {
  return code >= static_cast<int>(grpc::StatusCode::OK) &&
                 code <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)
             ? static_cast<grpc::StatusCode>(code)
             : grpc::StatusCode::UNKNOWN;
}

std::shared_ptr<Connection> Connection::Create(
    const std::shared_ptr<grpc::Channel> &channel,
    const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
    std::string create_request, bool wait_for_ready, ConnectionListener *listener) {
  std::shared_ptr<Connection> connection(
      new Connection(channel, kind, std::move(create_request), listener));
  for (const auto &[name, value] : headers) connection->context_.AddMetadata(name, value);
  connection->context_.set_wait_for_ready(wait_for_ready);
  return connection;
}

Connection::Connection(const std::shared_ptr<grpc::Channel> &channel, const CallKind &kind,
                       std::string create_request, ConnectionListener *listener)
    : stub_(channel),
      kind_(kind),
      listener_(listener),
      create_request_(std::move(create_request)) {}

void Connection::Fence() {
  std::lock_guard<std::recursive_mutex> lock(order_mu_);
}

void Connection::Start() {
  // Held until the call is set up: the first reaction's Fence() waits for it.
  std::lock_guard<std::recursive_mutex> setup(order_mu_);
  self_ = shared_from_this();
  PrepareBidiCall(&stub_, &context_, kind_.method, this);
  AddHold();
  grpc::Slice create(create_request_.data(), create_request_.size());
  write_buffer_ = grpc::ByteBuffer(&create, 1);
  StartWrite(&write_buffer_);
  StartRead(&read_buffer_);
  StartCall();
}

void Connection::Write(grpc::ByteBuffer request, bool more_follows) {
  // The reaction that reports this write's end must see it started (see Fence()).
  std::lock_guard<std::recursive_mutex> started(order_mu_);
  write_buffer_ = std::move(request);
  grpc::WriteOptions options;
  if (more_follows) options.set_buffer_hint();
  StartWrite(&write_buffer_, options);
}

void Connection::WritesDone() {
  // The reaction that reports the half-close's end must see it started (see Fence()).
  std::lock_guard<std::recursive_mutex> started(order_mu_);
  {
    sync::MutexLock lock(failure_mu_);
    half_closed_ = true;
  }
  StartWritesDone();
}

void Connection::Fail(const Status &why) {
  {
    sync::MutexLock lock(failure_mu_);
    if (failure_.ok()) failure_ = why;
  }
  context_.TryCancel();
}

void Connection::OnWriteDone(bool ok) {
  Fence();
  // gRPC is done with the request: what its slices hold (an Arrow batch's buffers, which are
  // the producer's until released) goes once acknowledged, not at the next write.
  write_buffer_.Clear();
  listener_->OnWriteDone(this, ok);
  Fence();
}

// The half-close's end is reported as a write's: it frees the one writer.
void Connection::OnWritesDoneDone(bool ok) {
  OnWriteDone(ok);
}

void Connection::OnReadDone(bool ok) {
  Fence();
  HandleRead(ok);
  Fence();
}

void Connection::HandleRead(bool ok) {
  if (!ok) {
    listener_->OnReadsEnded(this);
    return;
  }
  grpc::Slice single;
  std::string joined;
  std::string_view bytes;
  if (read_buffer_.TrySingleSlice(&single).ok()) {
    bytes = std::string_view(reinterpret_cast<const char *>(single.begin()), single.size());
  } else {
    std::vector<grpc::Slice> slices;
    (void)read_buffer_.Dump(&slices);
    for (const grpc::Slice &slice : slices) {
      joined.append(reinterpret_cast<const char *>(slice.begin()), slice.size());
    }
    bytes = joined;
  }
  wire::Response response;
  Status status = kind_.decode(bytes, &response);
  if (status.ok()) status = listener_->OnResponse(this, response);
  if (!status.ok()) {
    Fail(status);
    listener_->OnReadsEnded(this);
    return;
  }
  StartRead(&read_buffer_);
}

void Connection::OnDone(const grpc::Status &status) {
  Fence();
  Status outcome;
  {
    sync::MutexLock lock(failure_mu_);
    if (!failure_.ok()) {
      outcome = failure_;
    } else if (!half_closed_ ||
               GrpcStatusNumber(status) != static_cast<int>(grpc::StatusCode::OK)) {
      // Without our half-close, even OK is the server ending the stream before its time.
      outcome = StatusFromGrpc(status, kind_.durable);
    }
  }
  // The listener holds a reference until it has heard of OnDone, so this one is never the
  // last: the connection, its stub and perhaps the channel must not be freed on a gRPC thread,
  // where destroying the channel can join the very thread doing it.
  self_.reset();
  listener_->OnDone(this, outcome);
}

}  // namespace zerobus
