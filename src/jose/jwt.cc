#include "jose/jwt.h"

#include <cmath>

#include "table/value_checks.h"

namespace zerobus::jose {
namespace {

// base64url (RFC 4648 §5) without padding, as JWTs carry it, through the standard decoder.
bool DecodeSegment(std::string_view segment, std::string *bytes) {
  std::string standard(segment);
  for (char &c : standard) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return false;
    }
  }
  if (standard.size() % 4 == 1) return false;
  while (standard.size() % 4 != 0) standard += '=';
  return table::DecodeBase64(standard, bytes);
}

bool DecodeObject(std::string_view segment, nlohmann::json *object) {
  std::string text;
  if (!DecodeSegment(segment, &text)) return false;
  *object = nlohmann::json::parse(text, nullptr, false);
  return object->is_object();
}

}  // namespace

bool ParseJwt(std::string_view jwt, JwtParts *out, std::string *why) {
  const size_t first_dot = jwt.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : jwt.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      jwt.find('.', second_dot + 1) != std::string_view::npos) {
    *why = "it is not a JWT: a JWT has three segments separated by dots";
    return false;
  }
  JwtParts parts;
  if (!DecodeObject(jwt.substr(0, first_dot), &parts.header)) {
    *why = "its JWT header is not a base64url JSON object";
    return false;
  }
  if (!DecodeObject(jwt.substr(first_dot + 1, second_dot - first_dot - 1), &parts.claims)) {
    *why = "its JWT claims are not a base64url JSON object";
    return false;
  }
  if (!DecodeSegment(jwt.substr(second_dot + 1), &parts.signature)) {
    *why = "its JWT signature is not base64url";
    return false;
  }
  parts.signing_input = std::string(jwt.substr(0, second_dot));
  *out = std::move(parts);
  return true;
}

std::string EncodeBase64Url(std::string_view bytes) {
  std::string text = table::EncodeBase64(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char &c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

std::optional<int64_t> JwtExpiry(const nlohmann::json &claims) {
  const auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return std::nullopt;
  // Bounded before the conversion: a double past int64's range does not convert.
  const double seconds = exp->get<double>();
  if (!std::isfinite(seconds) || std::fabs(seconds) >= 9.2e18) return std::nullopt;
  return static_cast<int64_t>(seconds);
}

}  // namespace zerobus::jose
