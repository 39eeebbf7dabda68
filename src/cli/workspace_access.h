// How the commands reach Databricks: a config that carries a workspace's URL, trust and
// credentials (from flags or the DATABRICKS_* variables), shared by `zerobus schema` and
// `zerobus ingest`.
#ifndef ZEROBUS_CLI_WORKSPACE_ACCESS_H
#define ZEROBUS_CLI_WORKSPACE_ACCESS_H

#include <string>

#include <zerobus/zerobus.hpp>

namespace zerobus::cli {

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
// tls.ca.file and one source of credentials). Throws zerobus::Error when a value does not take
// (a malformed URL, say).
zerobus::Config NewAccessConfig(const WorkspaceAccess &access);

// The schema of `table` as the workspace's Unity Catalog describes it (Sdk::fetch_schema()).
// Throws zerobus::Error on failure.
zerobus::Schema FetchSchema(const WorkspaceAccess &access, const std::string &table);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_WORKSPACE_ACCESS_H
