#include "server/stream_id.h"

#include <cstdint>
#include <random>

namespace zerobus::server {

std::string NewStreamId() {
  // One generator per thread: no lock on the stream-open path, and seeding from the OS keeps
  // ids from two server processes apart.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  uint64_t high = generator();
  uint64_t low = generator();
  high = (high & ~uint64_t{0xF000}) | uint64_t{0x4000};          // version 4
  low = (low & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // RFC 4122 variant

  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 32; ++i) {
    const uint64_t word = i < 16 ? high : low;
    const int shift = 60 - 4 * (i % 16);
    if (i == 8 || i == 12 || i == 16 || i == 20) id.push_back('-');
    id.push_back(kHex[(word >> shift) & 0xF]);
  }
  return id;
}

}  // namespace zerobus::server
