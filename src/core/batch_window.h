// The in-flight window of an Arrow stream: every record batch accepted and not yet acknowledged,
// encoded as the FlightData frames it travels in, under one logical offset per batch. The
// server acknowledges rows (ack_up_to_records, cumulative on each call), so a batch can be
// partly acknowledged: a new call replays only its rows that were not.
#ifndef ZEROBUS_CORE_BATCH_WINDOW_H
#define ZEROBUS_CORE_BATCH_WINDOW_H

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "arrow/compression.h"
#include "arrow/ipc_writer.h"
#include "arrow/model.h"
#include "core/outbox.h"

namespace zerobus {

// The window's limits (stream.max.inflight.records counts batches here,
// stream.max.inflight.bytes, stream.max.request.bytes bounds each frame) and the IPC body
// compression (arrow.compression).
struct BatchLimits {
  size_t max_batches;
  size_t max_bytes;
  size_t max_frame_bytes;
  arrow::Codec codec;
};

// A record batch encoded for the wire: the frames it travels in (rows in order, each frame a
// FlightData of at most max_frame_bytes) and their bytes in all.
struct EncodedBatch {
  arrow::RecordBatch rows;
  std::vector<arrow::EncodedMessage> frames;
  std::vector<int64_t> frame_rows;
  size_t bytes = 0;
};

class BatchWindow final : public Outbox {
 public:
  BatchWindow(std::shared_ptr<const arrow::Schema> schema, const BatchLimits &limits);

  // Encodes `rows` (of the window's schema) into frames, splitting it by rows where one frame
  // would exceed max_frame_bytes. Without compression the frames' bodies are slices of the
  // batch's own buffers. ZB_ERR_EMPTY_BATCH for a batch of no rows; ZB_ERR_RECORD_TOO_LARGE
  // when one row alone does not fit into a frame; ZB_ERR_INVALID_RECORD when encoding fails.
  // Reads only what never changes: callable without the stream's lock.
  Status Encode(arrow::RecordBatch rows, EncodedBatch *out) const;

  // Appends an encoded batch under the next offset, which it returns. The caller checked
  // HasRoom(1, batch.bytes).
  uint64_t Append(EncodedBatch batch);

  bool HasRoom(size_t count, size_t bytes) const override;
  bool HasRefillRoom() const override;
  // The next frame, with app_metadata {"offset_id": N}, N counting frames on this call from 0.
  bool TakeNextRequest(grpc::ByteBuffer *request) override;
  // `ack`: ack_up_to_records, the rows durable on this call.
  bool Ack(int64_t ack, AckedRange *acked, bool *released, Status *error) override;
  // The first batch, when partly acknowledged, is cut to its unacknowledged rows and encoded
  // again; frame numbers and rows count from 0 on the new call.
  uint64_t Rewind() override;

  uint64_t next_offset() const override { return next_offset_; }
  uint64_t acked_count() const override { return acked_count_; }
  bool has_unacked_sent() const override { return rows_sent_ > rows_acked_; }
  size_t records() const override { return batches_.size(); }
  size_t bytes() const override { return bytes_; }
  uint64_t sent_watermark() const override { return sent_watermark_; }
  const WireCounters &wire_counters() const override { return wire_counters_; }
  const LatencyHistogram &ack_latency() const override { return ack_latency_; }

  const arrow::Schema &schema() const { return *schema_; }

  // Calls visit(offset, rows) for every unacknowledged batch in offset order, `rows` cut to its
  // rows not acknowledged.
  void VisitUnacked(
      const std::function<void(uint64_t offset, const arrow::RecordBatch &rows)> &visit) const;

 private:
  struct Pending {
    uint64_t offset;
    EncodedBatch encoded;
    int64_t acked_rows = 0;  // on the current call
    size_t frames_sent = 0;  // on the current call
    std::chrono::steady_clock::time_point sent_at;
  };

  // Appends the frames of `rows` to `out`.
  Status EncodeFrames(const arrow::RecordBatch &rows, EncodedBatch *out) const;

  const std::shared_ptr<const arrow::Schema> schema_;
  const BatchLimits limits_;

  std::deque<Pending> batches_;
  // batches_[cursor_] is the first with frames not yet sent on the current call (or past the
  // end).
  size_t cursor_ = 0;
  int64_t next_frame_ = 0;  // the next frame's offset_id on the current call
  int64_t rows_sent_ = 0;   // on the current call
  int64_t rows_acked_ = 0;  // on the current call

  uint64_t next_offset_ = 0;
  uint64_t acked_count_ = 0;
  size_t bytes_ = 0;
  uint64_t sent_watermark_ = 0;
  WireCounters wire_counters_;
  LatencyHistogram ack_latency_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_BATCH_WINDOW_H
