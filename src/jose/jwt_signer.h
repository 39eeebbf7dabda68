// The signing side of a JSON Web Token, as an identity provider does it: an RSA key pair and
// RS256 tokens signed with it. `zerobus idp` and the tests use it to stand in for an identity
// provider in front of `zerobus serve --federation-key`; the library itself never signs.
#ifndef ZEROBUS_JOSE_JWT_SIGNER_H
#define ZEROBUS_JOSE_JWT_SIGNER_H

#include <string>

#include <nlohmann/json.hpp>

namespace zerobus::jose {

// A new RSA key pair of 2048 bits in PEM: the private key (PKCS #8) and the public key
// (SubjectPublicKeyInfo, what `zerobus serve --federation-key` reads). False, with the reason in
// `*why`, when OpenSSL fails.
bool MakeRsaKeyPair(std::string *private_pem, std::string *public_pem, std::string *why);

// The compact RS256 JWT of `claims` (a JSON object), signed with the RSA private key in
// `private_pem`. False, with the reason in `*why`, when the key is not an RSA private key in PEM
// or OpenSSL fails.
bool SignJwtRs256(const std::string &private_pem, const nlohmann::json &claims, std::string *jwt,
                  std::string *why);

}  // namespace zerobus::jose

#endif  // ZEROBUS_JOSE_JWT_SIGNER_H
