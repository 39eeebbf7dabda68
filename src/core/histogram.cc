#include "core/histogram.h"

#include <algorithm>
#include <cmath>

namespace zerobus {

size_t LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < kSubBuckets) return static_cast<size_t>(micros);
  const int exponent = 63 - __builtin_clzll(micros);  // >= kSubBits
  const uint64_t mantissa = (micros >> (exponent - kSubBits)) & (kSubBuckets - 1);
  return static_cast<size_t>(kSubBuckets + (exponent - kSubBits) * kSubBuckets + mantissa);
}

uint64_t LatencyHistogram::UpperBound(size_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const size_t exponent = (bucket - kSubBuckets) / kSubBuckets + kSubBits;
  const uint64_t mantissa = (bucket - kSubBuckets) % kSubBuckets;
  const int shift = static_cast<int>(exponent) - kSubBits;
  return ((kSubBuckets + mantissa + 1) << shift) - 1;
}

void LatencyHistogram::Record(int64_t micros) {
  const uint64_t value =
      std::min<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(micros, 0)), kMaxMicros);
  ++counts_[BucketOf(value)];
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram &other) {
  if (other.count_ == 0) return;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) counts_[bucket] += other.counts_[bucket];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

uint64_t LatencyHistogram::Percentile(double fraction) const {
  if (count_ == 0) return 0;
  const double wanted = std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_));
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  uint64_t seen = 0;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) return std::clamp(UpperBound(bucket), min_, max_);
  }
  return max_;
}

}  // namespace zerobus
