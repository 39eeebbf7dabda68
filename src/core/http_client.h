// HTTP(S) with libcurl, as much as the library needs: the OAuth token request (a form POST) and
// Unity Catalog's table description (a GET with a bearer token).
#ifndef ZEROBUS_CORE_HTTP_CLIENT_H
#define ZEROBUS_CORE_HTTP_CLIENT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tls_material.h"

namespace zerobus {

// How to reach a host over HTTP(S): the same trust and proxy as the gRPC channel.
struct HttpTransport {
  TlsMaterial tls;    // whom to trust, the client certificate, the server's name
  std::string proxy;  // an HTTP CONNECT proxy URL (always tunnelled); empty: direct
  // Sent as User-Agent, as the gRPC channel names the client (user_agent.h); empty: libcurl's.
  std::string user_agent;
  int64_t timeout_ms = 15000;
};

struct HttpFormPost {
  std::string url;
  // HTTP Basic authentication; none when `user` is empty.
  std::string user;
  std::string password;
  // Sent as application/x-www-form-urlencoded, in this order.
  std::vector<std::pair<std::string, std::string>> form;
};

struct HttpGet {
  std::string url;
  std::string bearer_token;   // sent as "Authorization: Bearer ..." unless empty
  size_t max_body = 8 << 20;  // a longer reply fails rather than grow without bound
};

struct HttpReply {
  long status = 0;
  std::string body;
};

// Sends `post` and reads the reply, whatever its status. A failure to get a reply (DNS, TCP,
// proxy, TLS, timeout) is ZB_ERR_AUTH, retryable, with libcurl's reason; the password never
// appears in it. Thread-safe.
Status PostForm(const HttpFormPost &post, const HttpTransport &transport, HttpReply *reply);

// What a failed reply says went wrong: OAuth's error and error_description, Databricks'
// error_code and message, or the start of the body.
std::string ServerMessage(const std::string &body);

// Sends `get` and reads the reply, whatever its status. A failure to get a reply, or a body
// over get.max_body, is ZB_ERR_TRANSPORT, retryable, with libcurl's reason; the token never
// appears in it. Thread-safe.
Status Get(const HttpGet &get, const HttpTransport &transport, HttpReply *reply);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_HTTP_CLIENT_H
