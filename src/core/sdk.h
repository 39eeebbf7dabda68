// An endpoint, how to reach it (TLS, proxy, channel settings), the one gRPC channel that its
// streams share unless they ask for their own, the log they all write to, the list of them
// that statistics report, and the thread that hands those statistics to the statistics callback.
#ifndef ZEROBUS_CORE_SDK_H
#define ZEROBUS_CORE_SDK_H

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/connection.h"
#include "core/endpoint.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/native_connection.h"
#include "core/proxy.h"
#include "core/scheduler.h"
#include "core/stats.h"
#include "core/stats_reporter.h"
#include "core/status.h"
#include "core/stream_open_warning.h"
#include "core/token_cache.h"
#include "net/io_loop.h"

namespace zerobus {

class Sdk {
 public:
  // No network I/O: gRPC connects when the first call starts. Reads tls.ca.file and the proxy
  // environment variables. ZB_ERR_INVALID_TARGET for a malformed or contradictory endpoint,
  // workspace URL or proxy; ZB_ERR_INVALID_VALUE when tls.ca.file cannot be read or holds no
  // certificate.
  // The log callback and log.level come from `config` with the other SDK options; so do the
  // statistics callback, which receives `handle` as its SDK, and statistics.interval.ms.
  static Status Create(std::string_view endpoint, const Config &config, UserHandle handle,
                       std::shared_ptr<Sdk> *out, const Environment &env = DefaultEnvironment);

  // zb_sdk_destroy(): the user lets go of the SDK, which its streams may keep alive. Stops the
  // statistics callback: after this no call of it runs, unless this is called from that
  // callback, whose thread then ends once it returns.
  void Release();

  const Endpoint &endpoint() const { return endpoint_; }
  // The channel unary calls (RetireStream) use, and streams share.
  const std::shared_ptr<grpc::Channel> &channel() const { return channel_; }
  // How a stream reaches the endpoint, over gRPC C++ or the library's HTTP/2 client
  // (transport.engine): on a connection the SDK's streams share, or with `own_connection` on
  // one of its own (with gRPC, a channel of its own; with http2, one for every call).
  // Thread-safe.
  std::unique_ptr<Transport> NewTransport(bool own_connection) const;

  // The workspace URL ("https://host:port") where tokens are requested; empty when
  // workspace.url was not set.
  const std::string &workspace_url() const { return workspace_url_; }
  // How to reach the workspace: the same trust as the channel, and its proxy.
  const HttpTransport &workspace_transport() const { return workspace_transport_; }

  // Where the SDK and its streams log.
  const Logger &logger() const { return logger_; }
  // The live streams; each adds and removes itself. Thread-safe.
  StreamRegistry &streams() const { return streams_; }
  // The OAuth tokens of the SDK's streams, shared by those of one table and credentials.
  TokenCache &token_cache() const { return token_cache_; }
  // Counts the streams opened, to warn about a stream per record.
  StreamOpenWarning &stream_open_warning() const { return *stream_open_warning_; }
  // zb_sdk_stats_json(). Thread-safe.
  std::string StatsJson() const;

  // The threads that supervise the SDK's streams (reconnections, ack and pause timers).
  Scheduler &supervision() const { return *supervision_; }
  // The threads that run the SDK's streams' event callbacks and wakeups.
  Scheduler &dispatch() const { return *dispatch_; }

  static const char *DefaultEnvironment(const char *name);

 private:
  Sdk() = default;

  Endpoint endpoint_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  grpc::ChannelArguments args_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string workspace_url_;
  HttpTransport workspace_transport_;
  Logger logger_;
  mutable StreamRegistry streams_;
  mutable TokenCache token_cache_;
  std::unique_ptr<Scheduler> supervision_;
  std::unique_ptr<Scheduler> dispatch_;
  // transport.engine=http2 only: the thread of the SDK's connections.
  std::unique_ptr<net::IoLoop> io_loop_;
  // transport.engine=http2 only: how its connections reach the endpoint (timeouts, keepalive,
  // TLS, the proxy).
  net::ConnectionOptions http2_options_;
  // The connection that streams with stream.own.connection=false share.
  std::shared_ptr<SharedHttp2Connection> shared_http2_;
  std::unique_ptr<StreamOpenWarning> stream_open_warning_;
  // Declared last, so that it stops first: it reads the streams.
  std::unique_ptr<StatsReporter> stats_reporter_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_SDK_H
