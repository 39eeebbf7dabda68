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

bool Set(zb_config *config, const char *key, const std::string &value, zb_error **err) {
  return value.empty() || zb_config_set(config, key, value.c_str(), err) == ZB_OK;
}

}  // namespace

ConfigPtr NewAccessConfig(const WorkspaceAccess &access, zb_error **err) {
  zb_config *made = nullptr;
  if (zb_config_new(&made, err) != ZB_OK) return nullptr;
  ConfigPtr config(made);
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
  if (!Set(config.get(), "workspace.url", access.url, err) ||
      !Set(config.get(), "transport.plaintext", plaintext ? "true" : "", err) ||
      !Set(config.get(), "tls.ca.file", access.ca_file, err) ||
      !Set(config.get(), "auth.client.id", client_id, err) ||
      !Set(config.get(), "auth.client.secret", secret, err) ||
      !Set(config.get(), "auth.token", token, err)) {
    return nullptr;
  }
  return config;
}

SchemaPtr FetchSchema(const WorkspaceAccess &access, const std::string &table, zb_error **err) {
  const ConfigPtr config = NewAccessConfig(access, err);
  if (!config) return nullptr;
  // The SDK's endpoint is only where gRPC would go; fetching needs its workspace side alone.
  zb_sdk *sdk = nullptr;
  if (zb_sdk_new(access.url.c_str(), config.get(), &sdk, err) != ZB_OK) return nullptr;
  const SdkPtr owned(sdk);
  zb_schema *schema = nullptr;
  zb_schema_fetch(sdk, table.c_str(), config.get(), &schema, err);
  return SchemaPtr(schema);
}

}  // namespace zerobus::cli
