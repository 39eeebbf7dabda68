// The SDK's OAuth tokens (reference/official-3x.md §5): one per (scheme, identity, table),
// shared by every stream of the SDK, each of their lanes and reconnections, so that 64 streams
// of one table make one token request, not 64. TokenSource (oauth.h) decides when to request,
// keep and drop the token of an entry.
#ifndef ZEROBUS_CORE_TOKEN_CACHE_H
#define ZEROBUS_CORE_TOKEN_CACHE_H

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "sync/mutex.h"

namespace zerobus {

// One cached token. Its lock is held across a token request, so that the streams that need
// the token meanwhile wait for that one request instead of each making their own.
struct SharedToken {
  using Clock = std::chrono::steady_clock;

  sync::Mutex mu;
  std::string token ABSL_GUARDED_BY(mu);  // empty: none
  // When it was requested and for how long it may be kept (the server's expires_in, capped at
  // a subject token's expiry with federation): it expires at requested_at + lifetime.
  Clock::time_point requested_at ABSL_GUARDED_BY(mu);
  std::chrono::milliseconds lifetime ABSL_GUARDED_BY(mu){0};
  // After a proactive refresh failed: no other before this time (the token stays in use).
  Clock::time_point no_refresh_before ABSL_GUARDED_BY(mu);
};

// The scheme a token was got by, part of its key.
enum class TokenScheme { kClientCredentials, kFederation };

// The entries of one SDK. Thread-safe.
class TokenCache {
 public:
  // The entry of (scheme, identity, table), empty when first asked for. `identity` tells the
  // credentials apart: a client id and its secret, or a federation callback's registration
  // and client id. Entries live while a TokenSource holds them.
  std::shared_ptr<SharedToken> Entry(TokenScheme scheme, std::string_view identity,
                                     std::string_view table);

 private:
  sync::Mutex mu_;
  std::map<std::string, std::weak_ptr<SharedToken>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_TOKEN_CACHE_H
