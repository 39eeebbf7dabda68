// An endpoint and the one gRPC channel that its streams share.
#ifndef ZEROBUS_CORE_SDK_H
#define ZEROBUS_CORE_SDK_H

#include <grpcpp/channel.h>

#include <memory>
#include <string_view>

#include "config.h"
#include "endpoint.h"
#include "status.h"

namespace zerobus {

class Sdk {
 public:
  // No network I/O: gRPC connects when the first call starts.
  static Status Create(std::string_view endpoint, const Settings &settings,
                       std::shared_ptr<Sdk> *out);

  const Endpoint &endpoint() const { return endpoint_; }
  const std::shared_ptr<grpc::Channel> &channel() const { return channel_; }

 private:
  Sdk(Endpoint endpoint, std::shared_ptr<grpc::Channel> channel)
      : endpoint_(std::move(endpoint)), channel_(std::move(channel)) {}

  Endpoint endpoint_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_SDK_H
