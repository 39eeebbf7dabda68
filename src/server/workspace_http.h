// The workspace side a Zerobus client talks to beside the gRPC endpoint, over HTTP or HTTPS:
//
//   GET  /api/2.1/unity-catalog/tables/{full_name}   the table's TableInfo (uc_table_json.h)
//   POST /oidc/v1/token                              OAuth client credentials (oauth_token.h)
//
// With client credentials or an identity provider configured the Unity Catalog API wants a
// workspace token from the token endpoint; with neither, it answers anyone.
#ifndef ZEROBUS_SERVER_WORKSPACE_HTTP_H
#define ZEROBUS_SERVER_WORKSPACE_HTTP_H

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/http_listener.h"
#include "server/oauth_token.h"
#include "server/table_catalog.h"
#include "server/token_issuer.h"

namespace zerobus::server {

struct WorkspaceHttpOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  // PEM files; both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: require a client certificate signed by an authority of this PEM file.
  std::string tls_client_ca_file;
  std::optional<ClientCredentials> credentials;
  // The identity provider whose subject tokens a token exchange may present; null: none.
  std::shared_ptr<const SubjectTokenVerifier> federation;
  std::chrono::seconds token_lifetime{3600};
  std::string storage_location;  // reported in TableInfo
  int64_t created_at = 0;        // epoch ms, reported in TableInfo
};

class WorkspaceHttp {
 public:
  // Listens and serves on a thread of its own; null with the reason in `*error` on failure.
  // Every token request goes into `requests`. `tables`, `tokens` and `requests` outlive the
  // endpoint.
  static std::unique_ptr<WorkspaceHttp> Start(const WorkspaceHttpOptions &options,
                                              const TableCatalog *tables, TokenIssuer *tokens,
                                              TokenRequestLog *requests, std::string *error);

  int port() const { return listener_->port(); }

 private:
  explicit WorkspaceHttp(std::unique_ptr<HttpListener> listener) : listener_(std::move(listener)) {}

  std::unique_ptr<HttpListener> listener_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_WORKSPACE_HTTP_H
