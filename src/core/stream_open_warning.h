// The warning about streams opened in quick succession for one table (reference/official-3x.md
// §4): 100 or more within 60 seconds on one SDK is nearly always a stream per record, which
// costs a connection set-up per record and falls far short of what one stream sustains.
#ifndef ZEROBUS_CORE_STREAM_OPEN_WARNING_H
#define ZEROBUS_CORE_STREAM_OPEN_WARNING_H

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "core/config.h"
#include "core/log.h"
#include "core/proxy.h"
#include "sync/mutex.h"

namespace zerobus {

// Whether an SDK warns about likely misuse: sdk.warnings.enable, unless the environment variable
// ZEROBUS_SDK_WARNINGS_ENABLED says false (or 0, in any case) for the whole process.
bool WarningsEnabled(const Settings &settings, const Environment &env);

// Counts the streams an SDK opens, by table. Thread-safe.
class StreamOpenWarning {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int64_t kStreams = 100;
  static constexpr std::chrono::seconds kWindow{60};

  explicit StreamOpenWarning(bool enabled) : enabled_(enabled) {}

  // Counts a stream opened for `table` now, and logs the warning through `logger` when it is
  // due: the first time kStreams streams of the table fall within kWindow, and never again for
  // that table.
  void Opened(const std::string &table, const Logger &logger);

  // Counts a stream opened for `table` at `now` (not before the last call's); true when the
  // warning is due.
  bool Count(const std::string &table, Clock::time_point now);

 private:
  const bool enabled_;
  sync::Mutex mu_;
  // Of each table not yet warned about, when its last streams (at most kStreams) were opened
  // within kWindow of the newest.
  std::map<std::string, std::deque<Clock::time_point>> opened_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> warned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STREAM_OPEN_WARNING_H
