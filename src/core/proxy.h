// HTTP CONNECT proxies: which one (if any) carries the traffic to a host, from the `proxy`
// option or from the environment variables the official SDKs read (reference/protocol.md
// §1.8), so that the gRPC channel and the token request take the same road.
#ifndef ZEROBUS_CORE_PROXY_H
#define ZEROBUS_CORE_PROXY_H

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace zerobus {

// The `proxy` option's value that turns proxies off, whatever the environment says.
inline constexpr char kDirectProxy[] = "direct";

struct ProxyUrl {
  std::string userinfo;  // "user:password", or empty
  std::string host;
  int port = 80;
  // "http://[userinfo@]host:port", as gRPC and libcurl take it. Holds the credentials.
  std::string url() const;
};

// Parses "http://[user:password@]host[:port][/]" or "[user:password@]host[:port]".
// ZB_ERR_INVALID_TARGET naming `what` otherwise, never quoting any part of `text`.
Status ParseProxyUrl(std::string_view text, std::string_view what, ProxyUrl *out);

// `text` with the user and password of a proxy URL replaced by "[hidden]".
std::string RedactProxy(std::string_view text);

// Whether `host` is on `no_proxy`: a comma-separated list where "*" matches every host and an
// entry (trimmed, without a leading '.') matches itself and its subdomains. No ports, no CIDR.
bool BypassesProxy(std::string_view no_proxy, std::string_view host);

// getenv(), or a stand-in for tests.
using Environment = std::function<const char *(const char *name)>;

// The proxy URL for traffic to `host` ("" for a direct connection). `setting` is the `proxy`
// option: kDirectProxy, a proxy URL (for every host), or empty to read the first non-empty of
// grpc_proxy, GRPC_PROXY, https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY, bypassed for the
// hosts on the first non-empty of no_grpc_proxy, NO_GRPC_PROXY, no_proxy, NO_PROXY.
// ZB_ERR_INVALID_TARGET, naming the variable, for a proxy URL that does not parse.
Status ChooseProxy(std::string_view setting, std::string_view host, const Environment &env,
                   std::string *url);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_PROXY_H
