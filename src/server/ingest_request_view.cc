#include "server/ingest_request_view.h"

#include <limits>

#include "server/piece_reader.h"

namespace zerobus::server {
namespace {

// Field tags (number << 3 | wire type) from proto/zerobus_service.proto. Each fits one byte;
// a tag spelt in more bytes is legal protobuf, but no client writes one, so the full parse
// takes it.
constexpr uint64_t kVarint = 0;
constexpr uint64_t kDelimited = 2;
// IngestRecordBatchRequest.offset_id, .proto_encoded_batch, .json_batch, .avro_batch; and
// IngestRecordRequest's .offset_id, .proto_encoded_record, .json_record, .avro_encoded_record,
// which have the same numbers.
constexpr uint64_t kOffsetIdTag = (1 << 3) | kVarint;
constexpr uint64_t kProtoTag = (2 << 3) | kDelimited;
constexpr uint64_t kJsonTag = (3 << 3) | kDelimited;
constexpr uint64_t kAvroTag = (4 << 3) | kDelimited;
// ProtoEncodedRecordBatch.records, JsonRecordBatch.records and AvroRecordBatch.records
constexpr uint64_t kRecordsTag = (1 << 3) | kDelimited;

// The next tag, when it is spelt in one byte (a varint of at most one byte) and lies before
// `end`.
bool OneByteTag(PieceReader *reader, size_t end, uint64_t *tag) {
  return reader->position() < end && reader->Varint(1, tag) == nullptr;
}

// The length of a length-delimited field whose contents lie before `end`; protobuf refuses
// lengths beyond 2^31 - 1.
bool Length(PieceReader *reader, size_t end, size_t *length) {
  uint64_t value = 0;
  if (reader->Varint(5, &value) != nullptr || reader->position() > end ||
      value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) ||
      value > end - reader->position()) {
    return false;
  }
  *length = static_cast<size_t>(value);
  return true;
}

// The next `size` bytes (at most remaining()) as a record of `view`, viewed where they lie.
void TakeRecord(PieceReader *reader, size_t size, IngestRequestView *view) {
  const size_t first_part = view->parts.size();
  reader->Views(size, &view->parts);
  view->records.push_back(
      IngestRequestView::Record{size, first_part, view->parts.size() - first_part});
}

// The records of a batch's records message, which ends at `end` (at most the request's end).
bool TakeBatchRecords(PieceReader *reader, size_t end, IngestRequestView *view) {
  while (reader->position() < end) {
    uint64_t tag = 0;
    size_t size = 0;
    if (!OneByteTag(reader, end, &tag) || tag != kRecordsTag || !Length(reader, end, &size)) {
      return false;
    }
    TakeRecord(reader, size, view);
  }
  return true;
}

}  // namespace

void IngestRequestView::ClearRecords() {
  records.clear();
  parts.clear();
}

void IngestRequestView::AddRecord(std::string_view bytes) {
  records.push_back(Record{bytes.size(), parts.size(), bytes.empty() ? 0u : 1u});
  if (!bytes.empty()) parts.push_back(bytes);
}

std::string_view IngestRequestView::Contiguous(size_t index) {
  const Record &record = records[index];
  if (record.part_count == 0) return {};
  if (record.part_count == 1) return parts[record.first_part];
  scratch.clear();
  for (size_t i = 0; i < record.part_count; ++i) scratch.append(parts[record.first_part + i]);
  return scratch;
}

std::string IngestRequestView::Copy(size_t index) const {
  const Record &record = records[index];
  std::string copy;
  copy.reserve(record.size);
  for (size_t i = 0; i < record.part_count; ++i) copy.append(parts[record.first_part + i]);
  return copy;
}

bool ScanIngestRequest(const std::vector<std::string_view> &pieces, IngestRequestView *view,
                       IngestFields fields) {
  PieceReader reader(pieces);
  const size_t end = reader.remaining();
  uint64_t tag = 0;
  size_t length = 0;
  // The batch (or record) is the whole of the request.
  if (!OneByteTag(&reader, end, &tag)) return false;
  const auto field_tag = [](int field) { return (static_cast<uint64_t>(field) << 3) | kDelimited; };
  if (tag == field_tag(fields.batch)) {
    view->batch = true;
  } else if (tag == field_tag(fields.record)) {
    view->batch = false;
  } else {
    return false;
  }
  if (!Length(&reader, end, &length) || length != reader.remaining()) return false;
  view->ClearRecords();
  bool has_offset = false;
  bool has_records = false;
  while (reader.remaining() > 0) {
    if (!OneByteTag(&reader, end, &tag)) return false;
    if (tag == kOffsetIdTag && !has_offset) {
      uint64_t offset = 0;
      if (reader.Varint(10, &offset) != nullptr) return false;
      view->offset_id = static_cast<int64_t>(offset);
      has_offset = true;
    } else if ((tag == kProtoTag || tag == kJsonTag || tag == kAvroTag) && !has_records) {
      if (!Length(&reader, end, &length)) return false;
      view->kind = tag == kJsonTag   ? IngestRequestView::Kind::kJson
                   : tag == kAvroTag ? IngestRequestView::Kind::kAvro
                                     : IngestRequestView::Kind::kProto;
      has_records = true;
      if (!view->batch) {
        TakeRecord(&reader, length, view);
      } else if (!TakeBatchRecords(&reader, reader.position() + length, view)) {
        return false;
      }
    } else {
      return false;
    }
  }
  return has_offset && has_records;
}

}  // namespace zerobus::server
