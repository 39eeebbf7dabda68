// How the commands reach Databricks: owning handles for the C API's objects, and a config that
// carries a workspace's URL, trust and credentials (from flags or the DATABRICKS_* variables),
// shared by `zerobus schema` and `zerobus ingest`.
#ifndef ZEROBUS_CLI_WORKSPACE_ACCESS_H
#define ZEROBUS_CLI_WORKSPACE_ACCESS_H

#include <zerobus/zerobus.h>

#include <memory>
#include <string>

namespace zerobus::cli {

struct ConfigDeleter {
  void operator()(zb_config *config) const { zb_config_destroy(config); }
};
struct SdkDeleter {
  void operator()(zb_sdk *sdk) const { zb_sdk_destroy(sdk); }
};
struct SchemaDeleter {
  void operator()(zb_schema *schema) const { zb_schema_destroy(schema); }
};
struct ErrorDeleter {
  void operator()(zb_error *error) const { zb_error_free(error); }
};
using ConfigPtr = std::unique_ptr<zb_config, ConfigDeleter>;
using SdkPtr = std::unique_ptr<zb_sdk, SdkDeleter>;
using SchemaPtr = std::unique_ptr<zb_schema, SchemaDeleter>;
using ErrorPtr = std::unique_ptr<zb_error, ErrorDeleter>;

// Where the workspace is and who we are there. Empty credentials are taken from the
// environment: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth client credentials of
// a service principal), else DATABRICKS_TOKEN; with none of them, no credentials (a local
// server without --auth).
struct WorkspaceAccess {
  std::string url;  // "https://HOST"; an http:// URL is spoken to in plaintext
  std::string ca_file;
  std::string client_id;
  std::string client_secret;
  // False: no credentials at all, whatever the environment holds (the embedded local server).
  bool credentials = true;
};

// A new config with `access` applied (workspace.url, transport.plaintext for http:// URLs,
// tls.ca.file and one source of credentials). Returns null with *err set when a value does not
// take (a malformed URL, say).
ConfigPtr NewAccessConfig(const WorkspaceAccess &access, zb_error **err);

// The schema of `table` as the workspace's Unity Catalog describes it (zb_schema_fetch()).
// Returns null with *err set on failure.
SchemaPtr FetchSchema(const WorkspaceAccess &access, const std::string &table, zb_error **err);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_WORKSPACE_ACCESS_H
