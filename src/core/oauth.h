// OAuth machine-to-machine authentication (reference/protocol.md §2.1): a token for one table,
// requested from the workspace with a client id and secret, or exchanged for a subject token
// from an external identity provider (token federation, RFC 8693), kept while it is good and
// replaced before it expires or once the server refused it.
#ifndef ZEROBUS_CORE_OAUTH_H
#define ZEROBUS_CORE_OAUTH_H

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/callbacks.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/status.h"
#include "core/token_cache.h"
#include "sync/mutex.h"

namespace zerobus {

struct OAuthClient {
  std::string workspace_url;  // "https://host:port", where /oidc/v1/token is
  std::string workspace_id;   // names the resource the token is for
  std::string client_id;
  std::string client_secret;
  HttpTransport transport;
  std::chrono::milliseconds refresh_margin{0};
};

// Token federation instead of a client secret: the user's callback that supplies the subject
// token, and the client id of workload identity federation (empty: account-level).
struct TokenFederation {
  SubjectTokenProviderRef subject_tokens;
  std::string client_id;
};

// The form fields of a token request for writing into `table` (catalog.schema.table, already
// checked), as reference/official-3x.md §5 gives them: grant_type, scope, resource and
// authorization_details, which grants USE CATALOG, USE SCHEMA, and SELECT and MODIFY on the
// table for the operation zerobuswrite.
std::vector<std::pair<std::string, std::string>> TokenRequestForm(std::string_view workspace_id,
                                                                  std::string_view table);

// The form of a token exchange (RFC 8693, reference/official-3x.md §5): TokenRequestForm()'s
// with grant_type token-exchange, the subject JWT and its type, and client_id unless
// `client_id` is empty (account-level federation).
std::vector<std::pair<std::string, std::string>> TokenExchangeForm(std::string_view workspace_id,
                                                                   std::string_view table,
                                                                   std::string subject_token,
                                                                   std::string client_id);

// `issued` capped at the subject token's own expiry: the claims' exp, read without checking the
// signature (the workspace checks it), against the system clock `now`. A subject token without
// a readable exp caps nothing: the workspace refuses a token it cannot date, and otherwise its
// expires_in stands. An exp already past gives 0 (the token serves one attempt).
std::chrono::seconds CapAtSubjectExpiry(std::chrono::seconds issued, std::string_view subject,
                                        std::chrono::system_clock::time_point now);

// The form fields of a token request for reading the workspace's REST APIs, Unity Catalog's
// among them (zerobus-service.md §2.4): grant_type and scope only, since the API refuses tokens
// scoped to Zerobus.
std::vector<std::pair<std::string, std::string>> WorkspaceTokenForm();

// The longest lifetime a token is taken to have, whatever its expires_in says: tokens live
// an hour, and a day keeps every time computed from a lifetime far from overflowing.
inline constexpr std::chrono::seconds kMaxTokenLifetime{24 * 60 * 60};

struct IssuedToken {
  std::string access_token;
  // expires_in, in [1 s, kMaxTokenLifetime]; 0 when the server did not say, or said something
  // that is not a number of seconds of at least 1 (zero, negative, a string).
  std::chrono::seconds lifetime{0};
};

// Requests a token from client.workspace_url's /oidc/v1/token with `form`, with HTTP Basic
// credentials when client.client_secret is set. The secret and any subject_token of the form
// are cut out of error messages. Errors as ParseTokenReply() and PostForm() give them.
// Thread-safe.
Status RequestToken(const OAuthClient &client,
                    std::vector<std::pair<std::string, std::string>> form, IssuedToken *out);

// The forms a client's secret travels in to the token endpoint, any of which a careless server
// may echo: the secret itself, and the HTTP Basic credentials, base64("id:secret").
std::vector<std::string> CredentialForms(const std::string &client_id, const std::string &secret);

// Reads the token endpoint's reply. Non-2xx: ZB_ERR_AUTH with the server's own message,
// retryable for 5xx only. A 2xx without a usable access_token: ZB_ERR_AUTH, not retryable.
// Each of `secrets` (CredentialForms()) is cut out of any message, in case the server echoed it.
Status ParseTokenReply(const HttpReply &reply, const std::string &url,
                       const std::vector<std::string> &secrets, IssuedToken *out);

// The token of one stream, kept in the SDK's cache (token_cache.h) under its scheme, identity
// and table, and so shared with every stream of the SDK that has the same credentials and
// table. Thread-safe; one request at a time per cache entry.
class TokenSource {
 public:
  using Clock = std::chrono::steady_clock;

  // Without `federation.subject_tokens`, by client credentials. A proactive refresh that
  // fails is logged to `logger` as a warning.
  TokenSource(OAuthClient client, std::string table, TokenFederation federation, TokenCache &cache,
              Logger logger);

  // A token for a connection attempt. The cached one while it is good for longer than the
  // refresh margin (at most half its lifetime), else a new one, requested once for all the
  // streams that share it. A proactive refresh (within the margin) that fails keeps the cached
  // token in use until it expires, and is tried again no sooner than kRefreshRetry later.
  // `refused`: the server refused the token this source gave last, which is dropped before
  // anything else, unless another stream has replaced it already (that newer one is then
  // given). `*fetched` tells whether a new token was requested for this call. With token
  // federation a new one calls the subject token callback first, and one that fails or gives
  // an empty token fails with ZB_ERR_AUTH. Errors as ParseTokenReply() and PostForm() give them.
  Status Get(bool refused, std::string *token, bool *fetched);

  static constexpr std::chrono::seconds kRefreshRetry{30};

 private:
  // Get() under the entry's lock; a proactive refresh that failed sets `*kept_warning`, to be
  // logged once the lock is released.
  Status GetLocked(bool refused, std::string *token, bool *fetched, std::string *kept_warning)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu);

  // Requests a new token, by client credentials or by token exchange; `*lifetime` is how long
  // it may be kept.
  Status Request(std::string *token, std::chrono::seconds *lifetime);

  const OAuthClient client_;
  const std::string table_;
  const TokenFederation federation_;
  const std::shared_ptr<SharedToken> shared_;
  const Logger logger_;
  // The token Get() gave last, to tell whether the one the server refused is still cached.
  std::string given_ ABSL_GUARDED_BY(shared_->mu);
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_OAUTH_H
