// POST /oidc/v1/token: the OAuth client-credentials flow as the workspace runs it for Zerobus
// clients now (reference/official-3x.md §5). HTTP Basic auth carries the client id and secret;
// the form (application/x-www-form-urlencoded, each field once) carries
// grant_type=client_credentials, scope=all-apis and, for a Zerobus token, resource
// (api://databricks/workspaces/<id>/zerobusDirectWriteApi) and authorization_details, a JSON
// array of three unity_catalog_privileges grants: USE CATALOG on the catalog, USE SCHEMA on
// catalog.schema, and SELECT and MODIFY on the table with "operations": ["zerobuswrite"]. The
// shape clients sent before, without the operation, is refused, as the service refuses it.
// Token federation (RFC 8693) sends the same form without HTTP Basic, with grant_type
// urn:ietf:params:oauth:grant-type:token-exchange, subject_token (a JWT of the identity
// provider), subject_token_type urn:ietf:params:oauth:token-type:jwt and optionally client_id
// (workload identity federation); the token issued lives no longer than the subject JWT.
#ifndef ZEROBUS_SERVER_OAUTH_TOKEN_H
#define ZEROBUS_SERVER_OAUTH_TOKEN_H

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/subject_token_verifier.h"
#include "server/table_catalog.h"
#include "server/token_issuer.h"
#include "sync/mutex.h"

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

// A token request as the endpoint received it.
struct TokenRequest {
  std::string authorization;  // the Authorization header
  std::string content_type;
  std::string user_agent;
  // The decoded form fields, by name; a field sent twice is there twice.
  std::multimap<std::string, std::string> form;
};

// Answers one token request. `credentials`: the only client accepted (none: any client), and
// the only client_id a token exchange may name. `federation`: the identity provider whose
// subject tokens a token exchange may present; null refuses token exchange. `now` dates the
// subject tokens.
TokenReply AnswerTokenRequest(const std::optional<ClientCredentials> &credentials,
                              const SubjectTokenVerifier *federation, const TokenRequest &request,
                              const TableCatalog &tables, std::chrono::seconds lifetime,
                              std::chrono::system_clock::time_point now, TokenIssuer *issuer);

// A token request and how it was answered.
struct AnsweredTokenRequest {
  TokenRequest request;
  int http_status = 0;
  std::string error;  // the OAuth error ("invalid_request", say); empty when a token was issued
};

// The last token requests an endpoint answered, so that tests see exactly what a client sent.
// Thread-safe.
class TokenRequestLog {
 public:
  static constexpr size_t kKept = 64;

  void Add(AnsweredTokenRequest answered);
  // The requests kept, oldest first.
  std::vector<AnsweredTokenRequest> Snapshot() const;

 private:
  mutable sync::Mutex mu_;
  std::deque<AnsweredTokenRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_OAUTH_TOKEN_H
