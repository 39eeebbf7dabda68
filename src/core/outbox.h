// What a stream keeps in flight, as its supervision and its connection see it: units accepted
// under logical offsets, requests to write on the current call, the server's cumulative acks,
// and a rewind for the next call. A record stream's is the Window (framed records, acked by
// request); an Arrow stream's the BatchWindow (record batches in FlightData frames, acked by
// rows). Not thread-safe: the stream serializes every call under its own mutex.
#ifndef ZEROBUS_CORE_OUTBOX_H
#define ZEROBUS_CORE_OUTBOX_H

#include <grpcpp/support/byte_buffer.h>

#include <cstddef>
#include <cstdint>

#include "core/histogram.h"
#include "core/stats.h"
#include "core/status.h"

namespace zerobus {

// What a server ack released.
struct AckedRange {
  uint64_t first_offset;
  uint64_t last_offset;  // the new watermark
};

class Outbox {
 public:
  virtual ~Outbox() = default;

  // True when a unit of `count` offsets and `bytes` bytes fits now. An empty outbox admits
  // anything that fits into its requests, so that nothing larger than the bound waits forever.
  virtual bool HasRoom(size_t count, size_t bytes) const = 0;
  // True when at least a quarter of the bound is free, or nothing is in flight: the point at
  // which ingest calls waiting for room are worth waking.
  virtual bool HasRefillRoom() const = 0;

  // The next request to write on the current call, as gRPC takes it (slices that keep what
  // they point into alive); false when everything is sent. It counts as sent from now.
  virtual bool TakeNextRequest(grpc::ByteBuffer *request) = 0;

  // Applies the server's cumulative ack `ack` on the current call, in the outbox's own measure
  // (a request's wire offset, or rows). Returns false and sets `error` when it goes backwards or
  // covers what was never sent; `released` is false when no offset became durable.
  virtual bool Ack(int64_t ack, AckedRange *acked, bool *released, Status *error) = 0;

  // A new call: everything unacknowledged goes out again, in order. Returns how many offsets
  // were sent before and will be sent again.
  virtual uint64_t Rewind() = 0;

  // Offsets: next to be issued, and the count acknowledged (every offset below is durable).
  virtual uint64_t next_offset() const = 0;
  virtual uint64_t acked_count() const = 0;
  bool all_acked() const { return acked_count() == next_offset(); }
  // True when something was written on the current call and is not acknowledged.
  virtual bool has_unacked_sent() const = 0;
  // True when the request TakeNextRequest() gave last has another right behind it (the records
  // of one segment of a persistent stream): its write may wait in gRPC's buffer for that one.
  virtual bool more_ready() const { return false; }
  // Offsets accepted and not acknowledged, and their bytes.
  virtual size_t records() const = 0;
  virtual size_t bytes() const = 0;
  // Every offset below this was sent at least once.
  virtual uint64_t sent_watermark() const = 0;
  virtual const WireCounters &wire_counters() const = 0;
  // From each request's (last) write to the ack that released it.
  virtual const LatencyHistogram &ack_latency() const = 0;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_OUTBOX_H
