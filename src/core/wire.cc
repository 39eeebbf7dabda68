#include "core/wire.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace zerobus::wire {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

constexpr uint32_t Tag(uint32_t field, uint32_t wire_type) {
  return (field << 3) | wire_type;
}

// Field numbers of proto/zerobus_service.proto.
constexpr uint32_t kRequestCreateStream = 1;
constexpr uint32_t kRequestIngestBatch = 3;
constexpr uint32_t kPersistentCreateStream = 1;
constexpr uint32_t kPersistentResumeStream = 2;
constexpr uint32_t kPersistentIngestRecord = 3;
constexpr uint32_t kCreatePersistentCreate = 1;
constexpr uint32_t kResumeStreamId = 1;
constexpr uint32_t kResumeDescriptor = 2;
constexpr uint32_t kResumeRecordType = 3;
constexpr uint32_t kResumedCommittedOffset = 1;
constexpr uint32_t kRecordOffsetId = 1;
constexpr uint32_t kRecordProto = 2;
constexpr uint32_t kRecordJson = 3;
constexpr uint32_t kRecordAvro = 4;
constexpr uint32_t kRetireTableName = 1;
constexpr uint32_t kRetireStreamId = 2;
constexpr uint32_t kCreateTableName = 1;
constexpr uint32_t kCreateDescriptor = 3;
constexpr uint32_t kCreateRecordType = 4;
constexpr uint32_t kCreateAvroSchema = 5;
constexpr uint32_t kBatchOffsetId = 1;
constexpr uint32_t kBatchProto = 2;
constexpr uint32_t kBatchJson = 3;
constexpr uint32_t kBatchAvro = 4;
constexpr uint32_t kBatchRecords = 1;
// The response fields of each RPC: PersistentStreamResponse puts resume_stream_response at 2
// and moves the others up by one.
struct ResponseFields {
  uint32_t created, resumed, ack, close_signal;
};
constexpr ResponseFields kEphemeralResponse{1, 0, 2, 3};
constexpr ResponseFields kPersistentResponse{1, 2, 3, 4};
constexpr uint32_t kCreatedStreamId = 1;
constexpr uint32_t kAckUpToOffset = 1;
constexpr uint32_t kCloseDuration = 1;
constexpr uint32_t kDurationSeconds = 1;
constexpr uint32_t kDurationNanos = 2;

constexpr uint8_t kRecordEntryTag = Tag(kBatchRecords, kLengthDelimited);

uint8_t *WriteVarint(uint8_t *out, uint64_t value) {
  return CodedOutputStream::WriteVarint64ToArray(value, out);
}

void AppendVarint(std::string *out, uint64_t value) {
  uint8_t buf[kMaxVarintBytes];
  out->append(reinterpret_cast<char *>(buf), WriteVarint(buf, value) - buf);
}

void AppendBytesField(std::string *out, uint32_t field, std::string_view bytes) {
  AppendVarint(out, Tag(field, kLengthDelimited));
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

// Reads a length-delimited field's length; false when it is past what an int (protobuf's
// limits and skips) can hold, which no response of ours comes near.
bool ReadLength(CodedInputStream *in, uint32_t *len) {
  return in->ReadVarint32(len) && *len <= static_cast<uint32_t>(INT_MAX);
}

// A google.protobuf.Duration in milliseconds, clamped to [0, kMaxCloseAfterMs] before any
// arithmetic: the server's seconds may be anything an int64 holds, and its nanos anything too.
int64_t ClampedMilliseconds(int64_t seconds, int64_t nanos) {
  constexpr int64_t kNanosPerMs = 1000000;
  constexpr int64_t kMaxNanos = 999999999;  // |nanos| of a valid Duration
  if (seconds < 0) return 0;
  if (seconds > kMaxCloseAfterMs / 1000) return kMaxCloseAfterMs;
  const int64_t ms = seconds * 1000 + std::clamp(nanos, -kMaxNanos, kMaxNanos) / kNanosPerMs;
  return std::clamp<int64_t>(ms, 0, kMaxCloseAfterMs);
}

bool SkipField(CodedInputStream *in, uint32_t tag) {
  switch (tag & 7) {
    case kVarint: {
      uint64_t ignored;
      return in->ReadVarint64(&ignored);
    }
    case kFixed64: {
      uint64_t ignored;
      return in->ReadLittleEndian64(&ignored);
    }
    case kLengthDelimited: {
      uint32_t len;
      return ReadLength(in, &len) && in->Skip(static_cast<int>(len));
    }
    case kFixed32: {
      uint32_t ignored;
      return in->ReadLittleEndian32(&ignored);
    }
    default:  // groups were never part of this protocol
      return false;
  }
}

// Calls `on_field(tag)` for each field of the length-delimited message at the stream's
// position; `on_field` consumes the field's value or returns false to have it skipped.
template <typename OnField>
bool ReadMessage(CodedInputStream *in, OnField on_field) {
  uint32_t len;
  if (!ReadLength(in, &len)) return false;
  CodedInputStream::Limit limit = in->PushLimit(static_cast<int>(len));
  while (uint32_t tag = in->ReadTag()) {
    bool consumed = false;
    if (!on_field(tag, &consumed)) return false;
    if (!consumed && !SkipField(in, tag)) return false;
  }
  bool complete = in->ConsumedEntireMessage();
  in->PopLimit(limit);
  return complete;
}

// CreateIngestStreamRequest for `table_name`, `format` and `schema`.
std::string CreateMessage(std::string_view table_name, RecordFormat format,
                          std::string_view schema) {
  std::string create;
  AppendBytesField(&create, kCreateTableName, table_name);
  if (format == RecordFormat::kProto) AppendBytesField(&create, kCreateDescriptor, schema);
  AppendVarint(&create, Tag(kCreateRecordType, kVarint));
  // RecordFormat keeps the wire's RecordType numbers.
  AppendVarint(&create, static_cast<uint64_t>(format));
  if (format == RecordFormat::kAvro) AppendBytesField(&create, kCreateAvroSchema, schema);
  return create;
}

}  // namespace

size_t RecordEntrySize(size_t record_len) {
  return 1 + CodedOutputStream::VarintSize64(record_len) + record_len;
}

uint8_t *WriteRecordEntryHeader(uint8_t *out, size_t len) {
  *out++ = kRecordEntryTag;
  return WriteVarint(out, len);
}

uint8_t *WriteRecordEntry(uint8_t *out, const void *record, size_t len) {
  out = WriteRecordEntryHeader(out, len);
  std::memcpy(out, record, len);
  return out + len;
}

bool RecordEntryReader::Next(std::string_view *record) {
  if (rest_.empty() || failed_) return false;
  CodedInputStream in(reinterpret_cast<const uint8_t *>(rest_.data()),
                      static_cast<int>(rest_.size()));
  uint32_t len;
  if (in.ReadTag() != kRecordEntryTag || !in.ReadVarint32(&len) ||
      static_cast<size_t>(in.CurrentPosition()) + len > rest_.size()) {
    failed_ = true;
    return false;
  }
  *record = rest_.substr(in.CurrentPosition(), len);
  rest_.remove_prefix(in.CurrentPosition() + len);
  return true;
}

size_t WriteBatchHeader(uint8_t *out, int64_t offset_id, RecordFormat format, size_t body_len) {
  const uint64_t offset = static_cast<uint64_t>(offset_id);
  const size_t batch_len = 1 + CodedOutputStream::VarintSize64(offset) + 1 +
                           CodedOutputStream::VarintSize64(body_len) + body_len;
  uint8_t *p = out;
  *p++ = Tag(kRequestIngestBatch, kLengthDelimited);
  p = WriteVarint(p, batch_len);
  *p++ = Tag(kBatchOffsetId, kVarint);
  p = WriteVarint(p, offset);
  const uint32_t batch = format == RecordFormat::kJson   ? kBatchJson
                         : format == RecordFormat::kAvro ? kBatchAvro
                                                         : kBatchProto;
  *p++ = Tag(batch, kLengthDelimited);
  p = WriteVarint(p, body_len);
  return static_cast<size_t>(p - out);
}

size_t WriteRecordHeader(uint8_t *out, int64_t offset_id, RecordFormat format, size_t record_len) {
  const uint64_t offset = static_cast<uint64_t>(offset_id);
  const size_t record_request_len = 1 + CodedOutputStream::VarintSize64(offset) + 1 +
                                    CodedOutputStream::VarintSize64(record_len) + record_len;
  uint8_t *p = out;
  *p++ = Tag(kPersistentIngestRecord, kLengthDelimited);
  p = WriteVarint(p, record_request_len);
  *p++ = Tag(kRecordOffsetId, kVarint);
  p = WriteVarint(p, offset);
  const uint32_t field = format == RecordFormat::kJson   ? kRecordJson
                         : format == RecordFormat::kAvro ? kRecordAvro
                                                         : kRecordProto;
  *p++ = Tag(field, kLengthDelimited);
  p = WriteVarint(p, record_len);
  return static_cast<size_t>(p - out);
}

std::string EncodeCreateStream(std::string_view table_name, RecordFormat format,
                               std::string_view schema) {
  std::string request;
  AppendBytesField(&request, kRequestCreateStream, CreateMessage(table_name, format, schema));
  return request;
}

std::string EncodeCreatePersistentStream(std::string_view table_name, RecordFormat format,
                                         std::string_view schema) {
  std::string persistent;
  AppendBytesField(&persistent, kCreatePersistentCreate, CreateMessage(table_name, format, schema));
  std::string request;
  AppendBytesField(&request, kPersistentCreateStream, persistent);
  return request;
}

std::string EncodeResumeStream(std::string_view stream_id, RecordFormat format,
                               std::string_view schema) {
  std::string resume;
  AppendBytesField(&resume, kResumeStreamId, stream_id);
  if (format == RecordFormat::kProto) AppendBytesField(&resume, kResumeDescriptor, schema);
  AppendVarint(&resume, Tag(kResumeRecordType, kVarint));
  AppendVarint(&resume, static_cast<uint64_t>(format));
  std::string request;
  AppendBytesField(&request, kPersistentResumeStream, resume);
  return request;
}

std::string EncodeRetireStream(std::string_view table_name, std::string_view stream_id) {
  std::string request;
  AppendBytesField(&request, kRetireTableName, table_name);
  AppendBytesField(&request, kRetireStreamId, stream_id);
  return request;
}

Status DecodeResponse(std::string_view bytes, Response *out, StreamRpc rpc) {
  *out = Response();
  const ResponseFields &fields =
      rpc == StreamRpc::kPersistent ? kPersistentResponse : kEphemeralResponse;
  CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()),
                      static_cast<int>(bytes.size()));
  bool ok = true;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == Tag(fields.created, kLengthDelimited)) {
      out->kind = Response::Kind::kCreated;
      out->stream_id.clear();
      ok = ReadMessage(&in, [&](uint32_t field_tag, bool *consumed) {
        if (field_tag != Tag(kCreatedStreamId, kLengthDelimited)) return true;
        *consumed = true;
        uint32_t len;
        return ReadLength(&in, &len) && in.ReadString(&out->stream_id, static_cast<int>(len));
      });
    } else if (fields.resumed != 0 && tag == Tag(fields.resumed, kLengthDelimited)) {
      out->kind = Response::Kind::kResumed;
      out->has_committed_offset = false;
      ok = ReadMessage(&in, [&](uint32_t field_tag, bool *consumed) {
        if (field_tag != Tag(kResumedCommittedOffset, kVarint)) return true;
        *consumed = true;
        uint64_t value;
        if (!in.ReadVarint64(&value)) return false;
        out->has_committed_offset = true;
        out->committed_offset = static_cast<int64_t>(value);
        return true;
      });
    } else if (tag == Tag(fields.ack, kLengthDelimited)) {
      out->kind = Response::Kind::kAck;
      out->has_ack_offset = false;
      ok = ReadMessage(&in, [&](uint32_t field_tag, bool *consumed) {
        if (field_tag != Tag(kAckUpToOffset, kVarint)) return true;
        *consumed = true;
        uint64_t value;
        if (!in.ReadVarint64(&value)) return false;
        out->has_ack_offset = true;
        out->ack_offset = static_cast<int64_t>(value);
        return true;
      });
    } else if (tag == Tag(fields.close_signal, kLengthDelimited)) {
      out->kind = Response::Kind::kCloseSignal;
      int64_t seconds = 0, nanos = 0;
      ok = ReadMessage(&in, [&](uint32_t field_tag, bool *consumed) {
        if (field_tag != Tag(kCloseDuration, kLengthDelimited)) return true;
        *consumed = true;
        return ReadMessage(&in, [&](uint32_t duration_tag, bool *duration_consumed) {
          int64_t *target = duration_tag == Tag(kDurationSeconds, kVarint) ? &seconds
                            : duration_tag == Tag(kDurationNanos, kVarint) ? &nanos
                                                                           : nullptr;
          if (!target) return true;
          *duration_consumed = true;
          uint64_t value;
          if (!in.ReadVarint64(&value)) return false;
          *target = static_cast<int64_t>(value);
          return true;
        });
      });
      out->close_after_ms = ClampedMilliseconds(seconds, nanos);
    } else {
      ok = SkipField(&in, tag);
    }
    if (!ok) break;
  }
  if (!ok || !in.ConsumedEntireMessage()) {
    return Status(StatusCode::kProtocol, "the server sent a response that does not parse", true);
  }
  return Status::Ok();
}

}  // namespace zerobus::wire
