// LogThrottle: the first lines of an episode go out, then one per period telling how many were
// left out; a quiet period starts a new episode.
#include "core/log_throttle.h"

#include <gtest/gtest.h>

#include <chrono>

namespace zerobus {
namespace {

using namespace std::chrono_literals;
using Clock = LogThrottle::Clock;

TEST(LogThrottle, TheFirstLinesGoOutThenOnePerPeriodWithTheCountLeftOut) {
  LogThrottle throttle(3, 10s);
  const Clock::time_point start = Clock::now();
  uint64_t left_out = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(throttle.Admit(start + i * 1ms, &left_out)) << i;
    EXPECT_EQ(left_out, 0u);
  }
  // A storm: one line a millisecond for a little under a period.
  int admitted = 0;
  for (int i = 3; i < 9000; ++i) admitted += throttle.Admit(start + i * 1ms, &left_out);
  EXPECT_EQ(admitted, 0);
  // A period after the last line that went out: one more, with the count of those left out.
  ASSERT_TRUE(throttle.Admit(start + 2ms + 10s, &left_out));
  EXPECT_EQ(left_out, 9000u - 3u);
  EXPECT_FALSE(throttle.Admit(start + 3ms + 10s, &left_out));
}

TEST(LogThrottle, AQuietPeriodStartsANewEpisode) {
  LogThrottle throttle(2, 10s);
  const Clock::time_point start = Clock::now();
  uint64_t left_out = 0;
  EXPECT_TRUE(throttle.Admit(start, &left_out));
  EXPECT_TRUE(throttle.Admit(start + 1s, &left_out));
  EXPECT_FALSE(throttle.Admit(start + 2s, &left_out));
  // Nothing for a whole period: the next lines go out at once again, the first of them telling
  // of the one left out before the quiet.
  EXPECT_TRUE(throttle.Admit(start + 12s, &left_out));
  EXPECT_EQ(left_out, 1u);
  EXPECT_TRUE(throttle.Admit(start + 12s + 1ms, &left_out));
  EXPECT_EQ(left_out, 0u);
  EXPECT_FALSE(throttle.Admit(start + 12s + 2ms, &left_out));
}

}  // namespace
}  // namespace zerobus
