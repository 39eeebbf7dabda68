// One HTTPS form POST with libcurl: what the OAuth token request needs, and nothing more.
#ifndef ZEROBUS_CORE_HTTP_CLIENT_H
#define ZEROBUS_CORE_HTTP_CLIENT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "status.h"

namespace zerobus {

// How to reach a host over HTTP(S): the same trust and proxy as the gRPC channel.
struct HttpTransport {
  std::string ca_pem;  // the authorities to trust; empty: the system's
  std::string proxy;   // an HTTP CONNECT proxy URL (always tunnelled); empty: direct
  int64_t timeout_ms = 15000;
};

struct HttpFormPost {
  std::string url;
  // HTTP Basic authentication.
  std::string user;
  std::string password;
  // Sent as application/x-www-form-urlencoded, in this order.
  std::vector<std::pair<std::string, std::string>> form;
};

struct HttpReply {
  long status = 0;
  std::string body;
};

// Sends `post` and reads the reply, whatever its status. A failure to get a reply (DNS, TCP,
// proxy, TLS, timeout) is ZB_ERR_AUTH, retryable, with libcurl's reason; the password never
// appears in it. Thread-safe.
Status PostForm(const HttpFormPost &post, const HttpTransport &transport, HttpReply *reply);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_HTTP_CLIENT_H
