// The admin endpoint: plain HTTP on loopback, for changing faults while a server runs and for
// reading its counters.
//
//   GET    /admin/faults          {"seed": N, "plans": {"<table or *>": <plan>, ...}}
//   PUT    /admin/faults/TABLE    body: a plan (fault_plan_json.h); replaces TABLE's plan
//   DELETE /admin/faults/TABLE    removes TABLE's plan ("*": every plan)
//   GET    /admin/stats           {"total": <counters>, "tables": {"<table>": <counters>}}
#ifndef ZEROBUS_SERVER_ADMIN_HTTP_H
#define ZEROBUS_SERVER_ADMIN_HTTP_H

#include <memory>
#include <string>

#include "server/faults.h"
#include "server/http_listener.h"
#include "server/stats.h"

namespace zerobus::server {

class AdminHttp {
 public:
  // Listens on host:port (0 picks a free port) and serves on a thread of its own. Null with
  // the reason in `*error` when it cannot listen. `faults` and `stats` outlive the endpoint.
  static std::unique_ptr<AdminHttp> Start(const std::string &host, int port, Faults *faults,
                                          const Stats *stats, std::string *error);
  int port() const { return listener_->port(); }

 private:
  explicit AdminHttp(std::unique_ptr<HttpListener> listener) : listener_(std::move(listener)) {}

  std::unique_ptr<HttpListener> listener_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ADMIN_HTTP_H
