// The engine's error value, mirrored one-to-one by the public zb_error.
#ifndef ZEROBUS_CORE_STATUS_H
#define ZEROBUS_CORE_STATUS_H

#include <cstdint>
#include <string>
#include <utility>

namespace zerobus {

// The numbers of the public zb_status codes (src/c_api checks that they agree); contiguous and
// append-only.
enum class StatusCode : int32_t {
  kOk = 0,
  kInvalidArg = 1,
  kUnknownKey = 2,
  kInvalidValue = 3,
  kQueueFull = 4,
  kTimeout = 5,
  kClosed = 6,
  kEmptyRecord = 7,
  kRecordTooLarge = 8,
  kEmptyBatch = 9,
  kRecordType = 10,
  kInvalidTarget = 11,
  kTransport = 12,
  kProtocol = 13,
  kAuth = 14,
  kState = 15,
  kNoMemory = 16,
  kInternal = 17,
  kInvalidSchema = 18,
  kInvalidRecord = 19,
};

// A status code with the context a caller needs to act on it. ok() iff code() == ZB_OK.
class Status {
 public:
  // The gRPC status of errors that did not come from gRPC.
  static constexpr int kNoGrpcStatus = -1;

  Status() = default;
  Status(StatusCode code, std::string message, bool retryable = false,
         int grpc_status = kNoGrpcStatus)
      : code_(code),
        message_(std::move(message)),
        retryable_(retryable),
        grpc_status_(grpc_status) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }
  bool retryable() const { return retryable_; }
  int grpc_status() const { return grpc_status_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool retryable_ = false;
  int grpc_status_ = kNoGrpcStatus;
};

// The symbolic name and the description of a status code; nullptr for unknown codes.
const char *StatusName(StatusCode code);
const char *StatusDescription(StatusCode code);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STATUS_H
