// How detailed a log message is.
#ifndef ZEROBUS_CORE_LOG_LEVEL_H
#define ZEROBUS_CORE_LOG_LEVEL_H

#include <cstdint>

namespace zerobus {

// The numbers of the public zb_log_level values (src/c_api checks that they agree); contiguous
// and append-only, from the least detailed.
enum class LogLevel : int32_t { kError = 1, kWarn = 2, kInfo = 3, kDebug = 4 };

}  // namespace zerobus

#endif  // ZEROBUS_CORE_LOG_LEVEL_H
