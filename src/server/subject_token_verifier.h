// The test identity provider of token federation (RFC 8693): the public key its subject JWTs
// are signed with, RS256 with an RSA key or ES256 with a P-256 key, as a workspace's federation
// policy names an issuer's keys. The token endpoint (oauth_token.h) checks each subject token
// of a token exchange here before it issues a token.
#ifndef ZEROBUS_SERVER_SUBJECT_TOKEN_VERIFIER_H
#define ZEROBUS_SERVER_SUBJECT_TOKEN_VERIFIER_H

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace zerobus::server {

// Immutable once loaded; thread-safe.
class SubjectTokenVerifier {
 public:
  // Reads a PEM public key (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY") from `pem_file`; null,
  // with the reason in `*why`, when it cannot, or the key is neither RSA nor EC.
  static std::shared_ptr<const SubjectTokenVerifier> Load(const std::string &pem_file,
                                                          std::string *why);
  ~SubjectTokenVerifier();
  SubjectTokenVerifier(const SubjectTokenVerifier &) = delete;
  SubjectTokenVerifier &operator=(const SubjectTokenVerifier &) = delete;

  // Whether `jwt` is signed by the key with the key's algorithm (its header's alg) and has a
  // numeric exp after `now`; its exp (seconds since the epoch) in `*exp`. False with the
  // reason in `*why`, which never quotes the token.
  bool Verify(std::string_view jwt, std::chrono::system_clock::time_point now, int64_t *exp,
              std::string *why) const;

 private:
  struct Key;
  explicit SubjectTokenVerifier(std::unique_ptr<Key> key);
  const std::unique_ptr<Key> key_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_SUBJECT_TOKEN_VERIFIER_H
