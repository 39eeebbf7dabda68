// Where an SDK connects: a Zerobus endpoint given as a host or a URL.
#ifndef ZEROBUS_CORE_ENDPOINT_H
#define ZEROBUS_CORE_ENDPOINT_H

#include <string>
#include <string_view>

#include "status.h"

namespace zerobus {

struct Endpoint {
  bool tls = true;
  std::string host;
  int port = 443;
  // "host:port" as gRPC takes it.
  std::string target() const;
};

// Parses "host[:port]", "https://host[:port][/]" (TLS; a host alone means TLS) or
// "http://host[:port][/]" (plaintext). ZB_ERR_INVALID_TARGET for anything else.
Status ParseEndpoint(std::string_view text, Endpoint *out);

// Checks a three-part Unity Catalog table name, catalog.schema.table, whose parts are ASCII
// letters, digits and underscores. ZB_ERR_INVALID_TARGET otherwise.
Status CheckTableName(std::string_view name);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_ENDPOINT_H
