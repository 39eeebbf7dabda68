// Runs a cpp-httplib server on a thread of its own, from bind to stop.
#ifndef ZEROBUS_SERVER_HTTP_LISTENER_H
#define ZEROBUS_SERVER_HTTP_LISTENER_H

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace zerobus::server {

class HttpListener {
 public:
  // Binds `http` (routes already set) to host:port (0 picks a free port) and serves. Null with
  // the reason in `*error` when it cannot bind.
  static std::unique_ptr<HttpListener> Start(std::unique_ptr<httplib::Server> http,
                                             const std::string &host, int port, std::string *error);
  // Stops serving and joins the thread.
  ~HttpListener();
  HttpListener(const HttpListener &) = delete;
  HttpListener &operator=(const HttpListener &) = delete;

  int port() const { return port_; }

 private:
  HttpListener() = default;

  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_HTTP_LISTENER_H
