#include "core/oauth.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "jose/jwt.h"
#include "table/value_checks.h"

namespace zerobus {
namespace {

using nlohmann::json;

// One unity_catalog_privileges entry of authorization_details.
json Grant(json privileges, const char *object_type, std::string_view path) {
  return {{"type", "unity_catalog_privileges"},
          {"privileges", std::move(privileges)},
          {"object_type", object_type},
          {"object_full_path", std::string(path)}};
}

// `text` with every occurrence of each of `secrets` replaced by "[hidden]", the longest first:
// a shorter one replaced inside a longer one would leave the rest of the longer one.
std::string Scrub(std::string text, std::vector<std::string> secrets) {
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
  const std::string hidden = "[hidden]";
  for (const std::string &secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + hidden.size())) {
      text.replace(at, secret.size(), hidden);
    }
  }
  return text;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> TokenRequestForm(std::string_view workspace_id,
                                                                  std::string_view table) {
  const size_t first_dot = table.find('.');
  const size_t second_dot = table.find('.', first_dot + 1);
  json table_grant = Grant(json::array({"SELECT", "MODIFY"}), "TABLE", table);
  // The operation the token is for: the service refuses a table grant without it.
  table_grant["operations"] = json::array({"zerobuswrite"});
  const json details = json::array({
      Grant(json::array({"USE CATALOG"}), "CATALOG", table.substr(0, first_dot)),
      Grant(json::array({"USE SCHEMA"}), "SCHEMA", table.substr(0, second_dot)),
      std::move(table_grant),
  });
  return {{"grant_type", "client_credentials"},
          {"scope", "all-apis"},
          {"resource",
           "api://databricks/workspaces/" + std::string(workspace_id) + "/zerobusDirectWriteApi"},
          {"authorization_details", details.dump()}};
}

std::vector<std::pair<std::string, std::string>> TokenExchangeForm(std::string_view workspace_id,
                                                                   std::string_view table,
                                                                   std::string subject_token,
                                                                   std::string client_id) {
  std::vector<std::pair<std::string, std::string>> form = TokenRequestForm(workspace_id, table);
  form[0].second = "urn:ietf:params:oauth:grant-type:token-exchange";
  form.emplace_back("subject_token", std::move(subject_token));
  form.emplace_back("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
  if (!client_id.empty()) form.emplace_back("client_id", std::move(client_id));
  return form;
}

std::chrono::seconds CapAtSubjectExpiry(std::chrono::seconds issued, std::string_view subject,
                                        std::chrono::system_clock::time_point now) {
  jose::JwtParts parts;
  std::string unreadable;
  if (!jose::ParseJwt(subject, &parts, &unreadable)) return issued;
  const std::optional<int64_t> exp = jose::JwtExpiry(parts.claims);
  if (!exp) return issued;
  const int64_t left =
      *exp - std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (left <= 0) return std::chrono::seconds(0);
  return std::min(issued, std::chrono::seconds(left));
}

std::vector<std::string> CredentialForms(const std::string &client_id, const std::string &secret) {
  // Unpadded, so that the form matches whether or not an echo keeps the '='.
  std::string basic = table::EncodeBase64(client_id + ":" + secret);
  while (!basic.empty() && basic.back() == '=') basic.pop_back();
  return {secret, basic};
}

Status ParseTokenReply(const HttpReply &reply, const std::string &url,
                       const std::vector<std::string> &secrets, IssuedToken *out) {
  auto failure = [&](const std::string &message, bool retryable) {
    return Status(StatusCode::kAuth, "the token request to " + url + " " + Scrub(message, secrets),
                  retryable);
  };
  if (reply.status < 200 || reply.status > 299) {
    // Scrubbed before ServerMessage() cuts a long body, which could leave part of a secret;
    // and after, for a secret that the body held in JSON escapes.
    return failure("failed with HTTP " + std::to_string(reply.status) + ": " +
                       ServerMessage(Scrub(reply.body, secrets)),
                   reply.status >= 500 || reply.status == 429);
  }
  const json parsed = json::parse(reply.body, nullptr, false);
  if (!parsed.is_object()) return failure("got a reply that is not a JSON object", false);
  auto token = parsed.find("access_token");
  if (token == parsed.end() || !token->is_string() || token->get<std::string>().empty()) {
    return failure("got a reply without an access_token", false);
  }
  IssuedToken issued;
  issued.access_token = token->get<std::string>();
  for (char c : issued.access_token) {
    if (c < 0x21 || c > 0x7e)
      return failure("got an access_token that is not a header value", false);
  }
  auto lifetime = parsed.find("expires_in");
  if (lifetime != parsed.end() && lifetime->is_number()) {
    // Bounded before the conversion: a double past int64's range (1e300) does not convert, and
    // 1e17 seconds overflow the clock's arithmetic.
    const double seconds = lifetime->get<double>();
    if (seconds >= static_cast<double>(kMaxTokenLifetime.count())) {
      issued.lifetime = kMaxTokenLifetime;
    } else if (seconds >= 1) {
      issued.lifetime = std::chrono::seconds(static_cast<int64_t>(seconds));
    }
  }
  *out = std::move(issued);
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> WorkspaceTokenForm() {
  return {{"grant_type", "client_credentials"}, {"scope", "all-apis"}};
}

Status RequestToken(const OAuthClient &client,
                    std::vector<std::pair<std::string, std::string>> form, IssuedToken *out) {
  HttpFormPost post;
  post.url = client.workspace_url + "/oidc/v1/token";
  post.user = client.client_id;
  post.password = client.client_secret;
  std::vector<std::string> secrets;
  if (!client.client_secret.empty())
    secrets = CredentialForms(client.client_id, client.client_secret);
  for (const auto &[name, value] : form) {
    if (name == "subject_token") secrets.push_back(value);
  }
  post.form = std::move(form);
  HttpReply reply;
  Status sent = PostForm(post, client.transport, &reply);
  if (!sent.ok()) return sent;
  return ParseTokenReply(reply, post.url, secrets, out);
}

Status TokenSource::Request(std::string *token, std::chrono::seconds *lifetime) {
  IssuedToken issued;
  if (!federation_.subject_tokens) {
    Status got = RequestToken(client_, TokenRequestForm(client_.workspace_id, table_), &issued);
    if (!got.ok()) return got;
    *lifetime = issued.lifetime;
    *token = std::move(issued.access_token);
    return Status::Ok();
  }
  std::string subject;
  const StatusCode provided = federation_.subject_tokens->Call(&subject);
  if (provided != StatusCode::kOk) {
    return Status(StatusCode::kAuth, "the token federation callback failed (it returned " +
                                         std::string(StatusName(provided)) + ")");
  }
  if (subject.empty()) {
    return Status(StatusCode::kAuth,
                  "the token federation callback gave no subject token (zb_token_sink_set())");
  }
  // Read before the request: the exchanged token may be kept no longer than the subject.
  const auto requested = std::chrono::system_clock::now();
  Status got = RequestToken(
      client_, TokenExchangeForm(client_.workspace_id, table_, subject, federation_.client_id),
      &issued);
  if (!got.ok()) return got;
  *lifetime = CapAtSubjectExpiry(issued.lifetime, subject, requested);
  *token = std::move(issued.access_token);
  return Status::Ok();
}

namespace {

// The identity of a token in the cache: the client id and secret, or the federation
// callback's registration (one identity provider) and the client id it is exchanged for.
std::string CacheIdentity(const OAuthClient &client, const TokenFederation &federation) {
  if (!federation.subject_tokens) return client.client_id + '\0' + client.client_secret;
  return std::to_string(reinterpret_cast<uintptr_t>(federation.subject_tokens.get())) + '\0' +
         federation.client_id;
}

}  // namespace

TokenSource::TokenSource(OAuthClient client, std::string table, TokenFederation federation,
                         TokenCache &cache, Logger logger)
    : client_(std::move(client)),
      table_(std::move(table)),
      federation_(std::move(federation)),
      shared_(cache.Entry(
          federation_.subject_tokens ? TokenScheme::kFederation : TokenScheme::kClientCredentials,
          CacheIdentity(client_, federation_), table_)),
      logger_(std::move(logger)) {}

Status TokenSource::Get(bool refused, std::string *token, bool *fetched) {
  std::string kept_warning;
  Status got;
  {
    sync::MutexLock lock(shared_->mu);
    got = GetLocked(refused, token, fetched, &kept_warning);
  }
  // The log callback may call into the library: never under the entry's lock.
  if (!kept_warning.empty()) logger_.Log(LogLevel::kWarn, "auth", [&] { return kept_warning; });
  return got;
}

Status TokenSource::GetLocked(bool refused, std::string *token, bool *fetched,
                              std::string *kept_warning) {
  *fetched = false;
  // Only the token the server refused: a newer one another stream got stays.
  if (refused && shared_->token == given_) shared_->token.clear();
  const Clock::time_point now = Clock::now();
  const auto lifetime = shared_->lifetime;
  const Clock::time_point expires = shared_->requested_at + lifetime;
  const bool valid = !shared_->token.empty() && now < expires;
  const Clock::time_point refresh_at = expires - std::min(client_.refresh_margin, lifetime / 2);
  if (valid && (now < refresh_at || now < shared_->no_refresh_before)) {
    *token = given_ = shared_->token;
    return Status::Ok();
  }
  std::string fresh;
  std::chrono::seconds issued_lifetime{0};
  Status got = Request(&fresh, &issued_lifetime);
  if (!got.ok()) {
    if (!valid) {
      shared_->token.clear();
      return got;
    }
    // A proactive refresh failed: the token is still good, and serves until it expires.
    shared_->no_refresh_before = now + kRefreshRetry;
    *kept_warning =
        "could not renew the OAuth token for " + table_ + " before it expires (" + got.message() +
        "); the one in use serves " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(expires - now).count()) +
        " s more, and renewing is tried again in " + std::to_string(kRefreshRetry.count()) + " s";
    *token = given_ = shared_->token;
    return Status::Ok();
  }
  // Counted from the request, not the reply: the server's clock started before we heard it.
  // A token of unknown lifetime serves this one attempt only.
  shared_->token = std::move(fresh);
  shared_->requested_at = now;
  shared_->lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(issued_lifetime);
  shared_->no_refresh_before = Clock::time_point();
  *token = given_ = shared_->token;
  *fetched = true;
  return Status::Ok();
}

}  // namespace zerobus
