#include "core/batch_window.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

#include "core/flight_wire.h"

namespace zerobus {

BatchWindow::BatchWindow(std::shared_ptr<const arrow::Schema> schema, const BatchLimits &limits)
    : schema_(std::move(schema)), limits_(limits) {}

Status BatchWindow::Encode(arrow::RecordBatch rows, EncodedBatch *out) const {
  if (rows.length == 0) return Status(StatusCode::kEmptyBatch, "the record batch has no rows");
  *out = EncodedBatch();
  Status encoded = EncodeFrames(rows, out);
  if (!encoded.ok()) return encoded;
  out->rows = std::move(rows);
  return Status::Ok();
}

Status BatchWindow::EncodeFrames(const arrow::RecordBatch &rows, EncodedBatch *out) const {
  arrow::EncodedMessage message;
  const arrow::Status encoded =
      arrow::EncodeRecordBatch(*schema_, rows, arrow::WriteOptions{limits_.codec}, &message);
  if (!encoded.ok()) return Status(StatusCode::kInvalidRecord, encoded.message());
  const size_t size = flight::FrameBytes(message);
  if (size <= limits_.max_frame_bytes) {
    out->bytes += size;
    out->frames.push_back(std::move(message));
    out->frame_rows.push_back(rows.length);
    return Status::Ok();
  }
  if (rows.length == 1) {
    return Status(StatusCode::kRecordTooLarge,
                  "a row of the batch takes " + std::to_string(size) +
                      " bytes as a FlightData, more than one may carry (" +
                      std::to_string(limits_.max_frame_bytes) +
                      " bytes, stream.max.request.bytes)");
  }
  // As many even parts as the size asks for; a part still too large is split again.
  const int64_t parts =
      std::min<int64_t>(rows.length, static_cast<int64_t>(size / limits_.max_frame_bytes) + 1);
  for (int64_t part = 0, start = 0; part < parts; ++part) {
    const int64_t end = rows.length * (part + 1) / parts;
    Status split = EncodeFrames(arrow::Slice(rows, start, end - start), out);
    if (!split.ok()) return split;
    start = end;
  }
  return Status::Ok();
}

uint64_t BatchWindow::Append(EncodedBatch batch) {
  bytes_ += batch.bytes;
  batches_.push_back(Pending{next_offset_, std::move(batch), 0, 0, {}});
  return next_offset_++;
}

bool BatchWindow::HasRoom(size_t count, size_t bytes) const {
  if (batches_.empty()) return true;
  return batches_.size() + count <= limits_.max_batches && bytes_ + bytes <= limits_.max_bytes;
}

bool BatchWindow::HasRefillRoom() const {
  return batches_.empty() || (batches_.size() + limits_.max_batches / 4 <= limits_.max_batches &&
                              bytes_ + limits_.max_bytes / 4 <= limits_.max_bytes);
}

bool BatchWindow::TakeNextRequest(grpc::ByteBuffer *request) {
  while (cursor_ < batches_.size() &&
         batches_[cursor_].frames_sent == batches_[cursor_].encoded.frames.size()) {
    ++cursor_;
  }
  if (cursor_ == batches_.size()) return false;
  Pending &batch = batches_[cursor_];
  const size_t frame = batch.frames_sent++;
  if (frame == 0) batch.sent_at = std::chrono::steady_clock::now();
  const arrow::EncodedMessage &message = batch.encoded.frames[frame];
  *request = flight::BatchFrame(message, next_frame_++);
  rows_sent_ += batch.encoded.frame_rows[frame];
  if (batch.frames_sent == batch.encoded.frames.size()) {
    sent_watermark_ = std::max(sent_watermark_, batch.offset + 1);
  }
  ++wire_counters_.requests_sent;
  wire_counters_.records_sent += static_cast<uint64_t>(batch.encoded.frame_rows[frame]);
  wire_counters_.bytes_sent += request->Length();
  return true;
}

bool BatchWindow::Ack(int64_t ack, AckedRange *acked, bool *released, Status *error) {
  *released = false;
  if (ack < rows_acked_) {
    *error = Status(StatusCode::kProtocol,
                    "the server's ack went backwards: " + std::to_string(ack) + " rows after " +
                        std::to_string(rows_acked_),
                    true);
    return false;
  }
  if (ack > rows_sent_) {
    *error = Status(StatusCode::kProtocol,
                    "the server acked " + std::to_string(ack) + " rows but only " +
                        std::to_string(rows_sent_) + " were sent",
                    true);
    return false;
  }
  ++wire_counters_.acks_received;
  int64_t newly = ack - rows_acked_;
  rows_acked_ = ack;
  acked->first_offset = acked_count_;
  const auto now = std::chrono::steady_clock::now();
  while (newly > 0) {
    Pending &front = batches_.front();
    const int64_t taken = std::min(newly, front.encoded.rows.length - front.acked_rows);
    front.acked_rows += taken;
    newly -= taken;
    if (front.acked_rows < front.encoded.rows.length) break;
    ack_latency_.Record(
        std::chrono::duration_cast<std::chrono::microseconds>(now - front.sent_at).count());
    bytes_ -= front.encoded.bytes;
    acked_count_ = front.offset + 1;
    // The batch's buffers go now, and with them (once gRPC is done with its slices) the
    // producer's data: an imported ArrowArray is released here.
    batches_.pop_front();
    if (cursor_ > 0) --cursor_;
    *released = true;
  }
  acked->last_offset = acked_count_ - 1;
  return true;
}

uint64_t BatchWindow::Rewind() {
  uint64_t replayed = 0;
  for (Pending &batch : batches_) {
    if (batch.frames_sent > 0) ++replayed;
    batch.frames_sent = 0;
  }
  if (!batches_.empty() && batches_.front().acked_rows > 0) {
    Pending &front = batches_.front();
    const int64_t acked = front.acked_rows;
    EncodedBatch rest;
    const Status encoded =
        Encode(arrow::Slice(front.encoded.rows, acked, front.encoded.rows.length - acked), &rest);
    // Fewer rows of a batch that was encoded once encode again, only smaller.
    assert(encoded.ok());
    if (encoded.ok()) {
      bytes_ = bytes_ - front.encoded.bytes + rest.bytes;
      front.encoded = std::move(rest);
    }
    front.acked_rows = 0;
  }
  cursor_ = 0;
  next_frame_ = 0;
  rows_sent_ = 0;
  rows_acked_ = 0;
  return replayed;
}

void BatchWindow::VisitUnacked(
    const std::function<void(uint64_t offset, const arrow::RecordBatch &rows)> &visit) const {
  for (const Pending &batch : batches_) {
    const arrow::RecordBatch &rows = batch.encoded.rows;
    visit(batch.offset, batch.acked_rows == 0
                            ? rows
                            : arrow::Slice(rows, batch.acked_rows, rows.length - batch.acked_rows));
  }
}

}  // namespace zerobus
