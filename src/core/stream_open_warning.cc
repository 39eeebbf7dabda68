#include "core/stream_open_warning.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace zerobus {

bool WarningsEnabled(const Settings &settings, const Environment &env) {
  if (!settings.warnings_enabled) return false;
  const char *variable = env("ZEROBUS_SDK_WARNINGS_ENABLED");
  if (variable == nullptr) return true;
  std::string value = variable;
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return value != "false" && value != "0";
}

void StreamOpenWarning::Opened(const std::string &table, const Logger &logger) {
  if (!enabled_ || !Count(table, Clock::now())) return;
  logger.Log(LogLevel::kWarn, "sdk", [&] {
    return std::to_string(kStreams) + " streams were opened for table " + table + " within " +
           std::to_string(kWindow.count()) +
           " seconds on this SDK: this is usually a stream per record, where one stream should "
           "take them all (a stream sustains many thousands of records a second, and each new "
           "one costs a connection set-up). Keep a stream open and ingest every record into it. "
           "sdk.warnings.enable=false or ZEROBUS_SDK_WARNINGS_ENABLED=false silences this "
           "warning.";
  });
}

bool StreamOpenWarning::Count(const std::string &table, Clock::time_point now) {
  sync::MutexLock lock(mu_);
  if (warned_.count(table)) return false;
  // Tables not opened within the window are forgotten now and then, so that an SDK writing
  // to ever new tables does not grow without bound.
  if (opened_.size() >= 1024) {
    for (auto it = opened_.begin(); it != opened_.end();) {
      it = now - it->second.back() >= kWindow ? opened_.erase(it) : std::next(it);
    }
  }
  std::deque<Clock::time_point> &times = opened_[table];
  times.push_back(now);
  while (now - times.front() >= kWindow) times.pop_front();
  if (static_cast<int64_t>(times.size()) < kStreams) return false;
  opened_.erase(table);
  warned_.insert(table);
  return true;
}

}  // namespace zerobus
