#include "cli/workspace_access.h"

#include <cstdlib>

namespace zerobus::cli {
namespace {

// `flag` when given, else the environment variable `name`, else "".
std::string FlagOrEnvironment(const std::string &flag, const char *name) {
  if (!flag.empty()) return flag;
  const char *value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

void SetIfGiven(zerobus::Config *config, const char *key, const std::string &value) {
  if (!value.empty()) config->set(key, value);
}

}  // namespace

zerobus::Config NewAccessConfig(const WorkspaceAccess &access) {
  zerobus::Config config;
  std::string client_id;
  std::string secret;
  std::string token;
  if (access.credentials) {
    client_id = FlagOrEnvironment(access.client_id, "DATABRICKS_CLIENT_ID");
    secret = FlagOrEnvironment(access.client_secret, "DATABRICKS_CLIENT_SECRET");
    // A stream takes one source of credentials: client credentials win over a token, so that
    // a shell that exports both still works.
    if (client_id.empty() && secret.empty()) token = FlagOrEnvironment("", "DATABRICKS_TOKEN");
  }
  const bool plaintext = access.url.rfind("http://", 0) == 0;
  SetIfGiven(&config, "workspace.url", access.url);
  SetIfGiven(&config, "transport.plaintext", plaintext ? "true" : "");
  SetIfGiven(&config, "tls.ca.file", access.ca_file);
  SetIfGiven(&config, "auth.client.id", client_id);
  SetIfGiven(&config, "auth.client.secret", secret);
  SetIfGiven(&config, "auth.token", token);
  return config;
}

zerobus::Schema FetchSchema(const WorkspaceAccess &access, const std::string &table) {
  const zerobus::Config config = NewAccessConfig(access);
  // The SDK's endpoint is only where gRPC would go; fetching needs its workspace side alone.
  const zerobus::Sdk sdk(access.url, config);
  return sdk.fetch_schema(table, config);
}

}  // namespace zerobus::cli
