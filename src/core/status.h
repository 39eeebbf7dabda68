// The engine's error value, mirrored one-to-one by the public zb_error.
#ifndef ZEROBUS_CORE_STATUS_H
#define ZEROBUS_CORE_STATUS_H

#include <zerobus/zerobus.h>

#include <string>
#include <utility>

namespace zerobus {

// A zb_status code with the context a caller needs to act on it. ok() iff code() == ZB_OK.
class Status {
 public:
  // The gRPC status of errors that did not come from gRPC.
  static constexpr int kNoGrpcStatus = -1;

  Status() = default;
  Status(zb_status code, std::string message, bool retryable = false,
         int grpc_status = kNoGrpcStatus)
      : code_(code),
        message_(std::move(message)),
        retryable_(retryable),
        grpc_status_(grpc_status) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ZB_OK; }
  zb_status code() const { return code_; }
  const std::string &message() const { return message_; }
  bool retryable() const { return retryable_; }
  int grpc_status() const { return grpc_status_; }

 private:
  zb_status code_ = ZB_OK;
  std::string message_;
  bool retryable_ = false;
  int grpc_status_ = kNoGrpcStatus;
};

// The symbolic name and the description of a status code; nullptr for unknown codes.
const char *StatusName(zb_status code);
const char *StatusDescription(zb_status code);

}  // namespace zerobus

// The object behind the public zb_error handle.
struct zb_error {
  zerobus::Status status;
};

#endif  // ZEROBUS_CORE_STATUS_H
