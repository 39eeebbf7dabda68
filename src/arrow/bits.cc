#include "arrow/bits.h"

namespace zerobus::arrow {

std::vector<uint8_t> CopyBits(const uint8_t *bits, int64_t first, int64_t count) {
  std::vector<uint8_t> out(BitmapBytes(count));
  if (first % 8 == 0) {
    const uint8_t *start = bits + first / 8;
    out.assign(start, start + out.size());
    if (count % 8) out.back() &= uint8_t((1u << (count % 8)) - 1);  // no stray bits past count
    return out;
  }
  for (int64_t i = 0; i < count; ++i) {
    if (GetBit(bits, first + i)) SetBit(out.data(), i);
  }
  return out;
}

int64_t CountZeroBits(const uint8_t *bits, int64_t first, int64_t count) {
  if (bits == nullptr) return 0;
  int64_t ones = 0;
  int64_t i = 0;
  for (; i < count && (first + i) % 8 != 0; ++i) ones += GetBit(bits, first + i);
  for (; i + 64 <= count; i += 64) {
    uint64_t word = 0;
    const uint8_t *bytes = bits + (first + i) / 8;
    for (int b = 0; b < 8; ++b) word |= uint64_t(bytes[b]) << (8 * b);
    ones += __builtin_popcountll(word);
  }
  for (; i < count; ++i) ones += GetBit(bits, first + i);
  return count - ones;
}

}  // namespace zerobus::arrow
