#include "core/log.h"

#include <iterator>

namespace zerobus {
namespace {

// Indexed by level - ZB_LOG_ERROR: the levels are contiguous and append-only.
constexpr const char *kLevelNames[] = {"error", "warn", "info", "debug"};

// Log callbacks running on this thread (one may log through another SDK's).
thread_local int log_callback_depth = 0;

}  // namespace

const char *LogLevelName(zb_log_level level) {
  if (level < ZB_LOG_ERROR || level >= ZB_LOG_ERROR + static_cast<int>(std::size(kLevelNames))) {
    return nullptr;
  }
  return kLevelNames[level - ZB_LOG_ERROR];
}

bool ParseLogLevel(std::string_view name, zb_log_level *level) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (name == kLevelNames[i]) {
      *level = ZB_LOG_ERROR + static_cast<zb_log_level>(i);
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
