// Process-wide counts of the native resources the addon holds, so that tests can prove that
// garbage-collected and torn-down streams free everything.
#ifndef ZEROBUS_NODE_COUNTERS_H
#define ZEROBUS_NODE_COUNTERS_H

#include <zerobus/zerobus.h>

#include <atomic>
#include <cstdint>

namespace zerobus_node {

/** zb_stream handles created and not yet destroyed, in every environment. */
extern std::atomic<int64_t> live_stream_handles;
/** Wakers (each a threadsafe function plus its state) not yet freed, in every environment. */
extern std::atomic<int64_t> live_wakers;
/** zb_sdk handles created and not yet destroyed, in every environment. */
extern std::atomic<int64_t> live_sdk_handles;
/** Notifiers (an SDK's log and statistics callbacks) not yet freed, in every environment. */
extern std::atomic<int64_t> live_notifiers;

/** Counts a stream handle zb_stream_new() returned. */
inline void CountStreamHandle() {
  live_stream_handles.fetch_add(1, std::memory_order_relaxed);
}

/** zb_stream_destroy(stream), counted. Any thread. */
inline void DestroyStreamHandle(zb_stream *stream) {
  zb_stream_destroy(stream);
  live_stream_handles.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_COUNTERS_H
