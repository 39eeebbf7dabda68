#include "server/admin_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/fault_plan_json.h"
#include "table/json_value.h"

namespace zerobus::server {
namespace {

using nlohmann::json;

json CountersJson(const TableStats &stats) {
  return {{"streams_opened", stats.streams_opened},
          {"streams_open", stats.streams_open},
          {"streams_closed_by_client", stats.streams_closed_by_client},
          {"streams_cancelled_by_client", stats.streams_cancelled_by_client},
          {"streams_ended_by_server", stats.streams_ended_by_server},
          {"requests", stats.requests},
          {"records", stats.records},
          {"user_agents", stats.user_agents}};
}

void Reply(httplib::Response &response, int status, const json &body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

// Errors in the shape the service's REST side uses.
void ReplyError(httplib::Response &response, int status, const std::string &message) {
  Reply(response, status, {{"error_code", "INVALID_PARAMETER_VALUE"}, {"message", message}});
}

}  // namespace

std::unique_ptr<AdminHttp> AdminHttp::Start(const std::string &host, int port, Faults *faults,
                                            const Stats *stats, const TokenIssuer *tokens,
                                            std::string *error) {
  auto server = std::make_unique<httplib::Server>();
  httplib::Server &http = *server;
  if (tokens != nullptr) {
    http.set_pre_routing_handler([tokens](const httplib::Request &request,
                                          httplib::Response &response) {
      std::string why;
      const int denied = tokens->CheckWorkspace(request.get_header_value("Authorization"), &why);
      if (denied == 0) return httplib::Server::HandlerResponse::Unhandled;
      Reply(response, denied,
            {{"error_code", denied == 401 ? "UNAUTHENTICATED" : "PERMISSION_DENIED"},
             {"message", why}});
      return httplib::Server::HandlerResponse::Handled;
    });
  }

  http.Get("/admin/faults", [faults](const httplib::Request &, httplib::Response &response) {
    json plans = json::object();
    for (const auto &entry : faults->Plans()) plans[entry.first] = FaultPlanToJson(entry.second);
    Reply(response, 200, {{"seed", faults->seed()}, {"plans", plans}});
  });
  http.Put(R"(/admin/faults/([^/]+))",
           [faults](const httplib::Request &request, httplib::Response &response) {
             json body;
             std::string why;
             if (!table::ParseJson(request.body, &body, &why)) {
               return ReplyError(response, 400, "the fault plan " + why);
             }
             FaultPlan plan;
             if (!FaultPlanFromJson(body, &plan, &why)) return ReplyError(response, 400, why);
             faults->Set(request.matches[1], plan);
             Reply(response, 200, {{request.matches[1], FaultPlanToJson(plan)}});
           });
  http.Delete(R"(/admin/faults/([^/]+))",
              [faults](const httplib::Request &request, httplib::Response &response) {
                faults->Clear(request.matches[1]);
                Reply(response, 200, json::object());
              });
  http.Get("/admin/stats", [stats](const httplib::Request &, httplib::Response &response) {
    json tables = json::object();
    for (const std::string &table : stats->Tables()) {
      tables[table] = CountersJson(stats->ForTable(table));
    }
    Reply(response, 200, {{"total", CountersJson(stats->Total())}, {"tables", tables}});
  });

  std::unique_ptr<HttpListener> listener =
      HttpListener::Start(std::move(server), host, port, error);
  if (!listener) return nullptr;
  return std::unique_ptr<AdminHttp>(new AdminHttp(std::move(listener)));
}

}  // namespace zerobus::server
