// The ack latency histogram: exact for small values, within its bucket width (1/16) for large
// ones, percentiles in order, and bounded.
#include "core/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace zerobus {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), 0u);
  EXPECT_EQ(histogram.Percentile(0.5), 0u);
  EXPECT_EQ(histogram.Percentile(0.999), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (int value = 0; value < 16; ++value) histogram.Record(value);
  EXPECT_EQ(histogram.count(), 16u);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), 15u);
  EXPECT_EQ(histogram.sum(), 120u);
  EXPECT_EQ(histogram.Percentile(0.5), 7u);  // the 8th of 16 values
  EXPECT_EQ(histogram.Percentile(1.0), 15u);
  EXPECT_EQ(histogram.Percentile(0.01), 0u);
}

TEST(LatencyHistogram, PercentilesAreWithinABucketOfTheTruth) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(std::log(800.0), 1.0);
  std::vector<uint64_t> values;
  LatencyHistogram histogram;
  for (int i = 0; i < 100000; ++i) {
    const auto value = static_cast<uint64_t>(latency(random));
    values.push_back(value);
    histogram.Record(static_cast<int64_t>(value));
  }
  std::sort(values.begin(), values.end());
  for (double fraction : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t truth = values[static_cast<size_t>(std::ceil(fraction * values.size())) - 1];
    const uint64_t estimate = histogram.Percentile(fraction);
    // The bucket's upper bound: never below the truth, and at most 1/16 above it.
    EXPECT_GE(estimate, truth) << fraction;
    EXPECT_LE(estimate, truth + truth / 16 + 1) << fraction;
  }
  EXPECT_LE(histogram.Percentile(0.5), histogram.Percentile(0.99));
  EXPECT_LE(histogram.Percentile(0.99), histogram.Percentile(0.999));
  EXPECT_LE(histogram.Percentile(0.999), histogram.max());
  EXPECT_EQ(histogram.max(), values.back());
  EXPECT_EQ(histogram.min(), values.front());
}

TEST(LatencyHistogram, PercentilesNeverPassTheExtremes) {
  LatencyHistogram histogram;
  histogram.Record(1000003);
  EXPECT_EQ(histogram.Percentile(0.5), 1000003u);
  EXPECT_EQ(histogram.Percentile(0.999), 1000003u);
}

TEST(LatencyHistogram, OutOfRangeValuesAreClamped) {
  LatencyHistogram histogram;
  histogram.Record(-5);
  histogram.Record(INT64_MAX);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), LatencyHistogram::kMaxMicros);
  EXPECT_EQ(histogram.Percentile(1.0), LatencyHistogram::kMaxMicros);
  EXPECT_EQ(histogram.Percentile(0.5), 0u);
}

}  // namespace
}  // namespace zerobus
