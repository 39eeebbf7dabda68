// POST /oidc/v1/token: the OAuth client-credentials flow of protocol.md §2, as the workspace
// runs it for Zerobus clients. HTTP Basic auth carries the client id and secret; the form
// carries grant_type=client_credentials, scope=all-apis and, for a Zerobus token, resource
// (api://databricks/workspaces/<id>/zerobusDirectWriteApi) and authorization_details, a JSON
// array granting USE CATALOG, USE SCHEMA, and SELECT and MODIFY on one table.
#ifndef ZEROBUS_SERVER_OAUTH_TOKEN_H
#define ZEROBUS_SERVER_OAUTH_TOKEN_H

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/table_catalog.h"
#include "server/token_issuer.h"

namespace zerobus::server {

struct ClientCredentials {
  std::string id;
  std::string secret;
};

struct TokenReply {
  int http_status = 200;
  // {access_token, token_type, expires_in, scope}, or an OAuth error {error,
  // error_description}.
  nlohmann::json body;
};

// Answers one token request. `credentials`: the only client accepted (none: any client).
// `form`: the decoded form fields.
TokenReply AnswerTokenRequest(const std::optional<ClientCredentials> &credentials,
                              const std::string &authorization_header,
                              const std::map<std::string, std::string> &form,
                              const TableCatalog &tables, std::chrono::seconds lifetime,
                              TokenIssuer *issuer);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_OAUTH_TOKEN_H
