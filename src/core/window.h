// The in-flight window of one stream: every record accepted and not yet acknowledged, already
// framed for the wire, grouped into the requests it will travel in.
#ifndef ZEROBUS_CORE_WINDOW_H
#define ZEROBUS_CORE_WINDOW_H

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.h"
#include "core/outbox.h"
#include "core/record_format.h"
#include "core/segment_pool.h"
#include "core/stats.h"
#include "core/status.h"
#include "core/wire.h"

namespace zerobus {

// One record handed to the window: a view of the caller's bytes.
struct RecordView {
  const void *data;
  size_t len;
};

// The framed records of one request: their entries back to back, as the batch body of an
// ingest_record_batch. Its bytes are immutable once sealed, and the sender shares them with
// gRPC without copying; only the window's note of when it was last sent changes.
class Segment {
 public:
  // A segment with room for `capacity` bytes from `pool`, where its memory goes back when it
  // is destroyed. Throws std::bad_alloc.
  Segment(uint64_t first_offset, size_t capacity, std::shared_ptr<SegmentPool> pool);
  ~Segment();
  Segment(const Segment &) = delete;
  Segment &operator=(const Segment &) = delete;

  uint64_t first_offset() const { return first_offset_; }
  uint64_t last_offset() const { return first_offset_ + record_count_ - 1; }
  size_t record_count() const { return record_count_; }
  const uint8_t *data() const { return buffer_.data; }
  size_t size() const { return size_; }

  // Appends framed records, moving to a larger buffer of the pool when they do not fit; the
  // caller has checked that they fit the request limit. Either all are appended or, when
  // memory runs out, none. `far_from_send`: they will not be sent before they have left the
  // cache, so large ones are copied around it (uncached_copy.h).
  void Append(const RecordView *records, size_t count, size_t framed_bytes, bool far_from_send);

  std::chrono::steady_clock::time_point sent_at() const { return sent_at_; }
  void set_sent_at(std::chrono::steady_clock::time_point at) { sent_at_ = at; }

 private:
  std::chrono::steady_clock::time_point sent_at_;
  uint64_t first_offset_;
  size_t record_count_ = 0;
  std::shared_ptr<SegmentPool> pool_;  // outlives the window while gRPC holds the segment
  SegmentBuffer buffer_;
  size_t size_ = 0;
};

using SegmentPtr = std::shared_ptr<const Segment>;

// The window's limits (stream.max.inflight.*, stream.max.request.bytes,
// stream.max.payload.bytes).
struct WindowLimits {
  size_t max_records;
  size_t max_bytes;
  size_t max_request_bytes;
  // The record bytes one ingest call may carry, framing aside.
  size_t max_payload_bytes = SIZE_MAX;
};

// Offsets, framing, grouping into requests, wire offsets and acks, with what they add up to
// (WireCounters, the ack latency of each request): a record stream's Outbox, whose requests are
// ingest_record_batch requests of `format`. Not thread-safe: the stream serializes every call
// under its own mutex.
class Window final : public Outbox {
 public:
  // `pool`: where segments get their memory, shared by the lanes of one stream; null: a pool
  // of the window's own (MakePool()).
  // `durable_offsets`: a persistent stream's window, whose wire offsets are its offsets, one
  // record per request, the same on every connection: acks may end inside a segment, and a
  // new connection sends from the first record the server has not committed.
  explicit Window(const WindowLimits &limits, std::shared_ptr<SegmentPool> pool = nullptr,
                  RecordFormat format = RecordFormat::kProto, bool durable_offsets = false);

  // A pool for windows of `max_bytes` that together hold no more than that.
  static std::shared_ptr<SegmentPool> MakePool(size_t max_bytes);

  // ZB_OK when `records` (framed) fit into one request, else ZB_ERR_RECORD_TOO_LARGE.
  // `framed_bytes` receives their framed size, which Append() takes. Any lengths, however
  // large or many, are refused rather than wrapped around.
  Status CheckFits(const RecordView *records, size_t count, size_t *framed_bytes) const;

  // True when `count` records of `bytes` framed bytes fit now. An empty window admits anything
  // that fits into one request, so that a record larger than max_bytes cannot wait forever.
  bool HasRoom(size_t count, size_t bytes) const override;

  // True when at least a quarter of the window (by records and by bytes) is free, or it is
  // empty: the point at which ingest calls waiting for room are worth waking.
  bool HasRefillRoom() const override;

  // Appends records as one unit (they travel in the same request) and returns the offset of
  // the last. The caller has checked CheckFits and HasRoom.
  uint64_t Append(const RecordView *records, size_t count, size_t framed_bytes);

  // The next request to write on the current connection, sealing the open segment if that is
  // next; nullptr when everything is sent. `wire_offset` receives its offset_id (with durable
  // offsets: that of its first record not acknowledged). The request counts as sent, and its
  // ack latency runs, from now.
  SegmentPtr TakeNextToSend(int64_t *wire_offset);
  // TakeNextToSend() framed as a whole request; the body is shared with gRPC, not copied.
  // With durable offsets each record is a request of its own (ingest_record at its offset),
  // from the first the server has not committed: a segment yields one per record.
  bool TakeNextRequest(grpc::ByteBuffer *request) override;

  // Applies a cumulative server ack for `wire_offset` on the current connection, recording the
  // latency of each request it releases. Returns false and sets `error` when the ack goes
  // backwards or covers requests never sent; `acked` is empty (released == false) when it
  // repeats an earlier ack.
  bool Ack(int64_t wire_offset, AckedRange *acked, bool *released, Status *error) override;

  // A new connection: every sent, unacknowledged request goes out again, in order, with wire
  // offsets from 0 (durable offsets: their own). Returns how many records were sent before and
  // will be sent again.
  uint64_t Rewind() override;

  // Durable offsets, before anything is appended: offsets begin at `first`, every one below it
  // counted as acknowledged (a stream resumed with that watermark + 1).
  void StartAt(uint64_t first);

  // Durable offsets, after Rewind(): the server resumed the stream with every offset up to
  // `committed` durable (none when `has_committed` is false), which acknowledges them. Fails
  // (ZB_ERR_PROTOCOL) when the server forgot offsets it acknowledged, or committed some never
  // sent; `released` as for Ack().
  bool Resume(bool has_committed, int64_t committed, AckedRange *acked, bool *released,
              Status *error);

  uint64_t next_offset() const override { return next_offset_; }
  uint64_t acked_count() const override { return acked_count_; }
  bool has_unacked_sent() const override { return sent_count_ > 0; }
  bool more_ready() const override { return record_pending_; }
  size_t records() const override { return records_; }
  size_t bytes() const override { return bytes_; }
  uint64_t sent_watermark() const override { return sent_watermark_; }
  const WireCounters &wire_counters() const override { return wire_counters_; }
  const LatencyHistogram &ack_latency() const override { return ack_latency_; }

  // Calls visit(request, offset, record) for every unacknowledged record in offset order;
  // `request` numbers the requests the records travel in, from 0.
  void VisitUnacked(const std::function<void(size_t request, uint64_t offset,
                                             std::string_view record)> &visit) const;

 private:
  // Takes no more records into the open segment, and sizes the next one after it.
  void SealOpenSegment();
  // Acknowledges every offset up to `last` (at least acked_count_), releasing the requests it
  // covers whole, sent on the current connection or not.
  void ReleaseThrough(uint64_t last, AckedRange *acked);
  // TakeNextRequest() with durable offsets: the next record as a request of its own.
  bool TakeNextRecordRequest(grpc::ByteBuffer *request);

  RecordFormat format_;
  size_t max_records_;
  size_t max_bytes_;
  // The largest batch body (and so the largest record entry) one request can carry.
  size_t max_body_bytes_;
  size_t max_payload_bytes_;
  const bool durable_offsets_;
  // The size past which the open segment takes no more records and another begins.
  size_t seal_bytes_;

  // Unacknowledged requests in offset order. The last one is still open for appends when
  // open_ is set.
  std::deque<std::shared_ptr<Segment>> segments_;
  bool open_ = false;
  // segments_[0 .. sent_count_) were written on the current connection.
  size_t sent_count_ = 0;
  // Wire offset of segments_[0] on the current connection (the count acked on it).
  int64_t front_wire_offset_ = 0;
  // Capacity for the next open segment: what the last one needed, so steady traffic rarely
  // outgrows its buffer.
  size_t next_capacity_;
  // Where segments get their memory, within max_bytes_ and kPoolSlackBytes all told (for
  // every lane of the stream, when they share it).
  std::shared_ptr<SegmentPool> pool_;

  uint64_t next_offset_ = 0;
  uint64_t acked_count_ = 0;
  size_t records_ = 0;
  size_t bytes_ = 0;

  uint64_t sent_watermark_ = 0;
  // Framed bytes not yet written on the current connection: what a new record waits behind.
  size_t unsent_bytes_ = 0;
  WireCounters wire_counters_;
  LatencyHistogram ack_latency_;

  // Durable offsets: the segment whose records TakeNextRequest() is handing out one request
  // each, its next record and that record's offset, and the records after it.
  SegmentPtr sending_;
  std::string_view pending_record_;
  bool record_pending_ = false;
  int64_t pending_offset_ = 0;
  wire::RecordEntryReader rest_of_segment_{std::string_view()};
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_WINDOW_H
