#include "table/value_checks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "table/json_value.h"

namespace zerobus::table {

namespace {

// The first and last day of the years 0001 to 9999, in days and in microseconds since the epoch.
constexpr int64_t kFirstDay = -719162;  // 0001-01-01
constexpr int64_t kLastDay = 2932896;   // 9999-12-31
constexpr int64_t kMicrosPerDay = 86400000000;
constexpr int64_t kFirstMicro = kFirstDay * kMicrosPerDay;
constexpr int64_t kLastMicro = (kLastDay + 1) * kMicrosPerDay - 1;

// The length of the UTF-8 sequence that starts `text` at `i`, with its code point in `*code`;
// 0 when no valid sequence starts there (overlong forms, UTF-16 surrogates and values past
// Unicode are not UTF-8 either).
size_t Utf8Sequence(std::string_view text, size_t i, uint32_t *code) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t extra;
  uint32_t min;
  if (lead < 0x80) {
    extra = 0;
    min = 0;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + extra >= text.size()) return 0;
  *code = extra == 0 ? lead : lead & (0x3F >> extra);
  for (size_t k = 1; k <= extra; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    *code = (*code << 6) | (next & 0x3F);
  }
  if (*code < min || (*code >= 0xD800 && *code <= 0xDFFF) || *code > 0x10FFFF) return 0;
  return extra + 1;
}

}  // namespace

std::string Excerpt(std::string_view text, size_t max_bytes) {
  std::string excerpt;
  size_t i = 0;
  while (i < text.size()) {
    uint32_t code = 0;
    const size_t length = Utf8Sequence(text, i, &code);
    if (excerpt.size() + std::max<size_t>(length, 1) > max_bytes) break;
    if (length == 0 || code < 0x20 || code == 0x7F) {
      excerpt += '?';
      ++i;
    } else {
      excerpt.append(text.substr(i, length));
      i += length;
    }
  }
  if (i < text.size()) excerpt += "...";
  return excerpt;
}

std::string CheckText(const DeltaType &type, std::string_view text) {
  size_t characters = 0;
  for (size_t i = 0; i < text.size(); ++characters) {
    uint32_t code;
    const size_t length = Utf8Sequence(text, i, &code);
    if (length == 0) return "not valid UTF-8";
    i += length;
  }
  if ((type.kind == DeltaKind::kVarchar || type.kind == DeltaKind::kChar) &&
      characters > static_cast<size_t>(type.length)) {
    return std::to_string(characters) + " characters do not fit " + TypeText(type);
  }
  return "";
}

std::string CheckDecimal(const DeltaType &type, std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t integer_digits = 0;
  size_t fraction_digits = 0;
  bool leading_zeros = true;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    // Leading zeros take no precision: "007.5" fits DECIMAL(2,1).
    if (leading_zeros && text[i] == '0') continue;
    leading_zeros = false;
    ++integer_digits;
  }
  const bool had_integer = i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1]));
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      ++fraction_digits;
    }
  }
  if (i != text.size() || (!had_integer && fraction_digits == 0)) {
    return "'" + Excerpt(text) + "' is not a decimal number";
  }
  if (fraction_digits > static_cast<size_t>(type.scale) ||
      integer_digits > static_cast<size_t>(type.precision - type.scale)) {
    return "'" + Excerpt(text) + "' does not fit " + TypeText(type);
  }
  return "";
}

std::string CheckIntegerRange(const DeltaType &type, int64_t value) {
  int64_t min;
  int64_t max;
  switch (type.kind) {
    case DeltaKind::kTinyint:
      min = std::numeric_limits<int8_t>::min();
      max = std::numeric_limits<int8_t>::max();
      break;
    case DeltaKind::kSmallint:
      min = std::numeric_limits<int16_t>::min();
      max = std::numeric_limits<int16_t>::max();
      break;
    case DeltaKind::kInt:
      min = std::numeric_limits<int32_t>::min();
      max = std::numeric_limits<int32_t>::max();
      break;
    case DeltaKind::kDate:
      if (value < kFirstDay || value > kLastDay) {
        return std::to_string(value) + " days is out of range for DATE (0001-01-01 to 9999-12-31)";
      }
      return "";
    case DeltaKind::kTimestamp:
    case DeltaKind::kTimestampNtz:
      if (value < kFirstMicro || value > kLastMicro) {
        return std::to_string(value) + " microseconds is out of range for " + TypeText(type) +
               " (0001-01-01 to 9999-12-31)";
      }
      return "";
    default:
      return "";
  }
  if (value < min || value > max) {
    return std::to_string(value) + " is out of range for " + TypeText(type);
  }
  return "";
}

std::string CheckRealRange(const DeltaType &type, double value) {
  // Past (2 - 2^-24) * 2^127 a double rounds to an infinite float; below it, to FLT_MAX at most.
  static const double kFloatOverflow = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);
  if (type.kind == DeltaKind::kFloat && std::isfinite(value) &&
      std::fabs(value) >= kFloatOverflow) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return std::string(text) + " is out of range for FLOAT";
  }
  return "";
}

float NarrowToFloat(double value) {
  // A value between FLT_MAX and the overflow bound rounds to FLT_MAX; saying so keeps the cast
  // defined.
  const double max = std::numeric_limits<float>::max();
  if (std::isfinite(value) && std::fabs(value) > max)
    return static_cast<float>(std::copysign(max, value));
  return static_cast<float>(value);
}

std::string CheckVariant(std::string_view text) {
  nlohmann::json ignored;
  std::string error;
  if (!ParseJson(text, &ignored, &error)) return "the VARIANT value " + error;
  return "";
}

std::string EncodeBase64(std::string_view bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(text.data()),
                                      reinterpret_cast<const unsigned char *>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  text.resize(static_cast<size_t>(written));
  return text;
}

bool DecodeBase64(std::string_view text, std::string *bytes) {
  // EVP_DecodeBlock wants whole 4-character groups and counts padding as zero bytes.
  if (text.size() % 4 != 0) return false;
  bytes->assign(3 * (text.size() / 4), '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(bytes->data()),
                                      reinterpret_cast<const unsigned char *>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) return false;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  bytes->resize(static_cast<size_t>(written) - padding);
  return true;
}

}  // namespace zerobus::table
