// The parts of a JSON Web Token (RFC 7519, compact form): three base64url segments, a JSON
// header and a JSON claims set signed together, and the signature. The engine reads a subject
// token's expiry from it; the local server checks a subject token's signature with it. Nothing
// here checks a signature or trusts a claim.
#ifndef ZEROBUS_JOSE_JWT_H
#define ZEROBUS_JOSE_JWT_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace zerobus::jose {

struct JwtParts {
  nlohmann::json header;      // a JSON object
  nlohmann::json claims;      // a JSON object
  std::string signing_input;  // "<header segment>.<claims segment>", what the signature covers
  std::string signature;      // the decoded bytes
};

// Splits `jwt` into its parts; false, with the reason in `*why` (which never quotes the token),
// when it is not three base64url segments whose first two are JSON objects.
bool ParseJwt(std::string_view jwt, JwtParts *out, std::string *why);

// `bytes` in base64url without padding, as a JWT's segments carry them.
std::string EncodeBase64Url(std::string_view bytes);

// The claims' `exp` (seconds since the epoch), when it is a number; none otherwise.
std::optional<int64_t> JwtExpiry(const nlohmann::json &claims);

}  // namespace zerobus::jose

#endif  // ZEROBUS_JOSE_JWT_H
