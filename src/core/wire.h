// The bytes of the Zerobus protocol (proto/zerobus_service.proto), built and read by hand.
//
// Requests are built straight into byte buffers so that a record costs one copy and no
// protobuf object; responses are small and few. The library deliberately links no generated
// code: a process that also hosts the local server would otherwise register the same .proto
// twice.
#ifndef ZEROBUS_CORE_WIRE_H
#define ZEROBUS_CORE_WIRE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/record_format.h"
#include "core/status.h"

namespace zerobus::wire {

// The two streaming RPCs a stream may use. They carry the same messages under other field
// numbers: EphemeralStream's offsets count requests from 0 on each call; PersistentStream's
// are durable, the same on every call of one stream id (official-3x.md §1).
enum class StreamRpc { kEphemeral, kPersistent };

// Bytes that the request framing around a batch body can take at most: the
// EphemeralStreamRequest and IngestRecordBatchRequest tags and lengths and the offset_id.
inline constexpr size_t kMaxBatchHeaderBytes = 32;

// The largest varint encoding of a 64-bit value.
inline constexpr size_t kMaxVarintBytes = 10;

// The bytes one record takes inside a batch body: its tag, its length and the record.
size_t RecordEntrySize(size_t record_len);

// Writes one record's entry (ProtoEncodedRecordBatch.records or JsonRecordBatch.records, which
// are framed alike) at `out`, which must hold RecordEntrySize(len) bytes. Returns the end.
uint8_t *WriteRecordEntry(uint8_t *out, const void *record, size_t len);

// Writes the framing of an entry for a record of `len` bytes at `out` (which must hold
// RecordEntrySize(len) bytes) and returns where the record's bytes go, for a caller that copies
// them its own way.
uint8_t *WriteRecordEntryHeader(uint8_t *out, size_t len);

// Reads the record entries of a batch body in order. Returns false on a malformed body.
class RecordEntryReader {
 public:
  explicit RecordEntryReader(std::string_view body) : rest_(body) {}
  // Sets `record` to the next record; false at the end or on malformed input (see failed()).
  bool Next(std::string_view *record);
  bool failed() const { return failed_; }

 private:
  std::string_view rest_;
  bool failed_ = false;
};

// The framing that turns a batch body into a whole EphemeralStreamRequest carrying an
// ingest_record_batch: written in front of the body. Returns the number of header bytes
// written to `out` (at most kMaxBatchHeaderBytes).
size_t WriteBatchHeader(uint8_t *out, int64_t offset_id, RecordFormat format, size_t body_len);

// The framing that turns one record of `record_len` bytes into a whole PersistentStreamRequest
// carrying an ingest_record at `offset_id`: written in front of the record's bytes. Returns the
// number of header bytes written to `out` (at most kMaxBatchHeaderBytes).
size_t WriteRecordHeader(uint8_t *out, int64_t offset_id, RecordFormat format, size_t record_len);

// The first request of a call: create_stream for `table_name`, with `schema`: the serialized
// DescriptorProto of a protobuf stream, the writer schema of an Avro one (nothing for JSON).
std::string EncodeCreateStream(std::string_view table_name, RecordFormat format,
                               std::string_view schema);

// The first request of a PersistentStream call that creates a stream: create_stream as
// EncodeCreateStream() has it, wrapped in a CreatePersistentStreamRequest.
std::string EncodeCreatePersistentStream(std::string_view table_name, RecordFormat format,
                                         std::string_view schema);

// The first request of a PersistentStream call that resumes stream `stream_id`: its record
// type and, for protobuf, the descriptor, which the server checks against the creating one.
std::string EncodeResumeStream(std::string_view stream_id, RecordFormat format,
                               std::string_view schema);

// A RetireStreamRequest for stream `stream_id` of `table_name`.
std::string EncodeRetireStream(std::string_view table_name, std::string_view stream_id);

// The largest response the library takes (the channel's receive limit): a call that brings a
// bigger one fails. Responses are acks, create_stream responses and close signals of a few
// dozen bytes; a mebibyte leaves room for anything a later version of the service may add to
// them. gRPC checks it only once it holds a response whole: what bounds the memory a response
// streamed in for ever takes is kResponseMemoryBytes (connection.h).
inline constexpr size_t kMaxResponseBytes = size_t{1} << 20;

// The longest close_after_ms that DecodeResponse() reports: a close signal announcing more is
// taken to announce this, and one with a negative duration to announce 0 (close now). A day is
// far beyond the minutes of any stream rotation the service announces, fits in an int32_t of
// milliseconds, and can be added to any std::chrono::steady_clock time point (or turned into
// its nanoseconds) without overflow, so the stream can use the value as it comes.
inline constexpr int64_t kMaxCloseAfterMs = int64_t{24} * 60 * 60 * 1000;

// One EphemeralStreamResponse or PersistentStreamResponse, decoded.
struct Response {
  enum class Kind { kNone, kCreated, kResumed, kAck, kCloseSignal };
  Kind kind = Kind::kNone;
  std::string stream_id;  // kCreated; empty when the server sent none
  // kResumed: the last offset the server committed, absent when it committed none.
  bool has_committed_offset = false;
  int64_t committed_offset = 0;
  bool has_ack_offset = false;  // kAck
  int64_t ack_offset = 0;       // kAck
  // kCloseSignal: when the server will close the call, in [0, kMaxCloseAfterMs].
  int64_t close_after_ms = 0;
};

// Decodes `bytes`, a response of `rpc`, into `out`. Returns an error (ZB_ERR_PROTOCOL) when
// they do not parse.
Status DecodeResponse(std::string_view bytes, Response *out, StreamRpc rpc = StreamRpc::kEphemeral);

}  // namespace zerobus::wire

#endif  // ZEROBUS_CORE_WIRE_H
