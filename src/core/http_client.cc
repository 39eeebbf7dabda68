#include "http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace zerobus {
namespace {

// curl_global_init() is not thread-safe with every TLS backend; once per process.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char *data, size_t size, size_t count, void *body) {
  static_cast<std::string *>(body)->append(data, size * count);
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

}  // namespace

Status PostForm(const HttpFormPost &post, const HttpTransport &transport, HttpReply *reply) {
  InitCurlOnce();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return Status(ZB_ERR_NO_MEMORY, "libcurl could not make a handle");
  CURL *handle = curl.get();
  std::string body;
  for (const auto &[name, value] : post.form) {
    if (!body.empty()) body += '&';
    body += Escape(handle, name) + "=" + Escape(handle, value);
  }
  reply->body.clear();
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(transport.timeout_ms));
  curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(handle, CURLOPT_USERNAME, post.user.c_str());
  curl_easy_setopt(handle, CURLOPT_PASSWORD, post.password.c_str());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &reply->body);
  // An explicit proxy, or none at all: libcurl must not read the environment on its own, so
  // that it takes the road the gRPC channel takes.
  curl_easy_setopt(handle, CURLOPT_PROXY, transport.proxy.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPPROXYTUNNEL, 1L);
  curl_blob ca{const_cast<char *>(transport.ca_pem.data()), transport.ca_pem.size(),
               CURL_BLOB_COPY};
  if (!transport.ca_pem.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &ca);
  const CURLcode rc = curl_easy_perform(handle);
  if (rc != CURLE_OK) {
    // libcurl's messages name hosts and reasons, never the credentials it was given.
    return Status(ZB_ERR_AUTH,
                  "the request to " + post.url + " failed: " +
                      (error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))),
                  true);
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply->status);
  return Status::Ok();
}

}  // namespace zerobus
