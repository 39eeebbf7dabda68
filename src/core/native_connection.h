// Calls over the library's own HTTP/2 client (src/net: nghttp2 on the SDK's I/O thread), for
// transport.engine=http2: a connection of its own for every call.
#ifndef ZEROBUS_CORE_NATIVE_CONNECTION_H
#define ZEROBUS_CORE_NATIVE_CONNECTION_H

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/connection.h"
#include "net/grpc_client.h"
#include "net/io_loop.h"
#include "sync/mutex.h"

namespace zerobus {

class NativeConnection final : public Connection,
                               public net::CallListener,
                               public std::enable_shared_from_this<NativeConnection> {
 public:
  // A call on `http2`, which it shuts down when it goes if it `owns` it.
  NativeConnection(net::IoLoop &loop, std::shared_ptr<net::Http2Connection> http2, bool owns,
                   std::vector<std::pair<std::string, std::string>> headers, const CallKind &kind,
                   std::string create_request, ConnectionListener *listener);
  ~NativeConnection() override;

  void Start() override;
  void Write(grpc::ByteBuffer request, bool more_follows = false) override;
  void WritesDone() override;
  void Fail(const Status &why) override;
  void ReleaseHold() override;

  void OnMessage(net::GrpcCall *call, std::string_view message) override;
  void OnWriteDone(net::GrpcCall *call, bool ok) override;
  void OnEnd(net::GrpcCall *call, const net::CallEnd &end) override;

 private:
  // A write's answer: its end now (kDone, kEnded) is told to the listener here.
  void Answered(net::GrpcCall::WriteResult result);
  void EndReads();
  void MaybeDone() ABSL_LOCKS_EXCLUDED(mu_);

  net::IoLoop &loop_;
  const std::shared_ptr<net::Http2Connection> http2_;
  const bool owns_http2_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  const CallKind kind_;
  ConnectionListener *const listener_;
  std::string create_request_;

  // Set by Start(), then only read.
  std::shared_ptr<net::GrpcCall> call_;

  sync::Mutex mu_;
  std::shared_ptr<NativeConnection> self_ ABSL_GUARDED_BY(mu_);  // until OnDone
  Status failure_ ABSL_GUARDED_BY(mu_);  // set by Fail() before the call ends
  bool half_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  Status outcome_ ABSL_GUARDED_BY(mu_);
};

// One HTTP/2 connection that the calls of many streams share (stream.own.connection=false): a
// new one once the last has failed. Thread-safe.
class SharedHttp2Connection {
 public:
  std::shared_ptr<net::Http2Connection> Get(net::IoLoop &loop,
                                            const net::ConnectionOptions &options);

 private:
  sync::Mutex mu_;
  std::shared_ptr<net::Http2Connection> current_ ABSL_GUARDED_BY(mu_);
};

// The streams' calls over the library's HTTP/2 client, on `loop` (the SDK's): each on a
// connection of its own, or on `shared` when given.
class NativeTransport final : public Transport {
 public:
  // Calls carry `user_agent` as their user-agent header.
  NativeTransport(net::IoLoop &loop, net::ConnectionOptions options, std::string user_agent,
                  std::shared_ptr<SharedHttp2Connection> shared)
      : loop_(loop),
        options_(std::move(options)),
        user_agent_(std::move(user_agent)),
        shared_(std::move(shared)) {}

  // Never waits for ready: a call that cannot connect ends at once, and the stream's recovery
  // tries again.
  std::shared_ptr<Connection> Open(const std::vector<std::pair<std::string, std::string>> &headers,
                                   const CallKind &kind, std::string create_request,
                                   ConnectionListener *listener, bool *waits_for_ready) override;
  bool Connected() const override;

 private:
  net::IoLoop &loop_;
  const net::ConnectionOptions options_;
  const std::string user_agent_;
  const std::shared_ptr<SharedHttp2Connection> shared_;  // null: a connection per call
  mutable sync::Mutex mu_;
  std::weak_ptr<net::Http2Connection> last_ ABSL_GUARDED_BY(mu_);  // the last call's
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_NATIVE_CONNECTION_H
