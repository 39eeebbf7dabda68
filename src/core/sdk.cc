#include "sdk.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace zerobus {

Status Sdk::Create(std::string_view endpoint_text, const Settings &settings,
                   std::shared_ptr<Sdk> *out) {
  Endpoint endpoint;
  Status parsed = ParseEndpoint(endpoint_text, &endpoint);
  if (!parsed.ok()) return parsed;
  grpc::ChannelArguments args;
  // Requests are bounded by stream.max.request.bytes; responses are tiny. gRPC's own default
  // limits would only add a second, differently reported, bound.
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  // Pings only while calls are open: a half-open connection then fails the call, and
  // recovery takes over.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(settings.keepalive_time_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(settings.keepalive_timeout_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      endpoint.tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                   : grpc::InsecureChannelCredentials();
  auto channel = grpc::CreateCustomChannel(endpoint.target(), credentials, args);
  out->reset(new Sdk(std::move(endpoint), std::move(channel)));
  return Status::Ok();
}

}  // namespace zerobus
