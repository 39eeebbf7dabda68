// A fixed-size histogram of latencies in microseconds, for percentiles without keeping
// samples: values below 16 are exact, larger ones fall into 16 buckets per power of two, so a
// percentile is within 1/16 (6.25%) of the true value. Not thread-safe: the stream updates it
// under its own mutex, once per acknowledged request.
#ifndef ZEROBUS_CORE_HISTOGRAM_H
#define ZEROBUS_CORE_HISTOGRAM_H

#include <array>
#include <cstddef>
#include <cstdint>

namespace zerobus {

class LatencyHistogram {
 public:
  // Values are clamped to [0, kMaxMicros]: about 12 days.
  static constexpr uint64_t kMaxMicros = (uint64_t{1} << 40) - 1;

  void Record(int64_t micros);
  // Adds every value `other` recorded: the latencies of a stream's lanes as one.
  void Merge(const LatencyHistogram &other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  uint64_t sum() const { return sum_; }

  // The value at or below which `fraction` (0 < fraction <= 1) of the recorded values lie, as
  // the upper bound of its bucket (never above max()); 0 when nothing was recorded.
  uint64_t Percentile(double fraction) const;

 private:
  static constexpr int kSubBits = 4;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBits;
  // Exact buckets for 0..15, then 16 for each power of two from 2^4 to 2^39.
  static constexpr size_t kBuckets = kSubBuckets + (40 - kSubBits) * kSubBuckets;

  static size_t BucketOf(uint64_t micros);
  static uint64_t UpperBound(size_t bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_HISTOGRAM_H
