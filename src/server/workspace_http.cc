#include "server/workspace_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/uc_table_json.h"

namespace zerobus::server {
namespace {

using nlohmann::json;

void Reply(httplib::Response &response, int status, const json &body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

// Errors in the shape the workspace's REST API uses.
void ReplyError(httplib::Response &response, int status, const std::string &code,
                const std::string &message) {
  Reply(response, status, {{"error_code", code}, {"message", message}});
}

}  // namespace

std::unique_ptr<WorkspaceHttp> WorkspaceHttp::Start(const WorkspaceHttpOptions &options,
                                                    const TableCatalog *tables, TokenIssuer *tokens,
                                                    TokenRequestLog *requests, std::string *error) {
  std::unique_ptr<httplib::Server> server;
  if (options.tls_cert_file.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    // With a client authority, cpp-httplib verifies the peer and fails the handshake of a
    // client without a certificate.
    server = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str(),
        options.tls_client_ca_file.empty() ? nullptr : options.tls_client_ca_file.c_str());
  }

  server->Get(
      R"(/api/2.1/unity-catalog/tables/([^/]+))",
      [options, tables, tokens](const httplib::Request &request, httplib::Response &response) {
        // Whoever can get a token (a client secret or an identity provider's JWT) needs one.
        if (options.credentials || options.federation) {
          std::string why;
          const int denied =
              tokens->CheckWorkspace(request.get_header_value("Authorization"), &why);
          if (denied != 0) {
            return ReplyError(response, denied,
                              denied == 401 ? "UNAUTHENTICATED" : "PERMISSION_DENIED", why);
          }
        }
        const std::string name = request.matches[1];
        const table::TableSchema *schema = nullptr;
        if (!tables->Find(name, &schema).ok() || schema == nullptr) {
          return ReplyError(response, 404, "TABLE_DOES_NOT_EXIST",
                            "Table '" + name + "' does not exist.");
        }
        Reply(response, 200, TableInfoJson(*schema, options.storage_location, options.created_at));
      });

  server->Post("/oidc/v1/token", [options, tables, tokens, requests](
                                     const httplib::Request &request, httplib::Response &response) {
    AnsweredTokenRequest answered;
    answered.request.authorization = request.get_header_value("Authorization");
    answered.request.content_type = request.get_header_value("Content-Type");
    answered.request.user_agent = request.get_header_value("User-Agent");
    answered.request.form.insert(request.params.begin(), request.params.end());
    const TokenReply reply =
        AnswerTokenRequest(options.credentials, options.federation.get(), answered.request, *tables,
                           options.token_lifetime, std::chrono::system_clock::now(), tokens);
    answered.http_status = reply.http_status;
    if (reply.body.contains("error")) answered.error = reply.body["error"].get<std::string>();
    requests->Add(std::move(answered));
    Reply(response, reply.http_status, reply.body);
  });

  std::unique_ptr<HttpListener> listener =
      HttpListener::Start(std::move(server), options.host, options.port, error);
  if (!listener) return nullptr;
  return std::unique_ptr<WorkspaceHttp>(new WorkspaceHttp(std::move(listener)));
}

}  // namespace zerobus::server
