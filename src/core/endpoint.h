// Where an SDK connects: a Zerobus endpoint and a workspace URL, each given as a host or a URL
// (reference/zerobus-service.md §1), and the table names streams write to.
#ifndef ZEROBUS_CORE_ENDPOINT_H
#define ZEROBUS_CORE_ENDPOINT_H

#include <string>
#include <string_view>

#include "core/status.h"

namespace zerobus {

// A URL as the user wrote it: its scheme (if any), host and port (0 when not given).
struct ParsedUrl {
  enum class Scheme { kNone, kHttps, kHttp };
  Scheme scheme = Scheme::kNone;
  std::string host;  // an IPv6 literal without its brackets
  int port = 0;
};

// Parses "host[:port]", "https://host[:port][/]" or "http://host[:port][/]"; IPv6 literals in
// brackets. ZB_ERR_INVALID_TARGET naming `what` ("endpoint", say) for anything else: a path,
// a query, user information, an empty host label, a port out of 1..65535.
Status ParseUrl(std::string_view text, std::string_view what, ParsedUrl *out);

// "host:port" with IPv6 literals in brackets, as gRPC and HTTP take it.
std::string HostPort(const std::string &host, int port);

struct Endpoint {
  bool tls = true;
  std::string host;
  int port = 443;
  // The first DNS label of the host: the workspace id that OAuth's resource names.
  std::string workspace_id;
  // "host:port" as gRPC takes it.
  std::string target() const { return HostPort(host, port); }
  // "https://host:port" (or "http://"), without a trailing slash.
  std::string base_url() const;
};

// Resolves `text` (as ParseUrl() takes it) into an endpoint. TLS unless `plaintext`: a host
// alone follows `plaintext`, "https://" requires TLS and "http://" plaintext, so that
// plaintext is only ever spoken when asked for with transport.plaintext. The port defaults to
// 443 with TLS and 80 without. ZB_ERR_INVALID_TARGET naming `what` otherwise.
Status ResolveEndpoint(std::string_view text, std::string_view what, bool plaintext, Endpoint *out);

// Checks a three-part Unity Catalog table name, catalog.schema.table, whose parts are ASCII
// letters, digits and underscores, at most kMaxTableNamePartBytes each (Unity Catalog's limit).
// ZB_ERR_INVALID_TARGET otherwise, quoting no more of the name than one part can hold.
inline constexpr size_t kMaxTableNamePartBytes = 255;
Status CheckTableName(std::string_view name);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_ENDPOINT_H
