// The admin endpoint: plain HTTP on loopback, for changing faults while a server runs and for
// reading its counters. When the server checks tokens (ServerOptions::auth), so does this
// endpoint, as the Unity Catalog API does: every request needs "Authorization: Bearer <token>"
// with an unexpired workspace token from the server's /oidc/v1/token (401 without one, 403 for
// a token scoped to a table), since it can refuse every stream.
//
//   GET    /admin/faults          {"seed": N, "plans": {"<table or *>": <plan>, ...}}
//   PUT    /admin/faults/TABLE    body: a plan (fault_plan_json.h); replaces TABLE's plan
//   DELETE /admin/faults/TABLE    removes TABLE's plan ("*": every plan)
//   GET    /admin/stats           {"total": <counters>, "tables": {"<table>": <counters>}}
//                                  (<counters>: TableStats's, user_agents as {"<agent>": N})
#ifndef ZEROBUS_SERVER_ADMIN_HTTP_H
#define ZEROBUS_SERVER_ADMIN_HTTP_H

#include <memory>
#include <string>

#include "server/faults.h"
#include "server/http_listener.h"
#include "server/stats.h"
#include "server/token_issuer.h"

namespace zerobus::server {

class AdminHttp {
 public:
  // Listens on host:port (0 picks a free port) and serves on a thread of its own. Null with
  // the reason in `*error` when it cannot listen. `tokens`: the issuer whose workspace tokens
  // requests must bear, or null to answer anyone. `faults`, `stats` and `tokens` outlive the
  // endpoint.
  static std::unique_ptr<AdminHttp> Start(const std::string &host, int port, Faults *faults,
                                          const Stats *stats, const TokenIssuer *tokens,
                                          std::string *error);
  int port() const { return listener_->port(); }

 private:
  explicit AdminHttp(std::unique_ptr<HttpListener> listener) : listener_(std::move(listener)) {}

  std::unique_ptr<HttpListener> listener_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ADMIN_HTTP_H
