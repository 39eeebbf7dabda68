#include "core/uncached_copy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace zerobus {

#if defined(__x86_64__)

void CopyUncached(void *dst, const void *src, size_t len) {
  constexpr size_t kLine = 64;
  auto *out = static_cast<uint8_t *>(dst);
  const auto *in = static_cast<const uint8_t *>(src);
  // Streaming stores need 16-byte alignment, and only whole lines skip the read of the line
  // they land in: the ragged ends go through the cache. The last line is fetched now, so that
  // its read overlaps the streaming instead of stalling the copy at the end; it is also where
  // the framing of the next record goes, so that the next copy finds its first line cached.
  if (len > 0) __builtin_prefetch(out + len - 1, 1);
  const size_t head = std::min(len, (kLine - reinterpret_cast<uintptr_t>(out) % kLine) % kLine);
  std::memcpy(out, in, head);
  out += head;
  in += head;
  len -= head;
  for (; len >= kLine; len -= kLine, out += kLine, in += kLine) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 48));
    _mm_stream_si128(reinterpret_cast<__m128i *>(out), a);
    _mm_stream_si128(reinterpret_cast<__m128i *>(out + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i *>(out + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i *>(out + 48), d);
  }
  std::memcpy(out, in, len);
  // Streaming stores are not ordered with the stores that later publish the bytes (the
  // stream's mutex); the fence puts them before.
  _mm_sfence();
}

#else

void CopyUncached(void *dst, const void *src, size_t len) {
  std::memcpy(dst, src, len);
}

#endif

}  // namespace zerobus
