#include "core/log.h"

#include <iterator>

namespace zerobus {
namespace {

// Indexed by level - LogLevel::kError: the levels are contiguous and append-only.
constexpr const char *kLevelNames[] = {"error", "warn", "info", "debug"};

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

std::string DescribeForLog(const Status &status) {
  std::string text = status.message() + " [" + StatusName(status.code());
  if (status.grpc_status() != Status::kNoGrpcStatus) {
    text += ", gRPC status " + std::to_string(status.grpc_status());
  }
  return text + (status.retryable() ? ", retryable]" : ", not retryable]");
}

}  // namespace zerobus
