// A stream's event as the engine reports it: acknowledgements up to an offset, or an error for a
// range of records that will never be acknowledged.
#ifndef ZEROBUS_CORE_EVENT_H
#define ZEROBUS_CORE_EVENT_H

#include <cstdint>
#include <memory>

#include "core/status.h"

namespace zerobus {

// The numbers of the public zb_event_type values (src/c_api checks that they agree).
enum class EventType : int32_t { kAck = 1, kError = 2 };

struct Event {
  EventType type;
  uint64_t first_offset;
  uint64_t last_offset;
  std::shared_ptr<const Status> error;  // kError only
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_EVENT_H
