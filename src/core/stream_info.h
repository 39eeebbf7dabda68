// A stream's state and counters at one moment (zb_stream_get_info()).
#ifndef ZEROBUS_CORE_STREAM_INFO_H
#define ZEROBUS_CORE_STREAM_INFO_H

#include <cstdint>

namespace zerobus {

// The numbers of the public zb_stream_state values (src/c_api checks that they agree).
enum class StreamState : int32_t {
  kOpen = 1,
  kRecovering = 2,
  kPaused = 3,
  kFailed = 4,
  kClosed = 5,
};

// "open", "recovering", "paused", "failed" or "closed"; nullptr for a state that does not exist.
const char *StreamStateName(StreamState state);

struct StreamInfo {
  StreamState state = StreamState::kOpen;
  uint64_t records_accepted = 0;  // offsets issued so far
  uint64_t records_acked = 0;     // every offset below this is durable
  uint64_t records_in_flight = 0;
  uint64_t bytes_in_flight = 0;  // framing included
  uint64_t recoveries = 0;
  uint64_t records_replayed = 0;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STREAM_INFO_H
