#include "core/window.h"

#include <grpcpp/support/slice.h>

#include <algorithm>
#include <cstring>

#include "core/uncached_copy.h"
#include "core/wire.h"

namespace zerobus {
namespace {

constexpr size_t kMinSegmentCapacity = SegmentPool::kMinBytes;
// A request is sealed at about this size (stream.max.request.bytes permitting): larger ones only
// add latency, since the server acts on a request once all of it has arrived and one write is
// in flight at a time. Against `zerobus serve --null-sink`, requests of 10 MiB halved the rate
// of 100-byte records that requests of 0.5 to 1 MiB reached.
constexpr size_t kSealBytes = 1024 * 1024;
// What the pool may keep beyond the window's byte limit. A full window already holds its limit
// in segments (more, counted by capacity), so a pool bounded by the limit alone kept nothing
// while the window was full: every acked segment was unmapped and every new one mapped afresh,
// and writing into new pages cost more than copying the records (10 KB records, one thread:
// 8 µs of CPU per record with no slack, 5.5 µs with it). Eight sealed requests' worth keeps the
// turnover in pages already touched; peak RSS stayed at 88-90 MiB with a 64 MiB window.
constexpr size_t kPoolSlackBytes = 8 * SegmentPool::kMaxPooledBytes;
// Records of at least this size are copied around the cache when they wait behind at least
// kFarFromSendBytes: by the time they are sent, more than a cache's worth of other data (theirs,
// the kernel's socket buffers, the server's) has passed through. Smaller records cost too little
// to copy to be worth it, and the ragged ends of each go through the cache anyway.
constexpr size_t kUncachedRecordBytes = 4096;
constexpr size_t kFarFromSendBytes = 8 * 1024 * 1024;

// The framed size of `records`, saturated at SIZE_MAX. A length past `limit` counts as
// SIZE_MAX before it is framed: framing adds a few bytes, which would wrap SIZE_MAX around.
size_t FramedBytes(const RecordView *records, size_t count, size_t limit) {
  size_t framed = 0;
  for (size_t i = 0; i < count; ++i) {
    if (records[i].len > limit) return SIZE_MAX;
    const size_t entry = wire::RecordEntrySize(records[i].len);
    if (entry > SIZE_MAX - framed) return SIZE_MAX;
    framed += entry;
  }
  return framed;
}

// The bytes of `records`, saturated at SIZE_MAX.
size_t PayloadBytes(const RecordView *records, size_t count) {
  size_t payload = 0;
  for (size_t i = 0; i < count; ++i) {
    if (records[i].len > SIZE_MAX - payload) return SIZE_MAX;
    payload += records[i].len;
  }
  return payload;
}

// "a record of N bytes", or "a batch of K records (<size>)".
std::string Describe(const RecordView *records, size_t count, const std::string &size) {
  return count == 1 ? "a record of " + std::to_string(records[0].len) + " bytes"
                    : "a batch of " + std::to_string(count) + " records (" + size + ")";
}

void ReleaseSegment(void *segment) {
  delete static_cast<SegmentPtr *>(segment);
}

}  // namespace

Segment::Segment(uint64_t first_offset, size_t capacity, std::shared_ptr<SegmentPool> pool)
    : first_offset_(first_offset), pool_(std::move(pool)), buffer_(pool_->Take(capacity)) {}

Segment::~Segment() {
  pool_->Give(buffer_);
}

void Segment::Append(const RecordView *records, size_t count, size_t framed_bytes,
                     bool far_from_send) {
  if (size_ + framed_bytes > buffer_.capacity) {
    const SegmentBuffer larger = pool_->Take(std::max(size_ + framed_bytes, buffer_.capacity * 2));
    std::memcpy(larger.data, buffer_.data, size_);
    pool_->Give(buffer_);
    buffer_ = larger;
  }
  uint8_t *end = buffer_.data + size_;
  for (size_t i = 0; i < count; ++i) {
    if (far_from_send && records[i].len >= kUncachedRecordBytes) {
      uint8_t *record = wire::WriteRecordEntryHeader(end, records[i].len);
      CopyUncached(record, records[i].data, records[i].len);
      end = record + records[i].len;
    } else {
      end = wire::WriteRecordEntry(end, records[i].data, records[i].len);
    }
  }
  size_ = static_cast<size_t>(end - buffer_.data);
  record_count_ += count;
}

std::shared_ptr<SegmentPool> Window::MakePool(size_t max_bytes) {
  return std::make_shared<SegmentPool>(max_bytes + kPoolSlackBytes);
}

Window::Window(const WindowLimits &limits, std::shared_ptr<SegmentPool> pool, RecordFormat format,
               bool durable_offsets)
    : format_(format),
      max_records_(limits.max_records),
      max_bytes_(limits.max_bytes),
      max_body_bytes_(limits.max_request_bytes - wire::kMaxBatchHeaderBytes),
      max_payload_bytes_(limits.max_payload_bytes),
      durable_offsets_(durable_offsets),
      seal_bytes_(std::min(max_body_bytes_, kSealBytes)),
      next_capacity_(kMinSegmentCapacity),
      pool_(pool ? std::move(pool) : MakePool(max_bytes_)) {}

Status Window::CheckFits(const RecordView *records, size_t count, size_t *framed_bytes) const {
  const size_t payload = PayloadBytes(records, count);
  if (payload > max_payload_bytes_) {
    return Status(
        StatusCode::kRecordTooLarge,
        Describe(records, count,
                 payload == SIZE_MAX ? "more than " + std::to_string(max_payload_bytes_) + " bytes"
                                     : std::to_string(payload) + " bytes") +
            " is over the payload limit of " + std::to_string(max_payload_bytes_) +
            " bytes an ingest call may carry (stream.max.payload.bytes)");
  }
  const size_t framed = FramedBytes(records, count, max_body_bytes_);
  *framed_bytes = framed;
  if (framed <= max_body_bytes_) return Status::Ok();
  return Status(StatusCode::kRecordTooLarge,
                Describe(records, count,
                         (framed == SIZE_MAX ? "more than " + std::to_string(max_body_bytes_)
                                             : std::to_string(framed)) +
                             " bytes framed") +
                    " does not fit into one request of at most " +
                    std::to_string(max_body_bytes_ + wire::kMaxBatchHeaderBytes) +
                    " bytes (stream.max.request.bytes)");
}

bool Window::HasRoom(size_t count, size_t bytes) const {
  if (records_ == 0) return true;
  return records_ + count <= max_records_ && bytes_ + bytes <= max_bytes_;
}

bool Window::HasRefillRoom() const {
  return records_ == 0 ||
         (records_ + max_records_ / 4 <= max_records_ && bytes_ + max_bytes_ / 4 <= max_bytes_);
}

uint64_t Window::Append(const RecordView *records, size_t count, size_t framed_bytes) {
  if (open_ && segments_.back()->size() + framed_bytes > seal_bytes_) SealOpenSegment();
  if (!open_) {
    const size_t capacity = std::min(std::max(next_capacity_, framed_bytes), max_body_bytes_);
    segments_.push_back(std::make_shared<Segment>(next_offset_, capacity, pool_));
    open_ = true;
  }
  segments_.back()->Append(records, count, framed_bytes, unsent_bytes_ >= kFarFromSendBytes);
  unsent_bytes_ += framed_bytes;
  next_offset_ += count;
  records_ += count;
  bytes_ += framed_bytes;
  return next_offset_ - 1;
}

void Window::SealOpenSegment() {
  open_ = false;
  next_capacity_ = std::max(segments_.back()->size(), kMinSegmentCapacity);
}

SegmentPtr Window::TakeNextToSend(int64_t *wire_offset) {
  if (sent_count_ == segments_.size()) return nullptr;
  if (sent_count_ + 1 == segments_.size() && open_) SealOpenSegment();
  Segment &segment = *segments_[sent_count_++];
  segment.set_sent_at(std::chrono::steady_clock::now());
  sent_watermark_ = std::max(sent_watermark_, segment.last_offset() + 1);
  if (durable_offsets_) {
    const uint64_t first = std::max(segment.first_offset(), acked_count_);
    *wire_offset = static_cast<int64_t>(first);
    wire_counters_.requests_sent += segment.last_offset() + 1 - first;
    wire_counters_.records_sent += segment.last_offset() + 1 - first;
  } else {
    *wire_offset = front_wire_offset_ + static_cast<int64_t>(sent_count_ - 1);
    ++wire_counters_.requests_sent;
    wire_counters_.records_sent += segment.record_count();
  }
  wire_counters_.bytes_sent += segment.size();
  unsent_bytes_ -= segment.size();
  return segments_[sent_count_ - 1];
}

bool Window::TakeNextRequest(grpc::ByteBuffer *request) {
  if (durable_offsets_) return TakeNextRecordRequest(request);
  int64_t wire_offset = 0;
  SegmentPtr segment = TakeNextToSend(&wire_offset);
  if (!segment) return false;
  uint8_t header[wire::kMaxBatchHeaderBytes];
  const size_t header_len = wire::WriteBatchHeader(header, wire_offset, format_, segment->size());
  const Segment &body = *segment;
  // The slice keeps the segment alive while gRPC holds it.
  grpc::Slice slices[2] = {grpc::Slice(header, header_len),
                           grpc::Slice(const_cast<uint8_t *>(body.data()), body.size(),
                                       ReleaseSegment, new SegmentPtr(std::move(segment)))};
  *request = grpc::ByteBuffer(slices, 2);
  return true;
}

bool Window::TakeNextRecordRequest(grpc::ByteBuffer *request) {
  if (!record_pending_) {
    SegmentPtr segment = TakeNextToSend(&pending_offset_);
    if (!segment) return false;
    rest_of_segment_ = wire::RecordEntryReader(
        std::string_view(reinterpret_cast<const char *>(segment->data()), segment->size()));
    // Records the server committed already stay unsent: it would store them twice.
    for (uint64_t i = segment->first_offset(); i <= static_cast<uint64_t>(pending_offset_); ++i) {
      record_pending_ = rest_of_segment_.Next(&pending_record_);
    }
    sending_ = std::move(segment);
  }
  const std::string_view record = pending_record_;
  record_pending_ = rest_of_segment_.Next(&pending_record_);
  uint8_t header[wire::kMaxBatchHeaderBytes];
  const size_t header_len =
      wire::WriteRecordHeader(header, pending_offset_++, format_, record.size());
  // The slice keeps the segment alive while gRPC holds it.
  grpc::Slice slices[2] = {grpc::Slice(header, header_len),
                           grpc::Slice(const_cast<char *>(record.data()), record.size(),
                                       ReleaseSegment, new SegmentPtr(sending_))};
  *request = grpc::ByteBuffer(slices, 2);
  if (!record_pending_) sending_.reset();
  return true;
}

bool Window::Ack(int64_t wire_offset, AckedRange *acked, bool *released, Status *error) {
  *released = false;
  if (durable_offsets_) {
    const int64_t last_acked = static_cast<int64_t>(acked_count_) - 1;
    const int64_t last_sent = sent_count_ > 0
                                  ? static_cast<int64_t>(segments_[sent_count_ - 1]->last_offset())
                                  : last_acked;
    if (wire_offset < last_acked || wire_offset > last_sent) {
      *error = Status(
          StatusCode::kProtocol,
          "the server acked offset " + std::to_string(wire_offset) +
              (wire_offset < last_acked ? " after " + std::to_string(last_acked)
                                        : " but only offsets up to " + std::to_string(last_sent) +
                                              " were sent on this connection"),
          true);
      return false;
    }
    ++wire_counters_.acks_received;
    if (wire_offset == last_acked) return true;
    ReleaseThrough(static_cast<uint64_t>(wire_offset), acked);
    *released = true;
    return true;
  }
  if (wire_offset < front_wire_offset_ - 1) {
    *error = Status(StatusCode::kProtocol,
                    "the server's ack went backwards: offset " + std::to_string(wire_offset) +
                        " after " + std::to_string(front_wire_offset_ - 1),
                    true);
    return false;
  }
  const int64_t last_sent = front_wire_offset_ + static_cast<int64_t>(sent_count_) - 1;
  if (wire_offset > last_sent) {
    *error = Status(StatusCode::kProtocol,
                    "the server acked offset " + std::to_string(wire_offset) +
                        " but only requests up to " + std::to_string(last_sent) + " were sent",
                    true);
    return false;
  }
  ++wire_counters_.acks_received;
  if (wire_offset == front_wire_offset_ - 1) return true;
  const size_t before = segments_.size();
  ReleaseThrough(segments_[static_cast<size_t>(wire_offset - front_wire_offset_)]->last_offset(),
                 acked);
  front_wire_offset_ += static_cast<int64_t>(before - segments_.size());
  *released = true;
  return true;
}

void Window::ReleaseThrough(uint64_t last, AckedRange *acked) {
  acked->first_offset = acked_count_;
  acked->last_offset = last;
  records_ -= static_cast<size_t>(last + 1 - acked_count_);
  acked_count_ = last + 1;
  const auto now = std::chrono::steady_clock::now();
  while (!segments_.empty() && segments_.front()->last_offset() <= last) {
    const Segment &done = *segments_.front();
    if (sent_count_ > 0) {
      ack_latency_.Record(
          std::chrono::duration_cast<std::chrono::microseconds>(now - done.sent_at()).count());
      --sent_count_;
    } else {
      unsent_bytes_ -= done.size();  // committed on an earlier connection: never sent again
    }
    bytes_ -= done.size();
    segments_.pop_front();
  }
}

uint64_t Window::Rewind() {
  uint64_t replayed = 0;
  for (size_t i = 0; i < sent_count_; ++i) {
    replayed += segments_[i]->record_count();
    unsent_bytes_ += segments_[i]->size();
  }
  // With durable offsets, what the server acknowledged of the front request is not sent again.
  if (durable_offsets_ && sent_count_ > 0) replayed -= acked_count_ - segments_[0]->first_offset();
  sent_count_ = 0;
  front_wire_offset_ = 0;
  // A segment's records part-way out on the old connection are taken again from the start.
  sending_.reset();
  record_pending_ = false;
  return replayed;
}

void Window::StartAt(uint64_t first) {
  next_offset_ = acked_count_ = sent_watermark_ = first;
}

bool Window::Resume(bool has_committed, int64_t committed, AckedRange *acked, bool *released,
                    Status *error) {
  *released = false;
  const int64_t last_acked = static_cast<int64_t>(acked_count_) - 1;
  const int64_t last = has_committed ? committed : -1;
  if (last < last_acked || last >= static_cast<int64_t>(sent_watermark_)) {
    *error = Status(
        StatusCode::kProtocol,
        "the server resumed the stream with offset " + std::to_string(last) + " committed, but " +
            (last < last_acked
                 ? "it had acknowledged offsets up to " + std::to_string(last_acked)
                 : "offsets were sent only up to " + std::to_string(sent_watermark_) + " - 1"),
        false);
    return false;
  }
  if (last == last_acked) return true;
  ReleaseThrough(static_cast<uint64_t>(last), acked);
  *released = true;
  return true;
}

void Window::VisitUnacked(const std::function<void(size_t request, uint64_t offset,
                                                   std::string_view record)> &visit) const {
  for (size_t request = 0; request < segments_.size(); ++request) {
    const Segment &segment = *segments_[request];
    wire::RecordEntryReader reader(
        std::string_view(reinterpret_cast<const char *>(segment.data()), segment.size()));
    uint64_t offset = segment.first_offset();
    std::string_view record;
    while (reader.Next(&record)) {
      // With durable offsets the front request may be acknowledged in part.
      if (offset >= acked_count_) visit(request, offset, record);
      ++offset;
    }
  }
}

}  // namespace zerobus
