// gRPC calls over a client HTTP/2 connection of our own (nghttp2 on a socket watched by an
// IoLoop), for the streams' bidirectional calls: the library decides when bytes reach the
// socket and when window updates go out, so that a record at a low rate costs one TCP segment
// and one thread wake-up for its ack, and a batch need not wait for the previous one's write to
// complete (gRPC C++ allows one write in flight per call, and sends a window update for every
// response it reads).
//
// HTTP/2 over TLS (ALPN h2) or in plaintext (h2c with prior knowledge), directly or through an
// HTTP CONNECT proxy.
#ifndef ZEROBUS_NET_GRPC_CLIENT_H
#define ZEROBUS_NET_GRPC_CLIENT_H

#include <absl/base/thread_annotations.h>
#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/dns_lookup.h"
#include "net/framing.h"
#include "net/io_loop.h"
#include "net/send_queue.h"
#include "net/tls_session.h"
#include "sync/mutex.h"

namespace zerobus::net {

// gRPC's status codes used by this layer (the numbering is gRPC's).
inline constexpr int kGrpcOk = 0;
inline constexpr int kGrpcCancelled = 1;
inline constexpr int kGrpcUnknown = 2;
inline constexpr int kGrpcResourceExhausted = 8;
inline constexpr int kGrpcInternal = 13;
inline constexpr int kGrpcUnavailable = 14;

// How a call ended: the grpc-status and grpc-message the server sent in its trailers, or those
// this layer gives when the call could not end that way (UNAVAILABLE for a connection that could
// not be made or was lost, CANCELLED for Cancel(), INTERNAL for a server that broke HTTP/2 or
// gRPC's framing, RESOURCE_EXHAUSTED for a response past the size limit).
struct CallEnd {
  int grpc_status = kGrpcOk;
  std::string message;
};

class GrpcCall;

// Told what happens on a call, always on the IoLoop's thread, never under a lock of this layer:
// each may call the call back.
class CallListener {
 public:
  virtual ~CallListener() = default;
  // A whole response message, without gRPC's 5-byte prefix. One at a time, in order.
  virtual void OnMessage(GrpcCall *call, std::string_view message) = 0;
  // A write (or WritesDone()) answered kLater is done: its bytes are handed to the socket
  // (`ok`), or the call ended before they were (not `ok`).
  virtual void OnWriteDone(GrpcCall *call, bool ok) = 0;
  // The call is over: the listener's last word. Comes after the last OnMessage() and after the
  // OnWriteDone() of a write answered kLater.
  virtual void OnEnd(GrpcCall *call, const CallEnd &end) = 0;
};

// Bytes of a request and what keeps them alive until they are sent: Write() sends `pieces`, one
// after another, as one gRPC message, and lets go of `owner` once it no longer needs them.
struct OutgoingMessage {
  std::vector<std::string_view> pieces;
  std::shared_ptr<const void> owner;
};

struct ConnectionOptions {
  std::string host;  // a name or an address
  int port = 0;
  std::chrono::milliseconds connect_timeout{10000};
  // A response longer than this ends its call with RESOURCE_EXHAUSTED.
  size_t max_response_bytes = 4 << 20;
  // A connection that read nothing for keepalive_time sends a PING; one not answered within
  // keepalive_timeout fails the connection (UNAVAILABLE). Zero: no pings.
  std::chrono::milliseconds keepalive_time{0};
  std::chrono::milliseconds keepalive_timeout{20000};
  // TLS (with ALPN h2) when enabled; plaintext HTTP/2 (h2c, prior knowledge) otherwise.
  TlsOptions tls;
  // An HTTP proxy that tunnels the connection (CONNECT host:port) when proxy_host is set, with
  // proxy_authorization as its Proxy-Authorization header when that is not empty.
  std::string proxy_host;
  int proxy_port = 0;
  std::string proxy_authorization;
};

class Http2Connection;

// The HTTP/2 library and its version ("nghttp2/1.52.0"), which calls add to their user-agent as
// gRPC adds its own name.
std::string Http2LibraryName();

class GrpcCall {
 public:
  enum class WriteResult {
    kDone,   // handed to the socket already: the next write may start
    kLater,  // OnWriteDone() tells when the next may start
    kEnded,  // the call is over (OnEnd() came or comes); nothing was sent
  };

  // Sends one message. One write at a time: the next after kDone or OnWriteDone(). From the
  // loop's thread it always answers kLater (OnWriteDone() comes right after the current step);
  // from another thread kDone when the connection was quiet and took the bytes at once, so that
  // a record at a low rate costs no thread wake-up, and kLater when it was busy, so that what
  // follows gathers into the next write, which the loop makes. Thread-safe.
  WriteResult Write(OutgoingMessage message);
  // Half-closes the call (END_STREAM after what was written). A write: never while one is
  // outstanding, answered and reported like one. Thread-safe.
  WriteResult WritesDone();
  // Ends the call with RST_STREAM (CANCEL) unless it is over already; OnEnd() then tells
  // CANCELLED with `message`. Thread-safe.
  void Cancel(const std::string &message);

  // Use Http2Connection::StartCall().
  GrpcCall(std::shared_ptr<Http2Connection> connection, CallListener *listener);

 private:
  friend class Http2Connection;

  const std::shared_ptr<Http2Connection> connection_;
  CallListener *const listener_;

  // All guarded by the connection's mutex.
  int32_t stream_id_ = -1;
  std::deque<std::pair<std::string, OutgoingMessage>> out_;  // (prefix, message) not yet taken
  size_t out_offset_ = 0;  // bytes of out_.front() (prefix, then pieces) already taken
  size_t out_bytes_ = 0;
  bool data_deferred_ = false;  // nghttp2 waits for ResumeData()
  bool half_close_ = false;
  bool write_owed_ = false;  // a write answered kLater waits for its OnWriteDone()
  MessageReader reader_;     // the response's bytes, cut into messages
  int grpc_status_ = -1;     // from the trailers; -1 when none came
  std::string grpc_message_;
  int http_status_ = 0;
  bool ended_ = false;
};

class Http2Connection : public IoLoop::Watcher,
                        public std::enable_shared_from_this<Http2Connection> {
 public:
  // Starts looking up the host and connecting to it on `loop` (nothing here waits for either).
  // A connection that cannot be made ends the calls started on it with UNAVAILABLE.
  static std::shared_ptr<Http2Connection> Create(IoLoop &loop, ConnectionOptions options);
  ~Http2Connection() override;

  // Starts a call of `path` ("/package.Service/Method") with `headers` (lower-case names).
  // `listener` must outlive the call's OnEnd(). Thread-safe.
  std::shared_ptr<GrpcCall> StartCall(
      const std::string &path, const std::vector<std::pair<std::string, std::string>> &headers,
      CallListener *listener);

  // Ends every call (UNAVAILABLE with `why`) and closes the socket. Thread-safe; idempotent.
  void Shutdown(const std::string &why);

  // Whether the connection is up: connected, and not failed since. Thread-safe.
  bool connected() const;
  // Whether the connection failed (or was shut down): no call can start on it. Thread-safe.
  bool failed() const;
  // Whether it failed for want of a server to connect to: a name that did not resolve, a
  // refused or unreachable address, no answer within connect_timeout (the proxy's, through one);
  // not a server that answered badly, nor TLS, nor a shutdown. Thread-safe.
  bool unreachable() const;

  void OnReady(uint32_t events) override;

  // Use Create().
  Http2Connection(IoLoop &loop, ConnectionOptions options);

 private:
  friend class GrpcCall;
  using Deliveries = std::vector<std::function<void()>>;

  GrpcCall::WriteResult WriteLocked(GrpcCall *call, OutgoingMessage *message, bool half_close,
                                    Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelLocked(GrpcCall *call, const std::string &message, Deliveries *deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands what nghttp2 has to send to the socket; false when the connection failed.
  bool FlushLocked(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With TLS: encrypts plain_ into wire_; false when the connection failed.
  bool EncryptLocked(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On the loop's thread: flushes, then reports the writes that are done.
  void FlushAndComplete();
  void CompleteWritesLocked(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailLocked(int grpc_status, const std::string &why, Deliveries *deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FailLocked() for want of a server to connect to (see unreachable()).
  void FailUnreachableLocked(const std::string &why, Deliveries *deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndCallLocked(GrpcCall *call, CallEnd end, Deliveries *deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnConnected(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Connects to the next address the lookup found; fails once none is left.
  void ConnectNextLocked(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On the loop's thread, once grpc.connect.timeout.ms has passed since Create().
  void ConnectTimedOut();
  // Once the socket reaches the server (through the proxy's tunnel, if any): TLS's handshake,
  // or HTTP/2 at once.
  void BeginProtocolLocked(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the proxy's answer to CONNECT from `bytes`; false while it is not whole (or refused).
  // Bytes after it are left in `bytes`.
  bool TunnelAnsweredLocked(std::string *bytes, Deliveries *deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On the loop's thread every keepalive_time: a PING when nothing came since the last look.
  void ArmKeepaliveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void KeepaliveCheck();
  void PingUnanswered();
  void ReadLocked(Deliveries *deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Deliver(Deliveries *deliveries);

  // nghttp2's callbacks (the session's user data is the connection; mu_ is held).
  // ReadBody() says how much of a call's messages the next DATA frame carries, without copying
  // them (NGHTTP2_DATA_FLAG_NO_COPY); SendData() then queues the frame: its header, and the
  // messages' pieces as they are.
  static ssize_t ReadBody(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                          uint32_t *flags, nghttp2_data_source *source, void *user);
  static int SendData(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *header,
                      size_t length, nghttp2_data_source *source, void *user);
  static int OnHeader(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                      size_t name_length, const uint8_t *value, size_t value_length, uint8_t flags,
                      void *user);
  static int OnData(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                    size_t length, void *user);
  static int OnStreamClose(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user);
  static int OnFrame(nghttp2_session *session, const nghttp2_frame *frame, void *user);
  // The end of a call whose stream closed with `error_code`, or whose server ended its side.
  static CallEnd EndOf(const GrpcCall &call, uint32_t error_code);
  // What a failure of the connection says: before the server's first SETTINGS, that it did not
  // speak HTTP/2 (a server that expects TLS, say); after, `after_preface`.
  std::string LostText(const std::string &before_preface, const std::string &after_preface) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  IoLoop &loop_;
  const ConnectionOptions options_;
  const std::string authority_;          // host:port, as messages name the server
  const std::string request_authority_;  // the calls' :authority

  mutable sync::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  nghttp2_session *session_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::map<int32_t, std::shared_ptr<GrpcCall>> calls_ ABSL_GUARDED_BY(mu_);
  SendQueue wire_ ABSL_GUARDED_BY(mu_);  // for the socket, not yet taken by it
  // With TLS, HTTP/2's bytes before they are encrypted into wire_ (empty between flushes);
  // without, HTTP/2's bytes go to wire_ directly.
  SendQueue plain_ ABSL_GUARDED_BY(mu_);
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  bool server_spoke_ ABSL_GUARDED_BY(mu_) = false;        // its SETTINGS came
  std::unique_ptr<TlsSession> tls_ ABSL_GUARDED_BY(mu_);  // with TLS only
  bool handshaking_ ABSL_GUARDED_BY(mu_) = false;         // the TLS handshake is under way
  bool tunnelling_ ABSL_GUARDED_BY(mu_) = false;          // CONNECT sent, its answer awaited
  std::string tunnel_answer_ ABSL_GUARDED_BY(mu_);        // what came of it so far
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool unreachable_ ABSL_GUARDED_BY(mu_) = false;  // see unreachable()
  std::string failure_ ABSL_GUARDED_BY(mu_);
  bool watching_out_ ABSL_GUARDED_BY(mu_) = false;  // EPOLLOUT asked for
  bool flush_posted_ ABSL_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point last_flush_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<DnsLookup> lookup_ ABSL_GUARDED_BY(mu_);     // until it answers
  std::vector<SocketAddress> addresses_ ABSL_GUARDED_BY(mu_);  // what it found
  size_t next_address_ ABSL_GUARDED_BY(mu_) = 0;               // the next of them to try
  std::string connect_error_ ABSL_GUARDED_BY(mu_);             // the last address's refusal
  uint64_t connect_timer_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t keepalive_timer_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ping_timer_ ABSL_GUARDED_BY(mu_) = 0;  // armed while a PING waits for its ACK
  bool read_since_check_ ABSL_GUARDED_BY(mu_) = false;
  // Where nghttp2's callbacks put what they deliver: set by whoever calls into nghttp2 with mu_
  // held (FlushLocked(), ReadLocked()), for the time of that call.
  Deliveries *deliveries_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace zerobus::net

#endif  // ZEROBUS_NET_GRPC_CLIENT_H
