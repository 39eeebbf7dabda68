// The memory that segments (the framed records of one request) are written into: mapped from
// the system and recycled between the segments of one stream.
//
// Why not malloc: a window turning over a gigabyte a second through malloc kept meeting fresh
// pages (the heap hands large freed blocks back to the system, and writing a page again costs
// a fault, a few microseconds on this kind of machine: more than copying the records in), and
// malloc's per-thread heaps, filled by many ingesting threads and emptied by the ack reader,
// held nearly twice the window. Here buffers come in powers of two, so that a kept one fits
// the next segment of about the same size, and are kept while the bytes in use and the bytes
// kept stay within a bound (the window's byte limit plus a little): a stream's segments never
// hold much more than its window (one batch larger than the limit aside), and a busy stream
// writes into pages it has already touched.
#ifndef ZEROBUS_CORE_SEGMENT_POOL_H
#define ZEROBUS_CORE_SEGMENT_POOL_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sync/mutex.h"

namespace zerobus {

// A mapping of `capacity` bytes at `data`; empty when data is null.
struct SegmentBuffer {
  uint8_t *data = nullptr;
  size_t capacity = 0;
};

// Thread-safe: segments are filled under the stream's lock, but released on whichever thread
// drops the last reference (the ack reader, or gRPC once it has sent the bytes).
class SegmentPool {
 public:
  // The smallest buffer, and the largest that is kept for reuse (larger ones, for batches
  // beyond a standard request, are freed when given back).
  static constexpr size_t kMinBytes = 16 * 1024;
  static constexpr size_t kMaxPooledBytes = 1024 * 1024;

  // Keeps given-back buffers while the bytes in use plus those kept stay within `limit_bytes`.
  explicit SegmentPool(size_t limit_bytes);
  ~SegmentPool();
  SegmentPool(const SegmentPool &) = delete;
  SegmentPool &operator=(const SegmentPool &) = delete;

  // A buffer of at least `bytes` (rounded up to a power of two up to kMaxPooledBytes): a kept
  // one of that size, or a new one. Throws std::bad_alloc.
  SegmentBuffer Take(size_t bytes);

  // Takes `buffer` back (an empty one is ignored): kept when there is room, unmapped otherwise.
  void Give(SegmentBuffer buffer);

 private:
  static constexpr size_t kClasses = 7;  // kMinBytes, twice that, ... kMaxPooledBytes

  const size_t limit_bytes_;
  sync::Mutex mu_;
  std::array<std::vector<SegmentBuffer>, kClasses> kept_ ABSL_GUARDED_BY(mu_);  // by class
  size_t kept_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t used_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // taken, not given back
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_SEGMENT_POOL_H
