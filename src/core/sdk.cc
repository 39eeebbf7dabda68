#include "core/sdk.h"

#include <grpc/grpc.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/resource_quota.h>

#include <cstdlib>

#include "core/connection.h"
#include "core/grpcpp_connection.h"
#include "core/native_connection.h"
#include "core/user_agent.h"
#include "core/wire.h"
#include "table/value_checks.h"

namespace zerobus {
namespace {

// Holds gRPC initialized from the first SDK to the end of the process; never undone. Without it,
// whoever frees the process's last gRPC object (a channel, its credentials, a call's context:
// zb_sdk_destroy() or zb_stream_destroy()) runs grpc_shutdown() on its own thread, and gRPC 1.51
// joins its executor threads there. One of them may be polling for a write to a server that
// stopped reading, in rounds of 10 s: destroy waited for the rest of the round. gRPC's threads
// and global state stay instead; the library is linked -z nodelete, so their code stays too.
void KeepGrpcInitialized() {
  static const bool initialized = (grpc_init(), true);
  (void)initialized;
}

}  // namespace

const char *Sdk::DefaultEnvironment(const char *name) {
  return std::getenv(name);
}

Status Sdk::Create(std::string_view endpoint_text, const Config &config, UserHandle handle,
                   std::shared_ptr<Sdk> *out, const Environment &env) {
  KeepGrpcInitialized();
  const Settings &settings = config.settings();
  std::shared_ptr<Sdk> sdk(new Sdk());
  sdk->logger_ = Logger(config.log_callback(), settings.log_level);
  Status status = ResolveEndpoint(endpoint_text, "endpoint", settings.plaintext, &sdk->endpoint_);
  if (!status.ok()) return status;
  std::string grpc_proxy;
  status = ChooseProxy(settings.proxy, sdk->endpoint_.host, env, &grpc_proxy);
  if (!status.ok()) return status;
  if (!settings.workspace_url.empty()) {
    Endpoint workspace;
    status =
        ResolveEndpoint(settings.workspace_url, "workspace.url", settings.plaintext, &workspace);
    if (!status.ok()) return status;
    sdk->workspace_url_ = workspace.base_url();
    status = ChooseProxy(settings.proxy, workspace.host, env, &sdk->workspace_transport_.proxy);
    if (!status.ok()) return status;
  }
  TlsMaterial &tls = sdk->workspace_transport_.tls;
  if (!settings.plaintext) {
    status = LoadTlsMaterial(settings, &tls);
    if (!status.ok()) return status;
  }
  sdk->workspace_transport_.user_agent = UserAgent(settings.application_name);
  sdk->stream_open_warning_ = std::make_unique<StreamOpenWarning>(WarningsEnabled(settings, env));

  grpc::ChannelArguments &args = sdk->args_;
  // Before gRPC's own name, which the channel arguments already hold: the service reads ours
  // first.
  args.SetUserAgentPrefix(sdk->workspace_transport_.user_agent);
  // Requests are bounded by stream.max.request.bytes: gRPC's own limit would only add a second,
  // differently reported, bound. Responses are bounded twice (StatusFromGrpc() reports either
  // as ZB_ERR_PROTOCOL): by size, which gRPC checks only once it holds a response whole, and by
  // the memory the SDK's connections may hold, which stops one that is streamed in for ever.
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(static_cast<int>(wire::kMaxResponseBytes));
  grpc::ResourceQuota response_memory("zerobus sdk " + sdk->endpoint_.target());
  response_memory.Resize(kResponseMemoryBytes);
  args.SetResourceQuota(response_memory);
  // Pings only while calls are open: a half-open connection then fails the call, and
  // recovery takes over.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(settings.keepalive_time_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(settings.keepalive_timeout_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // gRPC otherwise holds a ping back for 5 minutes after one that was answered while no data
  // came in since: a connection that went dark just after a ping would go unnoticed that long.
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS,
              static_cast<int>(settings.keepalive_time_ms));
  // Recovery is ours: a new call that replays the window. gRPC's transparent retry would move
  // a call started on a connection that is just going away (as after a keepalive timeout) to
  // the next one, but gRPC 1.51 then reports every later write of that call as failed though it
  // is sent, and may send a request that lost its bytes: the stream either stops writing on a
  // live call, where no ack timeout can notice, or the server rejects an empty request.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // The client receives acknowledgements only, a few bytes each, so sizing its receive window
  // to the link's bandwidth-delay product buys nothing, while the probe that measures it is a
  // ping the server answers after the responses that come in: at a low rate, a round of packets
  // and thread wake-ups per record. Without it, a stream at 1,000 records/s spent 66 to 80 us of
  // CPU per record against 90 to 96 in the same runs.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // gRPC gives each connection attempt the larger of this and its current backoff.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(settings.connect_timeout_ms));
  // The proxy chosen above, or none: gRPC must not read the environment by rules of its own.
  if (grpc_proxy.empty()) {
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  } else {
    args.SetString(GRPC_ARG_HTTP_PROXY, grpc_proxy);
  }
  if (sdk->endpoint_.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.ca_pem;
    ssl.pem_cert_chain = tls.cert_pem;
    ssl.pem_private_key = tls.key_pem;
    // Also the call's authority, as the workspace requests' Host is.
    if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
    sdk->credentials_ = grpc::SslCredentials(ssl);
  } else {
    sdk->credentials_ = grpc::InsecureChannelCredentials();
  }
  sdk->channel_ = grpc::CreateCustomChannel(sdk->endpoint_.target(), sdk->credentials_, args);
  sdk->logger_.Log(LogLevel::kInfo, "sdk", [&] {
    return "SDK for " + sdk->endpoint_.target() +
           (sdk->endpoint_.tls ? " over TLS" : " in plaintext") +
           (grpc_proxy.empty() ? "" : " through the proxy " + RedactProxy(grpc_proxy)) +
           (sdk->workspace_url_.empty() ? "" : ", workspace " + sdk->workspace_url_);
  });
  sdk->supervision_ = std::make_unique<Scheduler>(
      "zb-supervise", static_cast<size_t>(settings.supervision_threads));
  sdk->dispatch_ =
      std::make_unique<Scheduler>("zb-dispatch", static_cast<size_t>(settings.dispatch_threads));
  if (settings.transport_engine == kHttp2Engine) {
    // What every connection of the SDK's is made with, set once.
    net::ConnectionOptions &options = sdk->http2_options_;
    options.host = sdk->endpoint_.host;
    options.port = sdk->endpoint_.port;
    options.connect_timeout = std::chrono::milliseconds(settings.connect_timeout_ms);
    options.keepalive_time = std::chrono::milliseconds(settings.keepalive_time_ms);
    options.keepalive_timeout = std::chrono::milliseconds(settings.keepalive_timeout_ms);
    options.max_response_bytes = wire::kMaxResponseBytes;
    options.tls =
        net::TlsOptions{sdk->endpoint_.tls, tls.ca_pem, tls.cert_pem, tls.key_pem, tls.server_name};
    if (!grpc_proxy.empty()) {
      ProxyUrl proxy;
      status = ParseProxyUrl(grpc_proxy, "the proxy", &proxy);
      if (!status.ok()) return status;
      options.proxy_host = proxy.host;
      options.proxy_port = proxy.port;
      if (!proxy.userinfo.empty()) {
        options.proxy_authorization = "Basic " + table::EncodeBase64(proxy.userinfo);
      }
    }
    sdk->shared_http2_ = std::make_shared<SharedHttp2Connection>();
    sdk->io_loop_ = std::make_unique<net::IoLoop>("zb-io");
  }
  if (settings.statistics_interval_ms > 0 && config.stats_callback()) {
    const Sdk *raw = sdk.get();
    sdk->stats_reporter_ = std::make_unique<StatsReporter>(
        std::chrono::milliseconds(settings.statistics_interval_ms), config.stats_callback(), handle,
        [raw] { return raw->StatsJson(); });
  }
  *out = std::move(sdk);
  return Status::Ok();
}

void Sdk::Release() {
  stats_reporter_.reset();
}

std::string Sdk::StatsJson() const {
  return SdkStatsJson(endpoint_.target(), streams_.Snapshot());
}

std::unique_ptr<Transport> Sdk::NewTransport(bool own_connection) const {
  if (io_loop_) {
    return std::make_unique<NativeTransport>(*io_loop_, http2_options_,
                                             workspace_transport_.user_agent,
                                             own_connection ? nullptr : shared_http2_);
  }
  if (!own_connection) return std::make_unique<GrpcppTransport>(channel_);
  grpc::ChannelArguments args = args_;
  // Channels with equal arguments share connections through gRPC's global pool.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return std::make_unique<GrpcppTransport>(
      grpc::CreateCustomChannel(endpoint_.target(), credentials_, args));
}

}  // namespace zerobus
