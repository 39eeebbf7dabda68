#include "core/log.h"

#include <iterator>

namespace zerobus {
namespace {

// Indexed by level - LogLevel::kError: the levels are contiguous and append-only.
constexpr const char *kLevelNames[] = {"error", "warn", "info", "debug"};

// Log callbacks running on this thread (one may log through another SDK's).
thread_local int log_callback_depth = 0;

}  // namespace

const char *LogLevelName(LogLevel level) {
  // Compared before subtracting: any int32_t may come from the caller.
  const int32_t value = static_cast<int32_t>(level);
  const int32_t first = static_cast<int32_t>(LogLevel::kError);
  if (value < first || value - first >= static_cast<int32_t>(std::size(kLevelNames))) {
    return nullptr;
  }
  return kLevelNames[value - first];
}

bool ParseLogLevel(std::string_view name, LogLevel *level) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (name == kLevelNames[i]) {
      *level = static_cast<LogLevel>(static_cast<int32_t>(LogLevel::kError) + i);
      return true;
    }
  }
  return false;
}

bool InLogCallback() {
  return log_callback_depth > 0;
}

LogCallbackScope::LogCallbackScope() {
  ++log_callback_depth;
}

LogCallbackScope::~LogCallbackScope() {
  --log_callback_depth;
}

std::string DescribeForLog(const Status &status) {
  std::string text = status.message() + " [" + StatusName(status.code());
  if (status.grpc_status() != Status::kNoGrpcStatus) {
    text += ", gRPC status " + std::to_string(status.grpc_status());
  }
  return text + (status.retryable() ? ", retryable]" : ", not retryable]");
}

}  // namespace zerobus
