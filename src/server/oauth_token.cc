#include "server/oauth_token.h"

#include <set>

#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using nlohmann::json;

TokenReply Error(int status, const std::string &error, const std::string &description) {
  return TokenReply{status, {{"error", error}, {"error_description", description}}};
}

std::string Field(const std::map<std::string, std::string> &form, const std::string &name) {
  auto it = form.find(name);
  return it == form.end() ? "" : it->second;
}

// The client id and secret of an HTTP Basic authorization header.
bool ParseBasic(const std::string &header, ClientCredentials *client) {
  const std::string prefix = "Basic ";
  std::string decoded;
  if (header.rfind(prefix, 0) != 0 ||
      !table::DecodeBase64(header.substr(prefix.size()), &decoded)) {
    return false;
  }
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  client->id = decoded.substr(0, colon);
  client->secret = decoded.substr(colon + 1);
  return true;
}

// The table `details` grants write access to, or "" with the reason in `*why`.
std::string GrantedTable(const std::string &details, std::string *why) {
  json grants;
  std::string unparsed;
  if (!table::ParseJson(details, &grants, &unparsed) || !grants.is_array()) {
    *why = "authorization_details must be a JSON array";
    return "";
  }
  std::map<std::string, std::pair<std::string, std::set<std::string>>> by_type;
  const auto is_string = [](const json &object, const char *key) {
    const auto found = object.find(key);
    return found != object.end() && found->is_string();
  };
  for (const json &grant : grants) {
    // Every member read below is checked first: a value of another type would throw.
    if (!grant.is_object() || !is_string(grant, "type") ||
        grant["type"] != "unity_catalog_privileges" || !is_string(grant, "object_type") ||
        !is_string(grant, "object_full_path") || !grant.contains("privileges") ||
        !grant["privileges"].is_array()) {
      *why =
          "each authorization_details entry needs type unity_catalog_privileges, "
          "object_type, object_full_path and privileges";
      return "";
    }
    std::set<std::string> privileges;
    for (const json &privilege : grant["privileges"]) {
      if (privilege.is_string()) privileges.insert(privilege.get<std::string>());
    }
    by_type[grant["object_type"].get<std::string>()] = {
        grant["object_full_path"].get<std::string>(), privileges};
  }
  const auto table = by_type.find("TABLE");
  if (table == by_type.end()) {
    *why = "authorization_details names no TABLE";
    return "";
  }
  const std::string &name = table->second.first;
  const size_t first_dot = name.find('.');
  const size_t second_dot = name.find('.', first_dot + 1);
  if (first_dot == std::string::npos || second_dot == std::string::npos ||
      name.find('.', second_dot + 1) != std::string::npos) {
    *why = "the TABLE object_full_path must be catalog.schema.table";
    return "";
  }
  const std::set<std::string> &table_privileges = table->second.second;
  const auto catalog = by_type.find("CATALOG");
  const auto schema = by_type.find("SCHEMA");
  if (!table_privileges.count("SELECT") || !table_privileges.count("MODIFY") ||
      catalog == by_type.end() || catalog->second.first != name.substr(0, first_dot) ||
      !catalog->second.second.count("USE CATALOG") || schema == by_type.end() ||
      schema->second.first != name.substr(0, second_dot) ||
      !schema->second.second.count("USE SCHEMA")) {
    *why =
        "authorization_details must grant USE CATALOG on the catalog, USE SCHEMA on the "
        "schema, and SELECT and MODIFY on the table " +
        table::Excerpt(name);
    return "";
  }
  return name;
}

}  // namespace

TokenReply AnswerTokenRequest(const std::optional<ClientCredentials> &credentials,
                              const std::string &authorization_header,
                              const std::map<std::string, std::string> &form,
                              const TableCatalog &tables, std::chrono::seconds lifetime,
                              TokenIssuer *issuer) {
  ClientCredentials client;
  if (!ParseBasic(authorization_header, &client)) {
    return Error(401, "invalid_client", "client credentials must come as HTTP Basic auth");
  }
  if (credentials && (client.id != credentials->id || client.secret != credentials->secret)) {
    return Error(401, "invalid_client", "unknown client id or wrong secret");
  }
  if (Field(form, "grant_type") != "client_credentials") {
    return Error(400, "unsupported_grant_type", "grant_type must be client_credentials");
  }
  if (Field(form, "scope") != "all-apis") {
    return Error(400, "invalid_scope", "scope must be all-apis");
  }
  std::string table;
  const std::string details = Field(form, "authorization_details");
  if (!details.empty()) {
    const std::string resource = Field(form, "resource");
    const std::string prefix = "api://databricks/workspaces/";
    const std::string suffix = "/zerobusDirectWriteApi";
    if (resource.size() <= prefix.size() + suffix.size() || resource.rfind(prefix, 0) != 0 ||
        resource.compare(resource.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return Error(400, "invalid_request",
                   "resource must be api://databricks/workspaces/<workspace id>"
                   "/zerobusDirectWriteApi");
    }
    std::string why;
    table = GrantedTable(details, &why);
    if (table.empty()) return Error(400, "invalid_request", why);
    const table::TableSchema *schema = nullptr;
    if (!tables.Find(table, &schema).ok()) {
      return Error(401, "access_denied",
                   "User is not authorized to the requested authorizations: table " +
                       table::Excerpt(table) + " does not exist");
    }
  }
  return TokenReply{200,
                    {{"access_token", issuer->Issue(table, lifetime)},
                     {"token_type", "Bearer"},
                     {"expires_in", lifetime.count()},
                     {"scope", "all-apis"}}};
}

}  // namespace zerobus::server
