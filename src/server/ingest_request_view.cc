#include "server/ingest_request_view.h"

#include <limits>

namespace zerobus::server {
namespace {

// Field tags (number << 3 | wire type) from proto/zerobus_service.proto. Each fits one byte;
// a tag spelt in more bytes is legal protobuf, but no client writes one, so the full parse
// takes it.
constexpr uint8_t kVarint = 0;
constexpr uint8_t kDelimited = 2;
// IngestRecordBatchRequest.offset_id, .proto_encoded_batch, .json_batch, .avro_batch
constexpr uint8_t kOffsetIdTag = (1 << 3) | kVarint;
constexpr uint8_t kProtoEncodedBatchTag = (2 << 3) | kDelimited;
constexpr uint8_t kJsonBatchTag = (3 << 3) | kDelimited;
constexpr uint8_t kAvroBatchTag = (4 << 3) | kDelimited;
// ProtoEncodedRecordBatch.records, JsonRecordBatch.records and AvroRecordBatch.records
constexpr uint8_t kRecordsTag = (1 << 3) | kDelimited;

// Reads protobuf wire format forwards; every read fails rather than pass the end.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes)
      : next_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool AtEnd() const { return next_ == end_; }

  // The next tag, when it is spelt in one byte.
  bool OneByteTag(uint8_t *tag) {
    if (next_ == end_) return false;
    *tag = static_cast<uint8_t>(*next_++);
    return (*tag & 0x80) == 0;
  }

  // A varint of at most `max_bytes` bytes. A tenth byte may only carry the 64th bit: what
  // protobuf makes of more is for the full parse to say.
  bool Varint(int max_bytes, uint64_t *value) {
    uint64_t result = 0;
    for (int i = 0; i < max_bytes && next_ != end_; ++i) {
      const auto byte = static_cast<uint8_t>(*next_++);
      if (i == 9 && byte > 1) return false;
      result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;
  }

  // A length-delimited field's contents; protobuf refuses lengths beyond 2^31 - 1.
  bool Delimited(std::string_view *contents) {
    uint64_t length = 0;
    if (!Varint(5, &length) ||
        length > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) ||
        length > static_cast<uint64_t>(end_ - next_)) {
      return false;
    }
    *contents = std::string_view(next_, static_cast<size_t>(length));
    next_ += length;
    return true;
  }

 private:
  const char *next_;
  const char *end_;
};

}  // namespace

bool ScanIngestBatch(std::string_view request, IngestRequestView *view, int batch_field) {
  WireReader outer(request);
  uint8_t tag = 0;
  std::string_view body;
  if (!outer.OneByteTag(&tag) || tag != static_cast<uint8_t>((batch_field << 3) | kDelimited) ||
      !outer.Delimited(&body) || !outer.AtEnd()) {
    return false;
  }
  WireReader batch(body);
  bool has_offset = false;
  bool has_records = false;
  std::string_view records;
  while (!batch.AtEnd()) {
    if (!batch.OneByteTag(&tag)) return false;
    if (tag == kOffsetIdTag && !has_offset) {
      uint64_t offset = 0;
      if (!batch.Varint(10, &offset)) return false;
      view->offset_id = static_cast<int64_t>(offset);
      has_offset = true;
    } else if ((tag == kProtoEncodedBatchTag || tag == kJsonBatchTag || tag == kAvroBatchTag) &&
               !has_records) {
      if (!batch.Delimited(&records)) return false;
      view->kind = tag == kJsonBatchTag   ? IngestRequestView::Kind::kJson
                   : tag == kAvroBatchTag ? IngestRequestView::Kind::kAvro
                                          : IngestRequestView::Kind::kProto;
      has_records = true;
    } else {
      return false;
    }
  }
  if (!has_offset || !has_records) return false;
  view->batch = true;
  view->records.clear();
  WireReader items(records);
  while (!items.AtEnd()) {
    std::string_view record;
    if (!items.OneByteTag(&tag) || tag != kRecordsTag || !items.Delimited(&record)) return false;
    view->records.push_back(record);
  }
  return true;
}

}  // namespace zerobus::server
