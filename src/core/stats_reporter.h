// The SDK's statistics thread: hands the SDK's statistics to the statistics callback every
// statistics.interval.ms.
#ifndef ZEROBUS_CORE_STATS_REPORTER_H
#define ZEROBUS_CORE_STATS_REPORTER_H

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/callbacks.h"
#include "sync/mutex.h"

namespace zerobus {

// Calls the statistics callback with `make_json()` every `interval`, on a thread of its own,
// with no library lock held. Destroying the reporter stops it: from any other thread it waits
// for a running callback to return; from the callback itself, the thread ends once the callback
// returns.
class StatsReporter {
 public:
  StatsReporter(std::chrono::milliseconds interval, StatsCallbackRef callback, UserHandle handle,
                std::function<std::string()> make_json);
  ~StatsReporter();
  StatsReporter(const StatsReporter &) = delete;
  StatsReporter &operator=(const StatsReporter &) = delete;

 private:
  // Shared with the thread, which may outlive the reporter (see above).
  struct Shared {
    sync::Mutex mu;
    std::condition_variable stop;
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };

  static void Run(std::shared_ptr<Shared> shared, std::chrono::milliseconds interval,
                  StatsCallbackRef callback, UserHandle handle,
                  std::function<std::string()> make_json);

  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STATS_REPORTER_H
