#include "server/oauth_token.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using nlohmann::json;

TokenReply Error(int status, const std::string &error, const std::string &description) {
  return TokenReply{status, {{"error", error}, {"error_description", description}}};
}

// The value of the form field `name`, "" when absent; false when it was sent more than once.
bool Field(const std::multimap<std::string, std::string> &form, const std::string &name,
           std::string *value) {
  const auto [first, last] = form.equal_range(name);
  if (first == last) {
    value->clear();
    return true;
  }
  if (std::next(first) != last) return false;
  *value = first->second;
  return true;
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

bool IsString(const json &object, const char *key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string();
}

// The strings of `object`'s array member `key`; false when it is missing, not an array, or
// holds something other than strings.
bool StringSet(const json &object, const char *key, std::set<std::string> *out) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_array()) return false;
  for (const json &item : *found) {
    if (!item.is_string()) return false;
    out->insert(item.get<std::string>());
  }
  return true;
}

// The table `details` grants write access to, or "" with the reason in `*why`. The grants are
// checked as the service checks them: three unity_catalog_privileges entries, one per object
// type, the table's with the operation zerobuswrite.
std::string GrantedTable(const std::string &details, std::string *why) {
  json grants;
  std::string unparsed;
  if (!table::ParseJson(details, &grants, &unparsed) || !grants.is_array()) {
    *why = "authorization_details must be a JSON array";
    return "";
  }
  struct Grant {
    std::string path;
    std::set<std::string> privileges;
    json entry;
  };
  std::map<std::string, Grant> by_type;
  for (const json &grant : grants) {
    // Every member read below is checked first: a value of another type would throw.
    Grant parsed;
    if (!grant.is_object() || !IsString(grant, "type") ||
        grant["type"] != "unity_catalog_privileges" || !IsString(grant, "object_type") ||
        !IsString(grant, "object_full_path") ||
        !StringSet(grant, "privileges", &parsed.privileges)) {
      *why =
          "each authorization_details entry needs type unity_catalog_privileges, "
          "object_type, object_full_path and privileges (an array of strings)";
      return "";
    }
    const std::string type = grant["object_type"].get<std::string>();
    if (type != "CATALOG" && type != "SCHEMA" && type != "TABLE") {
      *why = "authorization_details grants on CATALOG, SCHEMA and TABLE only, not " +
             table::Excerpt(type);
      return "";
    }
    parsed.path = grant["object_full_path"].get<std::string>();
    parsed.entry = grant;
    if (!by_type.emplace(type, std::move(parsed)).second) {
      *why = "authorization_details names more than one " + type;
      return "";
    }
  }
  const auto table = by_type.find("TABLE");
  if (table == by_type.end()) {
    *why = "authorization_details names no TABLE";
    return "";
  }
  const std::string &name = table->second.path;
  const size_t first_dot = name.find('.');
  const size_t second_dot = name.find('.', first_dot + 1);
  if (first_dot == std::string::npos || second_dot == std::string::npos ||
      name.find('.', second_dot + 1) != std::string::npos) {
    *why = "the TABLE object_full_path must be catalog.schema.table";
    return "";
  }
  const std::set<std::string> &table_privileges = table->second.privileges;
  const auto catalog = by_type.find("CATALOG");
  const auto schema = by_type.find("SCHEMA");
  if (!table_privileges.count("SELECT") || !table_privileges.count("MODIFY") ||
      catalog == by_type.end() || catalog->second.path != name.substr(0, first_dot) ||
      !catalog->second.privileges.count("USE CATALOG") || schema == by_type.end() ||
      schema->second.path != name.substr(0, second_dot) ||
      !schema->second.privileges.count("USE SCHEMA")) {
    *why =
        "authorization_details must grant USE CATALOG on the catalog, USE SCHEMA on the "
        "schema, and SELECT and MODIFY on the table " +
        table::Excerpt(name);
    return "";
  }
  std::set<std::string> operations;
  if (!StringSet(table->second.entry, "operations", &operations) ||
      operations != std::set<std::string>{"zerobuswrite"}) {
    *why =
        "the TABLE grant of authorization_details must carry \"operations\": "
        "[\"zerobuswrite\"], the operation a Zerobus token is for";
    return "";
  }
  return name;
}

// Checks the subject of a token exchange: its type, the client it names, and the JWT itself;
// the refusal, or none with how long the subject stays valid in `*left`.
std::optional<TokenReply> CheckSubject(const std::optional<ClientCredentials> &credentials,
                                       const SubjectTokenVerifier &federation,
                                       const std::string &subject, const std::string &subject_type,
                                       const std::string &client_id,
                                       std::chrono::system_clock::time_point now,
                                       std::chrono::seconds *left) {
  if (subject_type != "urn:ietf:params:oauth:token-type:jwt") {
    return Error(400, "invalid_request",
                 "subject_token_type must be urn:ietf:params:oauth:token-type:jwt");
  }
  if (subject.empty()) return Error(400, "invalid_request", "a token exchange needs subject_token");
  if (!client_id.empty() && credentials && client_id != credentials->id) {
    return Error(401, "invalid_client", "unknown client_id " + table::Excerpt(client_id));
  }
  int64_t exp = 0;
  std::string why;
  if (!federation.Verify(subject, now, &exp, &why)) {
    return Error(400, "invalid_request", "the subject_token is refused: " + why);
  }
  *left = std::chrono::seconds(
      exp - std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  return std::nullopt;
}

}  // namespace

TokenReply AnswerTokenRequest(const std::optional<ClientCredentials> &credentials,
                              const SubjectTokenVerifier *federation, const TokenRequest &request,
                              const TableCatalog &tables, std::chrono::seconds lifetime,
                              std::chrono::system_clock::time_point now, TokenIssuer *issuer) {
  const std::string kTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
  std::string grant_type;
  const bool exchange =
      Field(request.form, "grant_type", &grant_type) && grant_type == kTokenExchange;
  if (exchange && !federation) {
    return Error(400, "unsupported_grant_type",
                 "this server has no identity provider to accept a token exchange from");
  }
  if (exchange) {
    // The subject token stands for the client: a secret as well would be a second identity.
    if (!request.authorization.empty()) {
      return Error(400, "invalid_request", "a token exchange carries no Authorization header");
    }
  } else {
    ClientCredentials client;
    if (!ParseBasic(request.authorization, &client)) {
      return Error(401, "invalid_client", "client credentials must come as HTTP Basic auth");
    }
    if (credentials && (client.id != credentials->id || client.secret != credentials->secret)) {
      return Error(401, "invalid_client", "unknown client id or wrong secret");
    }
  }
  if (request.content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
    return Error(400, "invalid_request",
                 "the request must be a form, application/x-www-form-urlencoded");
  }
  std::string scope, resource, details, subject, subject_type, client_id;
  for (const auto &[name, value] :
       {std::pair<const char *, std::string *>{"grant_type", &grant_type},
        {"scope", &scope},
        {"resource", &resource},
        {"authorization_details", &details},
        {"subject_token", &subject},
        {"subject_token_type", &subject_type},
        {"client_id", &client_id}}) {
    if (!Field(request.form, name, value)) {
      return Error(400, "invalid_request", std::string(name) + " must be given once");
    }
  }
  if (exchange) {
    std::chrono::seconds left;
    const std::optional<TokenReply> refused =
        CheckSubject(credentials, *federation, subject, subject_type, client_id, now, &left);
    if (refused) return *refused;
    lifetime = std::min(lifetime, left);
  } else if (grant_type != "client_credentials") {
    return Error(400, "unsupported_grant_type",
                 federation ? "grant_type must be client_credentials or " + kTokenExchange
                            : std::string("grant_type must be client_credentials"));
  }
  if (scope != "all-apis") return Error(400, "invalid_scope", "scope must be all-apis");
  std::string table;
  if (!details.empty() || !resource.empty()) {
    const std::string prefix = "api://databricks/workspaces/";
    const std::string suffix = "/zerobusDirectWriteApi";
    if (resource.size() <= prefix.size() + suffix.size() || resource.rfind(prefix, 0) != 0 ||
        resource.compare(resource.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return Error(400, "invalid_request",
                   "resource must be api://databricks/workspaces/<workspace id>"
                   "/zerobusDirectWriteApi");
    }
    if (details.empty()) {
      return Error(400, "invalid_request",
                   "a token for zerobusDirectWriteApi needs authorization_details naming its "
                   "table");
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

void TokenRequestLog::Add(AnsweredTokenRequest answered) {
  sync::MutexLock lock(mu_);
  if (requests_.size() == kKept) requests_.pop_front();
  requests_.push_back(std::move(answered));
}

std::vector<AnsweredTokenRequest> TokenRequestLog::Snapshot() const {
  sync::MutexLock lock(mu_);
  return {requests_.begin(), requests_.end()};
}

}  // namespace zerobus::server
