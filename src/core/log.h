// The library's log: messages for the user's callback (zb_config_set_log_callback()), filtered
// by log.level. Without a callback nothing is formatted, written or printed anywhere.
#ifndef ZEROBUS_CORE_LOG_H
#define ZEROBUS_CORE_LOG_H

#include <string>
#include <string_view>

#include "core/callbacks.h"
#include "core/log_level.h"
#include "core/status.h"

namespace zerobus {

// "error", "warn", "info" or "debug"; nullptr for a level that does not exist.
const char *LogLevelName(LogLevel level);
// The level named `name` (as LogLevelName() spells it); false for any other text.
bool ParseLogLevel(std::string_view name, LogLevel *level);

// `status` as a log line shows it: its message, then its code, gRPC status and retryability.
std::string DescribeForLog(const Status &status);

// Copies share the callback. Thread-safe: the callback is told so (see zb_log_cb).
class Logger {
 public:
  Logger() = default;
  Logger(LogCallbackRef callback, LogLevel level) : callback_(std::move(callback)), level_(level) {}

  bool enabled(LogLevel level) const { return callback_ && level <= level_; }

  // Hands the message `make_message()` returns to the callback when `level` is enabled;
  // otherwise the message is never built. Call it with no lock held: the callback may call
  // back into the library. A message that cannot be built (out of memory) is dropped.
  template <typename MakeMessage>
  void Log(LogLevel level, const char *component, MakeMessage make_message) const noexcept {
    if (!enabled(level)) return;
    try {
      const std::string message = make_message();
      const StreamCloseRefusingScope scope;
      callback_->Log(level, component, message.c_str());
    } catch (...) {
      // Logging must never change what the library does.
    }
  }

 private:
  LogCallbackRef callback_;
  LogLevel level_ = LogLevel::kError;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_LOG_H
