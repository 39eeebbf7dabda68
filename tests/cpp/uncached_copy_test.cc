// CopyUncached must copy exactly what memcpy would, whatever the alignment and length, and
// write nothing outside the destination.
#include "core/uncached_copy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace zerobus {
namespace {

TEST(UncachedCopy, CopiesEveryAlignmentAndLengthExactly) {
  constexpr size_t kGuard = 64;
  std::vector<uint8_t> source(20000 + 64);
  for (size_t i = 0; i < source.size(); ++i) source[i] = static_cast<uint8_t>(i * 37 + 11);
  for (size_t length :
       {0u, 1u, 15u, 16u, 63u, 64u, 65u, 127u, 128u, 4095u, 4096u, 10001u, 20000u}) {
    for (size_t offset = 0; offset < 64; offset += 7) {
      std::vector<uint8_t> target(kGuard + 64 + length + kGuard, 0xEE);
      uint8_t *destination = target.data() + kGuard + offset;
      CopyUncached(destination, source.data() + offset / 2, length);
      for (size_t i = 0; i < target.size(); ++i) {
        const bool inside = i >= kGuard + offset && i < kGuard + offset + length;
        const uint8_t expected = inside ? source[i - kGuard - offset + offset / 2] : 0xEE;
        ASSERT_EQ(target[i], expected)
            << "length " << length << ", offset " << offset << ", byte " << i;
      }
    }
  }
}

}  // namespace
}  // namespace zerobus
