#include "core/segment_pool.h"

#include <sys/mman.h>

#include <new>

namespace zerobus {
namespace {

// The class of a buffer of `capacity` bytes, or kClasses when it is not a pooled size.
size_t ClassOf(size_t capacity, size_t classes) {
  size_t size = SegmentPool::kMinBytes;
  for (size_t index = 0; index < classes; ++index, size *= 2) {
    if (size == capacity) return index;
  }
  return classes;
}

}  // namespace

static_assert(SegmentPool::kMinBytes << 6 == SegmentPool::kMaxPooledBytes,
              "kClasses counts the powers of two from kMinBytes to kMaxPooledBytes");

SegmentPool::SegmentPool(size_t limit_bytes) : limit_bytes_(limit_bytes) {}

SegmentPool::~SegmentPool() {
  for (const std::vector<SegmentBuffer> &buffers : kept_) {
    for (const SegmentBuffer &buffer : buffers) munmap(buffer.data, buffer.capacity);
  }
}

SegmentBuffer SegmentPool::Take(size_t bytes) {
  size_t capacity = bytes;
  if (bytes <= kMaxPooledBytes) {
    capacity = kMinBytes;
    while (capacity < bytes) capacity *= 2;
  }
  const size_t index = ClassOf(capacity, kClasses);
  {
    sync::MutexLock lock(mu_);
    used_bytes_ += capacity;
    if (index < kClasses && !kept_[index].empty()) {
      const SegmentBuffer buffer = kept_[index].back();
      kept_[index].pop_back();
      kept_bytes_ -= capacity;
      return buffer;
    }
  }
  void *data = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) {
    sync::MutexLock lock(mu_);
    used_bytes_ -= capacity;
    throw std::bad_alloc();
  }
  return {static_cast<uint8_t *>(data), capacity};
}

void SegmentPool::Give(SegmentBuffer buffer) {
  if (buffer.data == nullptr) return;
  const size_t index = ClassOf(buffer.capacity, kClasses);
  {
    sync::MutexLock lock(mu_);
    used_bytes_ -= buffer.capacity;
    if (index < kClasses && used_bytes_ + kept_bytes_ + buffer.capacity <= limit_bytes_) {
      kept_[index].push_back(buffer);
      kept_bytes_ += buffer.capacity;
      return;
    }
  }
  munmap(buffer.data, buffer.capacity);
}

}  // namespace zerobus
