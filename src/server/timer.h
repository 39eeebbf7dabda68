// Runs callbacks at given times on one thread of its own, so that the gRPC threads never sleep.
#ifndef ZEROBUS_SERVER_TIMER_H
#define ZEROBUS_SERVER_TIMER_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "sync/mutex.h"

namespace zerobus::server {

class Timer {
 public:
  using Clock = std::chrono::steady_clock;

  Timer();
  // Drops the callbacks that have not run yet and joins the thread.
  ~Timer();
  Timer(const Timer &) = delete;
  Timer &operator=(const Timer &) = delete;

  // Runs `fn` on the timer thread at or soon after `when`. Callbacks due at the same time run in
  // the order they were scheduled. Thread-safe.
  void At(Clock::time_point when, std::function<void()> fn);

 private:
  void Run();

  sync::Mutex mu_;
  std::condition_variable wake_;
  // Keyed by (due time, sequence number) so equal times keep their scheduling order.
  std::map<std::pair<Clock::time_point, uint64_t>, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_TIMER_H
