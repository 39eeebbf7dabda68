#include "core/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "table/value_checks.h"

namespace zerobus {
namespace {

// curl_global_init() is not thread-safe with every TLS backend; once per process.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// How much of a reply body an error message quotes.
constexpr size_t kMaxQuotedBody = 512;

// A token reply is small; a longer one is not what was asked for.
constexpr size_t kMaxTokenReply = 1 << 20;

// Where a reply's body goes, up to a limit.
struct BodySink {
  std::string *body;
  size_t limit;
};

// A body past its limit ends the transfer (libcurl then fails it with CURLE_WRITE_ERROR).
size_t AppendBody(char *data, size_t size, size_t count, void *out) {
  auto *sink = static_cast<BodySink *>(out);
  if (sink->body->size() + size * count > sink->limit) return 0;
  sink->body->append(data, size * count);
  return size * count;
}

struct EasyDeleter {
  void operator()(CURL *curl) const { curl_easy_cleanup(curl); }
};
struct CurlFreeDeleter {
  void operator()(char *text) const { curl_free(text); }
};

std::string Escape(CURL *curl, const std::string &text) {
  std::unique_ptr<char, CurlFreeDeleter> escaped(
      curl_easy_escape(curl, text.data(), static_cast<int>(text.size())));
  if (!escaped) throw std::bad_alloc();
  return escaped.get();
}

struct SlistDeleter {
  void operator()(curl_slist *list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// For a server name override: `url` with its host replaced by `server_name`, which libcurl
// then checks the certificate against, sends in SNI and as Host, and a connect-to entry
// (into `*connect_to`) that still sends the connection to the URL's own host and port.
Status RenameHost(const std::string &url, const std::string &server_name, std::string *renamed,
                  Slist *connect_to) {
  struct UrlDeleter {
    void operator()(CURLU *handle) const { curl_url_cleanup(handle); }
  };
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) throw std::bad_alloc();
  char *host = nullptr;
  char *port = nullptr;
  char *text = nullptr;
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get(parsed.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
      curl_url_set(parsed.get(), CURLUPART_HOST, server_name.c_str(), 0) != CURLUE_OK ||
      curl_url_get(parsed.get(), CURLUPART_URL, &text, 0) != CURLUE_OK) {
    curl_free(host);
    curl_free(port);
    return Status(StatusCode::kInvalidValue,
                  "cannot address " + url + " by the server name '" + server_name + "'");
  }
  // "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT", the first two empty: every request of this
  // handle; libcurl keeps an IPv6 address in brackets in its host part.
  const std::string entry = "::" + std::string(host) + ":" + port;
  curl_free(host);
  curl_free(port);
  *renamed = text;
  curl_free(text);
  connect_to->reset(curl_slist_append(nullptr, entry.c_str()));
  if (!*connect_to) throw std::bad_alloc();
  return Status::Ok();
}

// Under TLS 1.3 a server that requires a client certificate checks it after the client has
// finished its side of the handshake, and then closes the connection: libcurl sees a failed
// receive or send ("getpeername() failed"), nothing about certificates. When none is
// configured, a hint saying so; else nothing.
std::string ClientCertificateHint(const std::string &url, const TlsMaterial &tls, CURLcode rc) {
  const bool closed = rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
                      rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING;
  if (!closed || !tls.cert_pem.empty() || url.rfind("https://", 0) != 0) return "";
  return " (no client certificate is configured (tls.cert.file or tls.cert.pem): a server that "
         "requires one, mutual TLS, closes the connection)";
}

// Sets what every request shares (the URL, the transport, where the body goes), runs it and
// reads the status. Failures to get a reply are `failure_code`, retryable.
Status Perform(CURL *handle, const std::string &url, const HttpTransport &transport,
               StatusCode failure_code, size_t max_body, HttpReply *reply) {
  reply->body.clear();
  BodySink sink{&reply->body, max_body};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  const TlsMaterial &tls = transport.tls;
  std::string address = url;
  Slist connect_to;
  if (!tls.server_name.empty()) {
    Status renamed = RenameHost(url, tls.server_name, &address, &connect_to);
    if (!renamed.ok()) return renamed;
    curl_easy_setopt(handle, CURLOPT_CONNECT_TO, connect_to.get());
  }
  curl_easy_setopt(handle, CURLOPT_URL, address.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(transport.timeout_ms));
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &sink);
  if (!transport.user_agent.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERAGENT, transport.user_agent.c_str());
  }
  // An explicit proxy, or none at all: libcurl must not read the environment on its own, so
  // that it takes the road the gRPC channel takes.
  curl_easy_setopt(handle, CURLOPT_PROXY, transport.proxy.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPPROXYTUNNEL, 1L);
  // Given authorities replace the system's: libcurl then reads no CA bundle or directory.
  curl_blob ca{const_cast<char *>(tls.ca_pem.data()), tls.ca_pem.size(), CURL_BLOB_COPY};
  if (!tls.ca_pem.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(handle, CURLOPT_CAPATH, nullptr);
  }
  curl_blob cert{const_cast<char *>(tls.cert_pem.data()), tls.cert_pem.size(), CURL_BLOB_COPY};
  curl_blob key{const_cast<char *>(tls.key_pem.data()), tls.key_pem.size(), CURL_BLOB_COPY};
  if (!tls.cert_pem.empty()) {
    curl_easy_setopt(handle, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(handle, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(handle, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(handle, CURLOPT_SSLKEYTYPE, "PEM");
  }
  const CURLcode rc = curl_easy_perform(handle);
  if (rc != CURLE_OK) {
    // libcurl's messages name hosts and reasons, never the credentials it was given.
    return Status(failure_code,
                  "the request to " + url + " failed: " +
                      (error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))) +
                      ClientCertificateHint(url, tls, rc),
                  true);
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply->status);
  return Status::Ok();
}

}  // namespace

Status PostForm(const HttpFormPost &post, const HttpTransport &transport, HttpReply *reply) {
  InitCurlOnce();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return Status(StatusCode::kNoMemory, "libcurl could not make a handle");
  CURL *handle = curl.get();
  std::string body;
  for (const auto &[name, value] : post.form) {
    if (!body.empty()) body += '&';
    body += Escape(handle, name) + "=" + Escape(handle, value);
  }
  if (!post.user.empty()) {
    curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(handle, CURLOPT_USERNAME, post.user.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, post.password.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  return Perform(handle, post.url, transport, StatusCode::kAuth, kMaxTokenReply, reply);
}

std::string ServerMessage(const std::string &body) {
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  std::string message;
  if (parsed.is_object()) {
    for (const char *field : {"error", "error_description", "error_code", "message"}) {
      auto it = parsed.find(field);
      if (it == parsed.end() || !it->is_string()) continue;
      if (!message.empty()) message += ": ";
      message += it->get_ref<const std::string &>();
    }
  }
  // Whatever the server wrote, a message quotes a short, printable part of it.
  return table::Excerpt(message.empty() ? body : message, kMaxQuotedBody);
}

Status Get(const HttpGet &get, const HttpTransport &transport, HttpReply *reply) {
  InitCurlOnce();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return Status(StatusCode::kNoMemory, "libcurl could not make a handle");
  CURL *handle = curl.get();
  Slist headers;
  if (!get.bearer_token.empty()) {
    const std::string authorization = "Authorization: Bearer " + get.bearer_token;
    headers.reset(curl_slist_append(nullptr, authorization.c_str()));
    if (!headers) return Status(StatusCode::kNoMemory, "libcurl could not add a header");
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  }
  curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  return Perform(handle, get.url, transport, StatusCode::kTransport, get.max_body, reply);
}

}  // namespace zerobus
