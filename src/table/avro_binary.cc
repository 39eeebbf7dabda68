#include "table/avro_binary.h"

#include <cstring>

namespace zerobus::table {
namespace {

using Int128 = __int128;

// 10^38 - 1: the largest unscaled value of DECIMAL(38, s).
constexpr Int128 MaxUnscaled() {
  Int128 value = 1;
  for (int i = 0; i < 38; ++i) value *= 10;
  return value - 1;
}

}  // namespace

bool AvroReader::ReadLong(int64_t *value) {
  uint64_t bits = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (rest_.empty()) return false;
    const auto byte = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    // The tenth byte carries the top bit only.
    if (shift == 63 && byte > 1) return false;
    bits |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *value = static_cast<int64_t>((bits >> 1) ^ (~(bits & 1) + 1));
      return true;
    }
  }
  return false;
}

bool AvroReader::ReadInt(int32_t *value) {
  int64_t wide = 0;
  if (!ReadLong(&wide) || wide < INT32_MIN || wide > INT32_MAX) return false;
  *value = static_cast<int32_t>(wide);
  return true;
}

bool AvroReader::ReadBoolean(bool *value) {
  if (rest_.empty() || static_cast<uint8_t>(rest_.front()) > 1) return false;
  *value = rest_.front() == 1;
  rest_.remove_prefix(1);
  return true;
}

bool AvroReader::ReadFloat(float *value) {
  std::string_view bytes;
  if (!ReadFixed(4, &bytes)) return false;
  uint32_t bits = 0;
  for (int i = 3; i >= 0; --i) bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
  std::memcpy(value, &bits, sizeof bits);
  return true;
}

bool AvroReader::ReadDouble(double *value) {
  std::string_view bytes;
  if (!ReadFixed(8, &bytes)) return false;
  uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
  std::memcpy(value, &bits, sizeof bits);
  return true;
}

bool AvroReader::ReadBytes(std::string_view *value) {
  int64_t length = 0;
  if (!ReadLong(&length) || length < 0) return false;
  return ReadFixed(static_cast<size_t>(length), value);
}

bool AvroReader::ReadFixed(size_t size, std::string_view *value) {
  if (size > rest_.size()) return false;
  *value = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return true;
}

bool AvroReader::ReadBlockCount(int64_t *count) {
  if (!ReadLong(count)) return false;
  if (*count < 0) {
    if (*count == INT64_MIN) return false;
    *count = -*count;
    int64_t block_bytes = 0;
    if (!ReadLong(&block_bytes) || block_bytes < 0 ||
        static_cast<uint64_t>(block_bytes) > rest_.size()) {
      return false;
    }
  }
  return static_cast<uint64_t>(*count) <= rest_.size();
}

void PutAvroLong(int64_t value, std::string *out) {
  uint64_t bits = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (bits >= 0x80) {
    out->push_back(static_cast<char>((bits & 0x7F) | 0x80));
    bits >>= 7;
  }
  out->push_back(static_cast<char>(bits));
}

void PutAvroFloat(float value, std::string *out) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
}

void PutAvroDouble(double value, std::string *out) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
}

void PutAvroBytes(std::string_view bytes, std::string *out) {
  PutAvroLong(static_cast<int64_t>(bytes.size()), out);
  out->append(bytes);
}

bool DecimalToAvro(std::string_view text, int scale, std::string *bytes) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  Int128 unscaled = 0;
  int digits = 0, fraction = -1;
  for (const char c : text) {
    if (c == '.' && fraction < 0) {
      fraction = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (fraction >= 0 && ++fraction > scale) return false;  // more digits than the scale
    // Counted before the multiplication: 37 digits times 10 still fit 128 bits, 38 would not.
    if (++digits > 38) return false;
    unscaled = unscaled * 10 + (c - '0');
  }
  if (digits == 0) return false;
  for (int i = fraction < 0 ? 0 : fraction; i < scale; ++i) {
    if (unscaled > MaxUnscaled() / 10) return false;
    unscaled *= 10;
  }
  if (negative) unscaled = -unscaled;
  // Big-endian two's complement, dropping leading bytes that only repeat the sign.
  unsigned char be[16];
  auto bits = static_cast<unsigned __int128>(unscaled);
  for (int i = 15; i >= 0; --i, bits >>= 8) be[i] = static_cast<unsigned char>(bits);
  int start = 0;
  while (start < 15 && ((be[start] == 0x00 && (be[start + 1] & 0x80) == 0) ||
                        (be[start] == 0xFF && (be[start + 1] & 0x80) != 0))) {
    ++start;
  }
  bytes->assign(reinterpret_cast<const char *>(be) + start, 16 - start);
  return true;
}

bool DecimalFromAvro(std::string_view bytes, int scale, std::string *text) {
  if (bytes.empty() || bytes.size() > 16) return false;
  // Sign-extend to 128 bits.
  unsigned __int128 bits =
      (static_cast<uint8_t>(bytes[0]) & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
  for (const char c : bytes) bits = (bits << 8) | static_cast<uint8_t>(c);
  const auto value = static_cast<Int128>(bits);
  const bool negative = value < 0;
  unsigned __int128 magnitude = negative ? static_cast<unsigned __int128>(-(value + 1)) + 1
                                         : static_cast<unsigned __int128>(value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  *text = (negative ? "-" : "") + digits;
  return true;
}

}  // namespace zerobus::table
