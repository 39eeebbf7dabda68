// The gRPC metadata of one connection attempt: what the headers provider (or the static
// token) supplies, checked, plus the headers the library always sends.
#ifndef ZEROBUS_CORE_HEADERS_H
#define ZEROBUS_CORE_HEADERS_H

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/callbacks.h"
#include "core/status.h"

namespace zerobus {

// What the public zb_headers handle fills.
struct Headers {
  std::vector<std::pair<std::string, std::string>> entries;
  // The first header the provider tried to add that gRPC cannot send.
  Status rejected;
};

// zb_headers_add(): ZB_ERR_INVALID_ARG for a name or value gRPC cannot send (user-agent among
// them: gRPC sends the channel's), also remembered in headers->rejected so that the connection
// attempt fails.
Status AddHeader(Headers *headers, std::string_view name, std::string_view value);

// Collects the headers of a connection attempt to `table_name`: the provider's when there is
// one, else an authorization header for a non-empty bearer `token` (auth.token's or an OAuth
// token); then the table name header unless already present. The user-agent is the channel's
// (user_agent.h), not a header of the attempt.
// ZB_ERR_AUTH when the provider fails or adds a header that cannot be sent.
Status CollectHeaders(const HeadersProviderRef &provider, const std::string &token,
                      std::string_view table_name, Headers *out);

// Makes `table_name` the value of the table name header, the last header: a Flight call names
// its table by it alone, so a provider's is dropped.
void SetTableHeaderLast(std::string_view table_name, Headers *headers);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_HEADERS_H
