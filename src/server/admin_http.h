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
#include <thread>

#include "server/faults.h"
#include "server/stats.h"

namespace httplib {
class Server;
}

namespace zerobus::server {

class AdminHttp {
 public:
  // Listens on host:port (0 picks a free port) and serves on a thread of its own. Null with
  // the reason in `*error` when it cannot listen. `faults` and `stats` outlive the endpoint.
  static std::unique_ptr<AdminHttp> Start(const std::string &host, int port, Faults *faults,
                                          const Stats *stats, std::string *error);
  // Stops serving and joins the thread.
  ~AdminHttp();
  AdminHttp(const AdminHttp &) = delete;
  AdminHttp &operator=(const AdminHttp &) = delete;

  int port() const { return port_; }

 private:
  AdminHttp() = default;

  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

// Whether `host` names this machine's loopback interface.
bool IsLoopbackHost(const std::string &host);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ADMIN_HTTP_H
