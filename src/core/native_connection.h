// Calls over the library's own HTTP/2 client (src/net: nghttp2 on the SDK's I/O thread), for
// transport.engine=http2: a connection of its own for every call, or one shared by many.
#ifndef ZEROBUS_CORE_NATIVE_CONNECTION_H
#define ZEROBUS_CORE_NATIVE_CONNECTION_H

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/connection.h"
#include "net/grpc_client.h"
#include "net/io_loop.h"
#include "sync/mutex.h"

namespace zerobus {

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

// Where the calls of one transport get their HTTP/2 connection, and which they got last.
// Thread-safe.
class Http2Dialer {
 public:
  // Each call on a connection of its own, or on `shared` when given.
  Http2Dialer(net::IoLoop &loop, net::ConnectionOptions options,
              std::shared_ptr<SharedHttp2Connection> shared)
      : loop_(loop), options_(std::move(options)), shared_(std::move(shared)) {}

  // A connection for a call: the shared one (a new one if it failed), or a new one.
  std::shared_ptr<net::Http2Connection> Dial();
  // Whether the connection dialled last is up.
  bool LastConnected() const;
  // Whether the connection dialled last failed for want of a server (see Open()).
  bool LastUnreachable() const;
  // Whether each call has a connection of its own, to shut down when the call goes.
  bool owns() const { return !shared_; }

 private:
  net::IoLoop &loop_;
  const net::ConnectionOptions options_;
  const std::shared_ptr<SharedHttp2Connection> shared_;  // null: a connection per call
  mutable sync::Mutex mu_;
  std::weak_ptr<net::Http2Connection> last_ ABSL_GUARDED_BY(mu_);
};

class NativeConnection final : public Connection,
                               public net::CallListener,
                               public std::enable_shared_from_this<NativeConnection> {
 public:
  // A call on `http2`, dialled by `dialer`. When it `waits_for_ready`, a connection that fails
  // for want of a server does not end it: a timer on `loop` dials another (with `dialer`), until
  // one connects or Fail() ends the call.
  NativeConnection(net::IoLoop &loop, std::shared_ptr<Http2Dialer> dialer,
                   std::shared_ptr<net::Http2Connection> http2, bool waits_for_ready,
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
  // Starts the call on `http2`, the create request first.
  void StartOn(const std::shared_ptr<net::Http2Connection> &http2) ABSL_LOCKS_EXCLUDED(mu_);
  // The call that writes go to: the last one started, which is the one that connected, and
  // stays, once the stream writes more than the create request.
  net::GrpcCall *CurrentCall() ABSL_LOCKS_EXCLUDED(mu_);
  // A write's answer: its end now (kDone, kEnded) is told to the listener here.
  void Answered(net::GrpcCall::WriteResult result);
  // The create request's answer on the current call (kLater: OnWriteDone() tells it).
  void CreateAnswered(net::GrpcCall::WriteResult result);
  // The create request was sent (`ok`) or its call ended first.
  void CreateDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // Once both the create request's end and the call's end are known: a call whose connection
  // never reached the server starts again on a new one while it waits for ready; any other
  // ends, with the create request's failure told first.
  void Conclude() ABSL_LOCKS_EXCLUDED(mu_);
  // On the loop's thread, when the redial timer comes: dials the next connection.
  void Redial() ABSL_LOCKS_EXCLUDED(mu_);
  // The next dial's delay, as gRPC's connection backoff paces a channel's reconnections.
  std::chrono::milliseconds NextRedialDelayLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndReads();
  void MaybeDone() ABSL_LOCKS_EXCLUDED(mu_);

  net::IoLoop &loop_;
  const std::shared_ptr<Http2Dialer> dialer_;
  const bool waits_for_ready_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  const CallKind kind_;
  ConnectionListener *const listener_;
  // Shared by every call started for it, each of which sends it first.
  const std::shared_ptr<const std::string> create_request_;

  sync::Mutex mu_;
  std::shared_ptr<net::Http2Connection> http2_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<net::GrpcCall> call_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<NativeConnection> self_ ABSL_GUARDED_BY(mu_);  // until OnDone
  Status failure_ ABSL_GUARDED_BY(mu_);  // set by Fail() before the call ends
  // The current call's create request is written and its end not yet known.
  bool create_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  bool create_failed_ ABSL_GUARDED_BY(mu_) = false;  // it ended without being sent
  bool call_ended_ ABSL_GUARDED_BY(mu_) = false;     // the current call's OnEnd() came
  net::CallEnd call_end_ ABSL_GUARDED_BY(mu_);
  // Waiting for ready: the timer of the next dial (0: none armed), when the last one began, and
  // the backoff between them.
  uint64_t redial_timer_ ABSL_GUARDED_BY(mu_) = 0;
  net::IoLoop::Clock::time_point dialed_at_ ABSL_GUARDED_BY(mu_);
  std::chrono::milliseconds redial_backoff_ ABSL_GUARDED_BY(mu_){0};
  std::minstd_rand jitter_ ABSL_GUARDED_BY(mu_);
  bool half_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  Status outcome_ ABSL_GUARDED_BY(mu_);
};

// The streams' calls over the library's HTTP/2 client, on `loop` (the SDK's): each on a
// connection of its own, or on `shared` when given.
class NativeTransport final : public Transport {
 public:
  // Calls carry `user_agent` as their user-agent header.
  NativeTransport(net::IoLoop &loop, net::ConnectionOptions options, std::string user_agent,
                  std::shared_ptr<SharedHttp2Connection> shared)
      : loop_(loop),
        dialer_(std::make_shared<Http2Dialer>(loop, std::move(options), std::move(shared))),
        user_agent_(std::move(user_agent)) {}

  // Waits for ready as gRPC's channel does once it is in TRANSIENT_FAILURE: when the last
  // connection failed before it reached the server, the call dials again until one does or
  // Fail() ends it; else a call that cannot connect ends at once, and the stream's recovery
  // tries again.
  std::shared_ptr<Connection> Open(const std::vector<std::pair<std::string, std::string>> &headers,
                                   const CallKind &kind, std::string create_request,
                                   ConnectionListener *listener, bool *waits_for_ready) override;
  bool Connected() const override;

 private:
  net::IoLoop &loop_;
  const std::shared_ptr<Http2Dialer> dialer_;
  const std::string user_agent_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_NATIVE_CONNECTION_H
