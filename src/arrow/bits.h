// Validity bitmaps and boolean values: bit i of a bitmap is bit (i % 8) of byte i / 8.
#ifndef ZEROBUS_ARROW_BITS_H
#define ZEROBUS_ARROW_BITS_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zerobus::arrow {

inline bool GetBit(const uint8_t *bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}

inline void SetBit(uint8_t *bits, int64_t i) {
  bits[i >> 3] |= uint8_t(1u << (i & 7));
}

inline size_t BitmapBytes(int64_t bits) {
  return static_cast<size_t>((bits + 7) / 8);
}

// Bits [first, first + count) of `bits` as a bitmap of their own that starts at bit 0.
std::vector<uint8_t> CopyBits(const uint8_t *bits, int64_t first, int64_t count);

// How many of bits [first, first + count) are 0; 0 when `bits` is null (no validity bitmap).
int64_t CountZeroBits(const uint8_t *bits, int64_t first, int64_t count);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_BITS_H
