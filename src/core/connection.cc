#include "core/connection.h"

#include <absl/status/status.h>

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
  return StatusFromGrpc(GrpcStatusNumber(status), status.error_message(), persistent);
}

Status StatusFromGrpc(int number, const std::string &message, bool persistent) {
  const grpc::StatusCode code = KnownStatusCode(number);
  if (code == grpc::StatusCode::OK) {
    return Status(StatusCode::kTransport, "the server ended the stream without an error", true,
                  static_cast<int>(grpc::StatusCode::OK));
  }
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
  // what it likes, without the first. The library's own client (src/net) says it plainly.
  bool closed = false;
  if (message.find("failed to connect to all addresses") != std::string::npos) {
    for (const char *words : {"Socket closed", "Connection reset by peer", "Broken pipe"}) {
      closed = closed || message.find(words) != std::string::npos;
    }
  } else if (message.find("failed to connect to ") != std::string::npos) {
    for (const char *words : {"before the server spoke HTTP/2", "other than HTTP/2"}) {
      closed = closed || message.find(words) != std::string::npos;
    }
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

}  // namespace zerobus
