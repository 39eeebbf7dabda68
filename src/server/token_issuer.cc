#include "server/token_issuer.h"

#include <iterator>

#include <openssl/rand.h>

#include <absl/strings/ascii.h>

#include "table/value_checks.h"

namespace zerobus::server {

std::string TokenIssuer::Issue(const std::string &table, std::chrono::seconds lifetime) {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token = "zbl_";  // "zerobus local": easy to tell from a real workspace token
  for (unsigned char byte : bytes) {
    token.push_back(kHex[byte >> 4]);
    token.push_back(kHex[byte & 0xF]);
  }
  const Clock::time_point now = Clock::now();
  sync::MutexLock lock(mu_);
  // Forget expired grants now and then, so that a long run does not grow without bound.
  if (grants_.size() >= 1024) {
    for (auto it = grants_.begin(); it != grants_.end();) {
      it = it->second.expires <= now ? grants_.erase(it) : std::next(it);
    }
  }
  grants_[token] = Grant{absl::AsciiStrToLower(table), now + lifetime};
  ++issued_;
  return token;
}

int64_t TokenIssuer::issued() const {
  sync::MutexLock lock(mu_);
  return issued_;
}

const TokenIssuer::Grant *TokenIssuer::Find(const std::string &authorization,
                                            std::string *message) const {
  const std::string prefix = "bearer ";
  if (authorization.size() <= prefix.size() ||
      absl::AsciiStrToLower(authorization.substr(0, prefix.size())) != prefix) {
    *message = "missing bearer token: the authorization header must be 'Bearer <token>'";
    return nullptr;
  }
  auto it = grants_.find(authorization.substr(prefix.size()));
  if (it == grants_.end()) {
    *message = "invalid bearer token: this server did not issue it";
    return nullptr;
  }
  if (it->second.expires <= Clock::now()) {
    *message = "the bearer token has expired; request a new one";
    return nullptr;
  }
  return &it->second;
}

grpc::Status TokenIssuer::CheckStream(const std::string &authorization,
                                      const std::string &table) const {
  sync::MutexLock lock(mu_);
  std::string message;
  const Grant *grant = Find(authorization, &message);
  if (grant == nullptr) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, message);
  if (grant->table != absl::AsciiStrToLower(table)) {
    return grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        grant->table.empty()
            ? "the token carries no authorization_details for table " + table::Excerpt(table)
            : "the token was issued for table " + table::Excerpt(grant->table) + ", not " +
                  table::Excerpt(table));
  }
  return grpc::Status::OK;
}

int TokenIssuer::CheckWorkspace(const std::string &authorization, std::string *message) const {
  sync::MutexLock lock(mu_);
  const Grant *grant = Find(authorization, message);
  if (grant == nullptr) return 401;
  if (!grant->table.empty()) {
    *message = "a token scoped to a Zerobus table cannot read the Unity Catalog API";
    return 403;
  }
  return 0;
}

}  // namespace zerobus::server
