#include "core/table_fetch.h"

#include "core/endpoint.h"
#include "core/http_client.h"
#include "core/oauth.h"

namespace zerobus {
namespace {

// The credentials of `config` as a bearer token: a workspace token requested with the client
// credentials, auth.token as it is, or none.
Status BearerToken(const Sdk &sdk, const Settings &settings, std::string *token) {
  const bool client = !settings.client_id.empty() || !settings.client_secret.empty();
  if (!client) {
    *token = settings.auth_token;
    return Status::Ok();
  }
  if (settings.client_id.empty() || settings.client_secret.empty()) {
    return Status(StatusCode::kInvalidArg, "auth.client.id and auth.client.secret go together");
  }
  OAuthClient oauth{sdk.workspace_url(),       sdk.endpoint().workspace_id,
                    settings.client_id,        settings.client_secret,
                    sdk.workspace_transport(), std::chrono::milliseconds(0)};
  IssuedToken issued;
  Status got = RequestToken(oauth, WorkspaceTokenForm(), &issued);
  if (!got.ok()) return got;
  *token = std::move(issued.access_token);
  return Status::Ok();
}

}  // namespace

Status FetchTableInfo(const Sdk &sdk, std::string_view table, const Config &config,
                      std::string *json) {
  if (sdk.workspace_url().empty()) {
    return Status(StatusCode::kInvalidArg,
                  "fetching a table's schema needs workspace.url, where Unity Catalog is, in the "
                  "SDK's config");
  }
  Status valid = CheckTableName(table);
  if (!valid.ok()) return valid;
  HttpGet get;
  // catalog.schema.table needs no escaping: CheckTableName() allows letters, digits, '_', '.'.
  get.url = sdk.workspace_url() + "/api/2.1/unity-catalog/tables/" + std::string(table);
  Status token = BearerToken(sdk, config.settings(), &get.bearer_token);
  if (!token.ok()) return token;
  HttpReply reply;
  Status sent = Get(get, sdk.workspace_transport(), &reply);
  if (!sent.ok()) return sent;
  if (reply.status >= 200 && reply.status <= 299) {
    *json = std::move(reply.body);
    return Status::Ok();
  }
  const std::string why = "Unity Catalog answered HTTP " + std::to_string(reply.status) + " for " +
                          std::string(table) + ": " + ServerMessage(reply.body);
  if (reply.status == 404) return Status(StatusCode::kInvalidTarget, why);
  if (reply.status == 401 || reply.status == 403) return Status(StatusCode::kAuth, why);
  return Status(StatusCode::kTransport, why, reply.status >= 500 || reply.status == 429);
}

}  // namespace zerobus
