#include "core/schema/value_checks.h"

#include <cctype>
#include <limits>

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

namespace zerobus::schema {

std::string CheckText(const DeltaType &type, std::string_view text) {
  size_t characters = 0;
  for (size_t i = 0; i < text.size(); ++characters) {
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
      return "not valid UTF-8";
    }
    if (i + extra >= text.size()) return "not valid UTF-8";
    uint32_t code = extra == 0 ? lead : lead & (0x3F >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return "not valid UTF-8";
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past Unicode are not UTF-8 either.
    if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) {
      return "not valid UTF-8";
    }
    i += extra + 1;
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
    return "'" + std::string(text) + "' is not a decimal number";
  }
  if (fraction_digits > static_cast<size_t>(type.scale) ||
      integer_digits > static_cast<size_t>(type.precision - type.scale)) {
    return "'" + std::string(text) + "' does not fit " + TypeText(type);
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
    case DeltaKind::kDate:
      min = std::numeric_limits<int32_t>::min();
      max = std::numeric_limits<int32_t>::max();
      break;
    default:
      return "";
  }
  if (value < min || value > max) {
    return std::to_string(value) + " is out of range for " + TypeText(type);
  }
  return "";
}

std::string CheckVariant(std::string_view text) {
  if (!nlohmann::json::accept(text)) return "a VARIANT value must be JSON text";
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

}  // namespace zerobus::schema
