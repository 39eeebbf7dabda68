#include "arrow/ipc_writer.h"

#include <cstring>
#include <utility>

#include "arrow/arrow_ipc_generated.h"
#include "arrow/bits.h"
#include "arrow/take.h"

namespace zerobus::arrow {
namespace {

namespace fbs = flatbuffers;

constexpr uint8_t kZeros[8] = {};
// The body length prefix of a compressed buffer that was left uncompressed.
constexpr int64_t kUncompressedLength = -1;

std::pair<fb::Type, fbs::Offset<void>> BuildType(fbs::FlatBufferBuilder &fbb,
                                                 const DataType &type) {
  switch (type.id) {
    case TypeId::kBoolean:
      return {fb::Type_Bool, fb::CreateBool(fbb).Union()};
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
      return {fb::Type_Int, fb::CreateInt(fbb, 8 * FixedWidth(type.id), true).Union()};
    case TypeId::kFloat32:
      return {fb::Type_FloatingPoint, fb::CreateFloatingPoint(fbb, fb::Precision_SINGLE).Union()};
    case TypeId::kFloat64:
      return {fb::Type_FloatingPoint, fb::CreateFloatingPoint(fbb, fb::Precision_DOUBLE).Union()};
    case TypeId::kUtf8:
      return {fb::Type_Utf8, fb::CreateUtf8(fbb).Union()};
    case TypeId::kLargeUtf8:
      return {fb::Type_LargeUtf8, fb::CreateLargeUtf8(fbb).Union()};
    case TypeId::kBinary:
      return {fb::Type_Binary, fb::CreateBinary(fbb).Union()};
    case TypeId::kLargeBinary:
      return {fb::Type_LargeBinary, fb::CreateLargeBinary(fbb).Union()};
    case TypeId::kDate32:
      return {fb::Type_Date, fb::CreateDate(fbb, fb::DateUnit_DAY).Union()};
    case TypeId::kTimestampMicros: {
      auto timezone = type.timezone.empty() ? 0 : fbb.CreateString(type.timezone);
      return {fb::Type_Timestamp,
              fb::CreateTimestamp(fbb, fb::TimeUnit_MICROSECOND, timezone).Union()};
    }
    case TypeId::kDecimal128:
      return {fb::Type_Decimal, fb::CreateDecimal(fbb, type.precision, type.scale, 128).Union()};
    case TypeId::kList:
      return {fb::Type_List, fb::CreateList(fbb).Union()};
    case TypeId::kStruct:
      return {fb::Type_Struct_, fb::CreateStruct_(fbb).Union()};
    case TypeId::kMap:
      return {fb::Type_Map, fb::CreateMap(fbb, type.keys_sorted).Union()};
  }
  return {fb::Type_NONE, 0};
}

fbs::Offset<fb::Field> BuildField(fbs::FlatBufferBuilder &fbb, const Field &field) {
  std::vector<fbs::Offset<fb::Field>> children;
  for (const Field &child : field.type.children) children.push_back(BuildField(fbb, child));
  auto children_vector = fbb.CreateVector(children);
  auto name = fbb.CreateString(field.name);
  auto [type_type, type] = BuildType(fbb, field.type);
  return fb::CreateField(fbb, name, field.nullable, type_type, type, 0, children_vector);
}

Buffer Finish(fbs::FlatBufferBuilder &fbb, fb::MessageHeader header_type, fbs::Offset<void> header,
              int64_t body_length) {
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion_V5, header_type, header, body_length));
  auto bytes = std::make_shared<fbs::DetachedBuffer>(fbb.Release());
  return Buffer{bytes->data(), bytes->size(), bytes};
}

class BodyWriter {
 public:
  explicit BodyWriter(Codec codec) : codec_(codec) {}

  Status Array(const DataType &type, const ArrayData &array, int64_t first, int64_t length) {
    const uint8_t *validity = array.buffers[0].data;
    const int64_t nulls = CountZeroBits(validity, first, length);
    nodes_.emplace_back(length, nulls);
    Status status = nulls ? Bits(array.buffers[0], first, length) : Add(Buffer{});
    if (!status.ok()) return status;
    if (int width = FixedWidth(type.id)) {
      return Add(Range(array.buffers[1], first * width, length * width));
    }
    if (type.id == TypeId::kBoolean) return Bits(array.buffers[1], first, length);
    if (type.id == TypeId::kStruct) {
      for (size_t i = 0; i < type.children.size(); ++i) {
        const ArrayData &child = array.children[i];
        status = Array(type.children[i].type, child, child.offset + first, length);
        if (!status.ok()) return status;
      }
      return Status::Ok();
    }
    int64_t start, end;
    status = HasOffsets64(type.id)
                 ? Offsets<int64_t>(array.buffers[1], first, length, &start, &end)
                 : Offsets<int32_t>(array.buffers[1], first, length, &start, &end);
    if (!status.ok()) return status;
    if (HasValueData(type.id)) return Add(Range(array.buffers[2], start, end - start));
    const ArrayData &child = array.children[0];  // list, map
    return Array(type.children[0].type, child, child.offset + start, end - start);
  }

  std::vector<fb::FieldNode> nodes_;
  std::vector<fb::Buffer> buffers_;
  std::vector<Buffer> body_;
  int64_t body_length_ = 0;

 private:
  static Buffer Range(const Buffer &buffer, int64_t start, int64_t size) {
    return Buffer{buffer.data + start, static_cast<size_t>(size), buffer.owner};
  }

  // A bitmap's bits [first, first + length): the caller's bytes when they start on a byte.
  Status Bits(const Buffer &bitmap, int64_t first, int64_t length) {
    if (first % 8 == 0) return Add(Range(bitmap, first / 8, BitmapBytes(length)));
    return Add(OwnedBuffer(CopyBits(bitmap.data, first, length)));
  }

  // Offsets [first, first + length], rebased to start at 0 unless they already do; the range of
  // the values they point into in *start, *end.
  template <typename Offset>
  Status Offsets(const Buffer &buffer, int64_t first, int64_t length, int64_t *start,
                 int64_t *end) {
    const Offset *offsets = reinterpret_cast<const Offset *>(buffer.data) + first;
    *start = offsets[0];
    *end = offsets[length];
    if (*start == 0) {
      return Add(Range(buffer, first * sizeof(Offset), (length + 1) * sizeof(Offset)));
    }
    std::vector<uint8_t> rebased((length + 1) * sizeof(Offset));
    for (int64_t i = 0; i <= length; ++i) {
      Offset value = offsets[i] - offsets[0];
      std::memcpy(&rebased[i * sizeof(Offset)], &value, sizeof value);
    }
    return Add(OwnedBuffer(std::move(rebased)));
  }

  Status Add(Buffer buffer) {
    const int64_t offset = body_length_;
    if (codec_ != Codec::kNone && buffer.size > 0) {
      std::vector<uint8_t> compressed;
      Status status = Compress(codec_, buffer.data, buffer.size, &compressed);
      if (!status.ok()) return status;
      int64_t prefix = static_cast<int64_t>(buffer.size);
      if (compressed.size() < buffer.size) {
        compressed.insert(compressed.begin(), sizeof prefix, 0);
        std::memcpy(compressed.data(), &prefix, sizeof prefix);
        buffer = OwnedBuffer(std::move(compressed));
      } else {  // incompressible: sent as it is, behind a length of -1
        prefix = kUncompressedLength;
        std::vector<uint8_t> prefix_bytes(sizeof prefix);
        std::memcpy(prefix_bytes.data(), &prefix, sizeof prefix);
        Append(OwnedBuffer(std::move(prefix_bytes)));
      }
    }
    Append(std::move(buffer));
    const int64_t size = body_length_ - offset;
    if (size % 8) Append(Buffer{kZeros, static_cast<size_t>(8 - size % 8), nullptr});
    buffers_.emplace_back(offset, size);
    return Status::Ok();
  }

  void Append(Buffer buffer) {
    body_length_ += static_cast<int64_t>(buffer.size);
    if (buffer.size > 0) body_.push_back(std::move(buffer));
  }

  Codec codec_;
};

}  // namespace

EncodedMessage EncodeSchema(const Schema &schema) {
  fbs::FlatBufferBuilder fbb;
  std::vector<fbs::Offset<fb::Field>> fields;
  for (const Field &field : schema.fields) fields.push_back(BuildField(fbb, field));
  auto header = fb::CreateSchema(fbb, fb::Endianness_Little, fbb.CreateVector(fields));
  EncodedMessage message;
  message.metadata = Finish(fbb, fb::MessageHeader_Schema, header.Union(), 0);
  return message;
}

Status EncodeRecordBatch(const Schema &schema, const RecordBatch &batch,
                         const WriteOptions &options, EncodedMessage *out) {
  if (batch.columns.size() != schema.fields.size()) {
    return Status::Invalid("a record batch of " + std::to_string(batch.columns.size()) +
                           " columns for a schema of " + std::to_string(schema.fields.size()));
  }
  BodyWriter writer(options.compression);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const ArrayData &column = batch.columns[i];
    Status status = writer.Array(schema.fields[i].type, column, column.offset, batch.length);
    if (!status.ok()) return status;
  }
  fbs::FlatBufferBuilder fbb;
  auto nodes = fbb.CreateVectorOfStructs(writer.nodes_);
  auto buffers = fbb.CreateVectorOfStructs(writer.buffers_);
  fbs::Offset<fb::BodyCompression> compression = 0;
  if (options.compression != Codec::kNone) {
    compression = fb::CreateBodyCompression(fbb, options.compression == Codec::kZstd
                                                     ? fb::CompressionType_ZSTD
                                                     : fb::CompressionType_LZ4_FRAME);
  }
  auto header = fb::CreateRecordBatch(fbb, batch.length, nodes, buffers, compression);
  out->metadata = Finish(fbb, fb::MessageHeader_RecordBatch, header.Union(), writer.body_length_);
  out->body = std::move(writer.body_);
  out->body_length = writer.body_length_;
  return Status::Ok();
}

void AppendEncapsulated(const EncodedMessage &message, std::vector<Buffer> *out) {
  const size_t padding = (8 - message.metadata.size % 8) % 8;
  std::vector<uint8_t> prefix(8);
  const uint32_t continuation = 0xFFFFFFFFu;
  const int32_t length = static_cast<int32_t>(message.metadata.size + padding);
  std::memcpy(prefix.data(), &continuation, 4);
  std::memcpy(prefix.data() + 4, &length, 4);
  out->push_back(OwnedBuffer(std::move(prefix)));
  out->push_back(message.metadata);
  if (padding) out->push_back(Buffer{kZeros, padding, nullptr});
  out->insert(out->end(), message.body.begin(), message.body.end());
}

Buffer EndOfStream() {
  static constexpr uint8_t kEndOfStream[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  return Buffer{kEndOfStream, sizeof kEndOfStream, nullptr};
}

std::string Concatenate(const std::vector<Buffer> &slices) {
  std::string bytes;
  for (const Buffer &slice : slices) {
    bytes.append(reinterpret_cast<const char *>(slice.data), slice.size);
  }
  return bytes;
}

}  // namespace zerobus::arrow
