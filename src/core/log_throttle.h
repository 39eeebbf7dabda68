// Keeps lines that can repeat without end (a server failing connection after connection) from
// flooding the log: the first few of an episode go out, then one per period, which tells how
// many were left out since the last that went out. An episode ends after a quiet period.
#ifndef ZEROBUS_CORE_LOG_THROTTLE_H
#define ZEROBUS_CORE_LOG_THROTTLE_H

#include <chrono>
#include <cstdint>

namespace zerobus {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  LogThrottle(int64_t burst, Clock::duration period) : burst_(burst), period_(period) {}

  // Whether a line due at `now` goes out. When it does, `*left_out` is the number of lines
  // left out since the last one that went out. Not thread-safe: one owner.
  bool Admit(Clock::time_point now, uint64_t *left_out) {
    const bool first = !seen_any_;
    seen_any_ = true;
    if (first || now - last_due_ >= period_) allowance_ = burst_;
    last_due_ = now;
    if (allowance_ > 0) {
      --allowance_;
    } else if (now - last_admitted_ < period_) {
      ++left_out_;
      return false;
    }
    last_admitted_ = now;
    *left_out = left_out_;
    left_out_ = 0;
    return true;
  }

 private:
  const int64_t burst_;
  const Clock::duration period_;
  bool seen_any_ = false;
  int64_t allowance_ = 0;  // lines that may still go out at once in this episode
  Clock::time_point last_due_;
  Clock::time_point last_admitted_;
  uint64_t left_out_ = 0;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_LOG_THROTTLE_H
