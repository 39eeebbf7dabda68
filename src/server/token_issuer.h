// Access tokens of the local OAuth endpoint: opaque random strings, each remembered with its
// expiry and the table it was issued for (the authorization_details of the request), so that
// the gRPC side can tell a good token from an expired one or one for another table.
#ifndef ZEROBUS_SERVER_TOKEN_ISSUER_H
#define ZEROBUS_SERVER_TOKEN_ISSUER_H

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <grpcpp/support/status.h>

#include "sync/mutex.h"

namespace zerobus::server {

// Thread-safe.
class TokenIssuer {
 public:
  using Clock = std::chrono::system_clock;

  // A new token valid for `lifetime` (negative: already expired, for tests). `table` empty:
  // a workspace token, good for the Unity Catalog API but for no table.
  std::string Issue(const std::string &table, std::chrono::seconds lifetime);

  // Whether `authorization` (the header's value, "Bearer <token>") may open a stream to
  // `table`: OK, UNAUTHENTICATED (missing, unknown or expired), or PERMISSION_DENIED (issued
  // for another table, or for none).
  grpc::Status CheckStream(const std::string &authorization, const std::string &table) const;

  // Whether `authorization` may read the Unity Catalog API: an unexpired workspace token.
  // 401 or 403 as the HTTP status, 0 when allowed; `*message` says why not.
  int CheckWorkspace(const std::string &authorization, std::string *message) const;

  // Tokens issued so far, so that tests see when a client asked for a new one.
  int64_t issued() const;

 private:
  struct Grant {
    std::string table;
    Clock::time_point expires;
  };

  // The grant of the token in `authorization`, or null; `*message` says why not.
  const Grant *Find(const std::string &authorization, std::string *message) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable sync::Mutex mu_;
  std::map<std::string, Grant> grants_ ABSL_GUARDED_BY(mu_);
  int64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_TOKEN_ISSUER_H
