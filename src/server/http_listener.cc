#include "server/http_listener.h"

#include <httplib.h>

#include <chrono>

namespace zerobus::server {

std::unique_ptr<HttpListener> HttpListener::Start(std::unique_ptr<httplib::Server> http,
                                                  const std::string &host, int port,
                                                  std::string *error) {
  if (!http->is_valid()) {
    *error = "cannot set up the HTTP server (a bad TLS certificate or key?)";
    return nullptr;
  }
  std::unique_ptr<HttpListener> listener(new HttpListener());
  listener->http_ = std::move(http);
  httplib::Server &server = *listener->http_;
  // An idle keep-alive connection holds stop() for up to this long (httplib's default is 5 s).
  server.set_keep_alive_timeout(1);
  // Without a handler, httplib answers an exception with 500 and its what() in a header, which
  // may quote the request: a bare 500 tells a client no more than that the server failed.
  server.set_exception_handler(
      [](const httplib::Request &, httplib::Response &response, std::exception_ptr) {
        response.status = 500;
        response.set_content(R"({"error_code":"INTERNAL_ERROR","message":"internal error"})",
                             "application/json");
      });
  listener->port_ =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (listener->port_ <= 0) {
    *error = "cannot listen on " + host + ":" + std::to_string(port);
    return nullptr;
  }
  listener->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // httplib ignores a stop() that comes before its loop runs, which would leave the thread
  // listening for ever; so Start returns only once it runs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  return listener;
}

HttpListener::~HttpListener() {
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace zerobus::server
