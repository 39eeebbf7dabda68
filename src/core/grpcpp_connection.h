// Calls over gRPC C++: the callback API's bidirectional reactor on a grpc::Channel.
#ifndef ZEROBUS_CORE_GRPCPP_CONNECTION_H
#define ZEROBUS_CORE_GRPCPP_CONNECTION_H

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/connection.h"
#include "sync/mutex.h"

namespace zerobus {

class GrpcppConnection final : public Connection,
                               public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                               public std::enable_shared_from_this<GrpcppConnection> {
 public:
  // Prepares a call of `kind` on `channel` carrying `headers` that will send `create_request`
  // first. `wait_for_ready`: the call waits for the channel to connect (until Fail() ends it)
  // instead of failing at once while the channel is in TRANSIENT_FAILURE, with a cached error.
  static std::shared_ptr<GrpcppConnection> Create(
      const std::shared_ptr<grpc::Channel> &channel,
      const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
      std::string create_request, bool wait_for_ready, ConnectionListener *listener);

  void Start() override;
  // gRPC reports every write's end on its own threads, never within Write().
  void Write(grpc::ByteBuffer request, bool more_follows = false) override;
  void WritesDone() override;
  void Fail(const Status &why) override;
  void ReleaseHold() override { RemoveHold(); }

 private:
  GrpcppConnection(const std::shared_ptr<grpc::Channel> &channel, const CallKind &kind,
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
  std::shared_ptr<GrpcppConnection> self_;

  sync::Mutex failure_mu_;
  Status failure_ ABSL_GUARDED_BY(failure_mu_);  // set by Fail() before the call ends
  // WritesDone() was called: an OK status is the expected end.
  bool half_closed_ ABSL_GUARDED_BY(failure_mu_) = false;
};

// The streams' calls on one gRPC channel (the SDK's, or the stream's own).
class GrpcppTransport final : public Transport {
 public:
  explicit GrpcppTransport(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}

  // A call on a channel in TRANSIENT_FAILURE would fail at once with the error of an earlier
  // connection attempt while gRPC sits in its own reconnect backoff, never reaching the
  // network: such a call waits for a connection instead, which gRPC tries at once.
  std::shared_ptr<Connection> Open(const std::vector<std::pair<std::string, std::string>> &headers,
                                   const CallKind &kind, std::string create_request,
                                   ConnectionListener *listener, bool *waits_for_ready) override;
  bool Connected() const override;

 private:
  const std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_GRPCPP_CONNECTION_H
