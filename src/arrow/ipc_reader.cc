#include "arrow/ipc_reader.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "arrow/arrow_ipc_generated.h"
#include "arrow/bits.h"
#include "arrow/compression.h"
#include "arrow/take.h"

namespace zerobus::arrow {
namespace {

namespace fbs = flatbuffers;

// What an IPC file starts and ends with.
constexpr char kFileMagic[] = "ARROW1";
// The most tables one message may hold (flatbuffers' Verifier counts them).
constexpr fbs::uoffset_t kMaxTables = 1000000;

// The metadata at an address flatbuffers can read scalars from (8-byte aligned), copied if the
// caller's is not, and verified.
class VerifiedMessage {
 public:
  Status Verify(const uint8_t *metadata, size_t size) {
    if (reinterpret_cast<uintptr_t>(metadata) % 8 != 0) {
      aligned_.resize((size + 7) / 8);
      std::memcpy(aligned_.data(), metadata, size);
      metadata = reinterpret_cast<const uint8_t *>(aligned_.data());
    }
    // Depth: a flatbuffer nests tables two deep per Arrow field (Field, its children vector).
    fbs::Verifier verifier(metadata, size, 2 * kMaxNestingDepth + 16, kMaxTables);
    if (size < sizeof(fbs::uoffset_t) || !fb::VerifyMessageBuffer(verifier)) {
      return Status::Invalid("IPC message metadata: not a valid Message flatbuffer (" +
                             std::to_string(size) + " bytes)");
    }
    message_ = fb::GetMessage(metadata);
    if (message_->version() < fb::MetadataVersion_V4) {
      return Status::Invalid("IPC message: metadata version V" +
                             std::to_string(message_->version() + 1) + " (V4 or V5 needed)");
    }
    return Status::Ok();
  }
  const fb::Message &message() const { return *message_; }

 private:
  std::vector<uint64_t> aligned_;
  const fb::Message *message_ = nullptr;
};

// How a field of an IPC stream arrives: as indices into dictionary `dictionary_id` (when it is not
// -1) or as values, and the same for its type's children.
struct FieldEncoding {
  int64_t dictionary_id = -1;
  int index_width = 0;
  bool index_signed = true;
  std::vector<FieldEncoding> children;
};

const FieldEncoding &ChildEncoding(const FieldEncoding &encoding, size_t i) {
  static const FieldEncoding kValues;
  return i < encoding.children.size() ? encoding.children[i] : kValues;
}

// A stream's dictionaries: the field each id decodes as (from the schema) and the values its
// latest dictionary batch delivered.
struct Dictionaries {
  std::map<int64_t, arrow::Field> fields;
  std::map<int64_t, ArrayData> values;
};

class SchemaDecoder {
 public:
  // With `dictionaries` null, dictionary-encoded fields are refused (Flight carries none).
  SchemaDecoder(const ReadLimits &limits, Dictionaries *dictionaries)
      : limits_(limits), dictionaries_(dictionaries) {}

  Status Field(const fb::Field *field, const std::string &parent, int depth, arrow::Field *out,
               FieldEncoding *encoding) {
    if (field == nullptr) return Status::Invalid("a null field in the schema");
    if (++fields_ > limits_.max_fields) {
      return Status::Invalid("the schema has more than " + std::to_string(limits_.max_fields) +
                             " fields");
    }
    out->name = field->name() ? field->name()->str() : "";
    out->nullable = field->nullable();
    const std::string path = ChildPath(parent, out->name);
    if (depth > kMaxNestingDepth) {
      return Status::Invalid(ColumnLabel(path) + ": nested deeper than " +
                             std::to_string(kMaxNestingDepth) + " levels");
    }
    if (field->dictionary() != nullptr) {
      if (dictionaries_ == nullptr) {
        return Status::Invalid(ColumnLabel(path) +
                               ": dictionary-encoded fields are not supported here (send the "
                               "values)");
      }
      Status status = Dictionary(*field->dictionary(), path, encoding);
      if (!status.ok()) return status;
    }
    Status status = Type(*field, path, &out->type);
    if (!status.ok()) return status;
    const auto *children = field->children();
    const size_t count = children ? children->size() : 0;
    const bool nested = out->type.id == TypeId::kList || out->type.id == TypeId::kStruct ||
                        out->type.id == TypeId::kMap;
    if ((out->type.id == TypeId::kList || out->type.id == TypeId::kMap) ? count != 1
        : !nested                                                       ? count != 0
                                                                        : false) {
      return Status::Invalid(ColumnLabel(path) + ": a " + FieldTypeName(*field) + " with " +
                             std::to_string(count) + " children");
    }
    encoding->children.resize(count);
    for (size_t i = 0; i < count; ++i) {
      out->type.children.emplace_back();
      status = Field(children->Get(static_cast<fbs::uoffset_t>(i)), path, depth + 1,
                     &out->type.children.back(), &encoding->children[i]);
      if (!status.ok()) return status;
    }
    if (encoding->dictionary_id >= 0) {
      if (nested) {
        return Status::Invalid(ColumnLabel(path) + ": a dictionary of " + TypeToString(out->type) +
                               " values (only dictionaries of values "
                               "that are not nested are supported)");
      }
      if (!dictionaries_->fields.emplace(encoding->dictionary_id, *out).second) {
        return Status::Invalid(ColumnLabel(path) + ": dictionary id " +
                               std::to_string(encoding->dictionary_id) + " is used twice");
      }
    }
    if (out->type.id == TypeId::kMap) {
      const DataType &entries = out->type.children[0].type;
      if (entries.id != TypeId::kStruct || entries.children.size() != 2) {
        return Status::Invalid(ColumnLabel(path) +
                               ": a map whose entries are not a struct of key and "
                               "value");
      }
    }
    return Status::Ok();
  }

 private:
  Status Dictionary(const fb::DictionaryEncoding &dictionary, const std::string &path,
                    FieldEncoding *encoding) {
    encoding->dictionary_id = dictionary.id();
    encoding->index_width = 4;  // int32 when the schema names no index type
    encoding->index_signed = true;
    if (const fb::Int *index = dictionary.index_type()) {
      const int bits = index->bit_width();
      if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
        return Status::Invalid(ColumnLabel(path) + ": dictionary indices of " +
                               std::to_string(bits) + " bits");
      }
      encoding->index_width = bits / 8;
      encoding->index_signed = index->is_signed();
    }
    if (encoding->dictionary_id < 0) {
      return Status::Invalid(ColumnLabel(path) + ": dictionary id " +
                             std::to_string(encoding->dictionary_id));
    }
    return Status::Ok();
  }

  static std::string FieldTypeName(const fb::Field &field) {
    const char *name = fb::EnumNameType(field.type_type());
    return name && *name ? name : "type " + std::to_string(field.type_type());
  }

  static Status Unsupported(const std::string &path, const std::string &type) {
    return Status::Invalid(ColumnLabel(path) + ": Arrow type " + type + " is not supported");
  }

  Status Type(const fb::Field &field, const std::string &path, DataType *type) {
    switch (field.type_type()) {
      case fb::Type_Bool:
        type->id = TypeId::kBoolean;
        return Status::Ok();
      case fb::Type_Int: {
        const fb::Int *integer = field.type_as_Int();
        const int bits = integer ? integer->bit_width() : 0;
        const bool is_signed = integer && integer->is_signed();
        const TypeId ids[] = {TypeId::kInt8, TypeId::kInt16, TypeId::kInt32, TypeId::kInt64};
        for (int i = 0; i < 4; ++i) {
          if (bits == 8 << i && is_signed) {
            type->id = ids[i];
            return Status::Ok();
          }
        }
        return Unsupported(path, std::string(is_signed ? "int" : "uint") + std::to_string(bits));
      }
      case fb::Type_FloatingPoint: {
        const fb::FloatingPoint *real = field.type_as_FloatingPoint();
        if (real && real->precision() == fb::Precision_SINGLE) {
          type->id = TypeId::kFloat32;
        } else if (real && real->precision() == fb::Precision_DOUBLE) {
          type->id = TypeId::kFloat64;
        } else {
          return Unsupported(path, "float16");
        }
        return Status::Ok();
      }
      case fb::Type_Utf8:
        type->id = TypeId::kUtf8;
        return Status::Ok();
      case fb::Type_LargeUtf8:
        type->id = TypeId::kLargeUtf8;
        return Status::Ok();
      case fb::Type_Binary:
        type->id = TypeId::kBinary;
        return Status::Ok();
      case fb::Type_LargeBinary:
        type->id = TypeId::kLargeBinary;
        return Status::Ok();
      case fb::Type_Date:
        if (field.type_as_Date() == nullptr || field.type_as_Date()->unit() != fb::DateUnit_DAY) {
          return Unsupported(path, "date64");
        }
        type->id = TypeId::kDate32;
        return Status::Ok();
      case fb::Type_Timestamp: {
        const fb::Timestamp *timestamp = field.type_as_Timestamp();
        if (timestamp == nullptr || timestamp->unit() != fb::TimeUnit_MICROSECOND) {
          const char *unit = timestamp ? fb::EnumNameTimeUnit(timestamp->unit()) : "";
          return Unsupported(path, std::string("timestamp with unit ") + (unit ? unit : "?") +
                                       " (microseconds needed)");
        }
        type->id = TypeId::kTimestampMicros;
        type->timezone = timestamp->timezone() ? timestamp->timezone()->str() : "";
        return Status::Ok();
      }
      case fb::Type_Decimal: {
        const fb::Decimal *decimal = field.type_as_Decimal();
        if (decimal == nullptr || decimal->bit_width() != 128) {
          return Unsupported(path, "decimal" + std::to_string(decimal ? decimal->bit_width() : 0));
        }
        if (decimal->precision() < 1 || decimal->precision() > 38 || decimal->scale() < 0 ||
            decimal->scale() > decimal->precision()) {
          return Unsupported(path, "decimal128(" + std::to_string(decimal->precision()) + ", " +
                                       std::to_string(decimal->scale()) + ")");
        }
        type->id = TypeId::kDecimal128;
        type->precision = decimal->precision();
        type->scale = decimal->scale();
        return Status::Ok();
      }
      case fb::Type_List:
        type->id = TypeId::kList;
        return Status::Ok();
      case fb::Type_Struct_:
        type->id = TypeId::kStruct;
        return Status::Ok();
      case fb::Type_Map:
        type->id = TypeId::kMap;
        type->keys_sorted = field.type_as_Map() && field.type_as_Map()->keys_sorted();
        return Status::Ok();
      default:
        return Unsupported(path, FieldTypeName(field));
    }
  }

  const ReadLimits &limits_;
  Dictionaries *dictionaries_;
  size_t fields_ = 0;
};

// Element `i` of a vector of structs, copied out: the Verifier checks a vector's length field's
// alignment but not that 8-byte structs after it are 8-byte aligned.
template <typename T>
T StructAt(const fbs::Vector<const T *> &vector, fbs::uoffset_t i) {
  T element;
  std::memcpy(static_cast<void *>(&element), vector.Data() + i * sizeof(T), sizeof(T));
  return element;
}

// A message's body, in one piece or in several (a gRPC message's slices), in order.
class Body {
 public:
  Body(const Buffer *pieces, size_t count) : pieces_(pieces), count_(count) {
    for (size_t i = 0; i < count; ++i) size_ += pieces[i].size;
  }

  size_t size() const { return size_; }

  // Bytes [offset, offset + length), within size(): a view of their piece when they lie in one,
  // else a copy of their parts.
  Buffer Range(size_t offset, size_t length) {
    if (count_ == 0) return Buffer{};
    // Buffers are mostly asked for in order: the search goes on from the last one's piece.
    if (offset < piece_start_) {
      piece_ = 0;
      piece_start_ = 0;
    }
    while (piece_ + 1 < count_ && offset >= piece_start_ + pieces_[piece_].size) {
      piece_start_ += pieces_[piece_].size;
      ++piece_;
    }
    const Buffer &piece = pieces_[piece_];
    const size_t within = offset - piece_start_;
    if (length <= piece.size - within) return Buffer{piece.data + within, length, piece.owner};
    std::vector<uint8_t> copy;
    copy.reserve(length);
    size_t from = within;
    for (size_t i = piece_; copy.size() < length; ++i, from = 0) {
      const size_t share = std::min(pieces_[i].size - from, length - copy.size());
      copy.insert(copy.end(), pieces_[i].data + from, pieces_[i].data + from + share);
    }
    return OwnedBuffer(std::move(copy));
  }

 private:
  const Buffer *pieces_;
  size_t count_;
  size_t size_ = 0;
  size_t piece_ = 0;        // the piece of the last range,
  size_t piece_start_ = 0;  // and where it starts in the body
};

// Whether a record batch's arrays are built (kBuild), or only checked (kCheck): then a buffer
// whose contents no check reads (values, validity bitmaps, string data) is neither copied nor
// kept, and the arrays' buffers are sizes without data.
enum class Decoding { kBuild, kCheck };

class BatchDecoder {
 public:
  BatchDecoder(const fb::RecordBatch &batch, Body &body, const ReadLimits &limits, Codec codec,
               const Dictionaries *dictionaries, Decoding decoding)
      : batch_(batch),
        body_(body),
        limits_(limits),
        codec_(codec),
        dictionaries_(dictionaries),
        decoding_(decoding) {}

  Status Array(const arrow::Field &field, const FieldEncoding &encoding, const std::string &path,
               ArrayData *out) {
    const auto *nodes = batch_.nodes();
    if (nodes == nullptr || next_node_ >= nodes->size()) {
      return Status::Invalid(ColumnLabel(path) + ": the record batch has too few field nodes");
    }
    const auto node = StructAt(*nodes, next_node_++);
    const int64_t length = node.length();
    if (length < 0 || length > kMaxSlots || node.null_count() < 0 || node.null_count() > length) {
      return Status::Invalid(ColumnLabel(path) + ": a field node of length " +
                             std::to_string(length) + " with " + std::to_string(node.null_count()) +
                             " nulls");
    }
    out->length = length;
    out->null_count = node.null_count();
    const DataType &type = field.type;
    Buffer validity;
    // Only dictionary indices read their validity here.
    Status status = NextBuffer(path, "validity bitmap", encoding.dictionary_id >= 0, &validity);
    if (!status.ok()) return status;
    if (out->null_count > 0) {
      status = NeedBytes(path, "validity bitmap", validity, BitmapBytes(length));
      if (!status.ok()) return status;
      out->buffers.push_back(std::move(validity));
    } else {
      out->buffers.push_back(Buffer{});
    }
    if (encoding.dictionary_id >= 0) return Indices(field, encoding, path, out);
    if (int width = FixedWidth(type.id); width != 0 || type.id == TypeId::kBoolean) {
      Buffer values;
      status = NextBuffer(path, "values", false, &values);
      if (status.ok()) {
        status = NeedBytes(path, "values", values,
                           width ? static_cast<size_t>(length) * width : BitmapBytes(length));
      }
      out->buffers.push_back(std::move(values));
      return status;
    }
    if (type.id == TypeId::kStruct) {
      for (size_t i = 0; i < type.children.size(); ++i) {
        out->children.emplace_back();
        status = Child(type.children[i], ChildEncoding(encoding, i), path, length,
                       &out->children.back());
        if (!status.ok()) return status;
      }
      return Status::Ok();
    }
    int64_t end = 0;
    status = HasOffsets64(type.id) ? Offsets<int64_t>(path, length, out, &end)
                                   : Offsets<int32_t>(path, length, out, &end);
    if (!status.ok()) return status;
    if (HasValueData(type.id)) {
      Buffer data;
      status = NextBuffer(path, "data", false, &data);
      if (status.ok()) status = NeedBytes(path, "data", data, static_cast<size_t>(end));
      out->buffers.push_back(std::move(data));
      return status;
    }
    out->children.emplace_back();
    return Child(type.children[0], ChildEncoding(encoding, 0), path, end, &out->children.back());
  }

  Status CheckAllUsed() const {
    const size_t nodes = batch_.nodes() ? batch_.nodes()->size() : 0;
    const size_t buffers = batch_.buffers() ? batch_.buffers()->size() : 0;
    if (nodes != next_node_ || buffers != next_buffer_) {
      return Status::Invalid("the record batch has " + std::to_string(nodes) + " field nodes and " +
                             std::to_string(buffers) + " buffers where its schema needs " +
                             std::to_string(next_node_) + " and " + std::to_string(next_buffer_));
    }
    return Status::Ok();
  }

 private:
  Status Child(const arrow::Field &field, const FieldEncoding &encoding, const std::string &parent,
               int64_t needed, ArrayData *out) {
    const std::string path = ChildPath(parent, field.name);
    Status status = Array(field, encoding, path, out);
    if (status.ok() && out->length < needed) {
      return Status::Invalid(ColumnLabel(path) + ": " + std::to_string(out->length) +
                             " values where its parent needs " + std::to_string(needed));
    }
    return status;
  }

  // A dictionary-encoded array (its validity already in `out`): the indices, each checked
  // against the dictionary, expanded into the values within the message's budget.
  Status Indices(const arrow::Field &field, const FieldEncoding &encoding, const std::string &path,
                 ArrayData *out) {
    Buffer indices;
    Status status = NextBuffer(path, "indices", true, &indices);
    if (status.ok()) {
      status = NeedBytes(path, "indices", indices,
                         static_cast<size_t>(out->length) * encoding.index_width);
    }
    if (!status.ok()) return status;
    const ArrayData *dictionary = nullptr;
    if (dictionaries_ != nullptr) {
      auto found = dictionaries_->values.find(encoding.dictionary_id);
      if (found != dictionaries_->values.end()) dictionary = &found->second;
    }
    if (dictionary == nullptr) {
      return Status::Invalid(ColumnLabel(path) + ": no dictionary batch with id " +
                             std::to_string(encoding.dictionary_id) + " came before it");
    }
    const uint8_t *validity = out->buffers[0].data;
    std::vector<int64_t> rows(static_cast<size_t>(out->length));
    for (int64_t i = 0; i < out->length; ++i) {
      if (validity && !GetBit(validity, i)) {
        rows[i] = -1;
        continue;
      }
      rows[i] = ReadDictionaryIndex(indices.data, i, encoding.index_width, encoding.index_signed);
      if (rows[i] < 0 || rows[i] >= dictionary->length) {
        return Status::Invalid(ColumnLabel(path) + ": dictionary index at row " +
                               std::to_string(i) + " outside a dictionary of " +
                               std::to_string(dictionary->length) + " values");
      }
    }
    status = Spend(path, "the expanded dictionary", TakenBytes(field.type, *dictionary, rows));
    if (!status.ok()) return status;
    *out = Take(field.type, *dictionary, rows);
    return Status::Ok();
  }

  // Counts `bytes` about to be allocated against the message's budget.
  Status Spend(const std::string &path, const char *what, int64_t bytes) {
    if (bytes < 0 || bytes > limits_.max_materialized_bytes - materialized_) {
      return Status::Invalid(ColumnLabel(path) + ": " + what + " would take " +
                             std::to_string(bytes) + " bytes, beyond the message's limit of " +
                             std::to_string(limits_.max_materialized_bytes));
    }
    materialized_ += bytes;
    return Status::Ok();
  }

  static Status NeedBytes(const std::string &path, const char *what, const Buffer &buffer,
                          size_t needed) {
    if (buffer.size < needed) {
      return Status::Invalid(ColumnLabel(path) + ": a " + what + " buffer of " +
                             std::to_string(buffer.size) + " bytes where " +
                             std::to_string(needed) + " are needed");
    }
    return Status::Ok();
  }

  // Offsets: non-decreasing from a non-negative start; a length of 0 may come with no buffer.
  template <typename Offset>
  Status Offsets(const std::string &path, int64_t length, ArrayData *out, int64_t *end) {
    Buffer buffer;
    Status status = NextBuffer(path, "offsets", true, &buffer);
    if (!status.ok()) return status;
    if (length == 0 && buffer.size == 0) {
      buffer = OwnedBuffer(std::vector<uint8_t>(sizeof(Offset)));
    }
    status = NeedBytes(path, "offsets", buffer, static_cast<size_t>(length + 1) * sizeof(Offset));
    if (!status.ok()) return status;
    // Read without assuming alignment: a check reads them where they arrived.
    const auto offset_at = [&buffer](int64_t i) {
      Offset value;
      std::memcpy(&value, buffer.data + i * sizeof(Offset), sizeof value);
      return value;
    };
    Offset previous = offset_at(0);
    if (previous < 0) {
      return Status::Invalid(ColumnLabel(path) + ": offsets start at " + std::to_string(previous));
    }
    for (int64_t i = 0; i < length; ++i) {
      const Offset next = offset_at(i + 1);
      if (next < previous) {
        return Status::Invalid(ColumnLabel(path) + ": offset " + std::to_string(i + 1) + " (" +
                               std::to_string(next) + ") is below the one before it (" +
                               std::to_string(previous) + ")");
      }
      previous = next;
    }
    *end = previous;
    out->buffers.push_back(std::move(buffer));
    return Status::Ok();
  }

  // The next buffer of the batch, bounds-checked against the body, decompressed, and 8-byte
  // aligned (copied if it is not). When only checked, a buffer whose contents the checks do not
  // `read` is its size alone, unless it is compressed: its size is known once it is; one they
  // read is left where it is, unless it straddles two pieces.
  Status NextBuffer(const std::string &path, const char *what, bool read, Buffer *out) {
    const auto *buffers = batch_.buffers();
    if (buffers == nullptr || next_buffer_ >= buffers->size()) {
      return Status::Invalid(ColumnLabel(path) + ": the record batch has too few buffers (no " +
                             what + ")");
    }
    const auto spec = StructAt(*buffers, next_buffer_++);
    const int64_t offset = spec.offset();
    const int64_t length = spec.length();
    const int64_t body_size = static_cast<int64_t>(body_.size());
    if (offset < 0 || length < 0 || offset > body_size || length > body_size - offset) {
      return Status::Invalid(ColumnLabel(path) + ": its " + what + " buffer (offset " +
                             std::to_string(offset) + ", length " + std::to_string(length) +
                             ") lies outside the body of " + std::to_string(body_size) + " bytes");
    }
    if (decoding_ == Decoding::kCheck && !read && codec_ == Codec::kNone) {
      *out = Buffer{nullptr, static_cast<size_t>(length), nullptr};
      return Status::Ok();
    }
    Buffer raw = body_.Range(static_cast<size_t>(offset), static_cast<size_t>(length));
    if (codec_ == Codec::kNone || length == 0) {
      // The checks read their buffers wherever they are: only arrays kept need alignment.
      *out = decoding_ == Decoding::kCheck ? std::move(raw) : Aligned(std::move(raw));
      return Status::Ok();
    }
    int64_t uncompressed;
    if (raw.size < sizeof uncompressed) {
      return Status::Invalid(ColumnLabel(path) + ": a compressed " + what + " buffer of " +
                             std::to_string(raw.size) + " bytes, too short for its length");
    }
    std::memcpy(&uncompressed, raw.data, sizeof uncompressed);
    Buffer compressed{raw.data + 8, raw.size - 8, raw.owner};
    if (uncompressed == -1) {  // left uncompressed by the writer
      *out = Aligned(std::move(compressed));
      return Status::Ok();
    }
    std::string buffer_name = std::string("its compressed ") + what + " buffer";
    Status status = Spend(path, buffer_name.c_str(), uncompressed);
    if (!status.ok()) return status;
    std::vector<uint8_t> bytes;
    status = Decompress(codec_, compressed.data, compressed.size, static_cast<size_t>(uncompressed),
                        &bytes);
    if (!status.ok()) {
      return Status::Invalid(ColumnLabel(path) + ": its " + what + " buffer: " + status.message());
    }
    *out = OwnedBuffer(std::move(bytes));
    return Status::Ok();
  }

  static Buffer Aligned(Buffer buffer) {
    if (reinterpret_cast<uintptr_t>(buffer.data) % 8 == 0) return buffer;
    return OwnedBuffer(std::vector<uint8_t>(buffer.data, buffer.data + buffer.size));
  }

  const fb::RecordBatch &batch_;
  Body &body_;
  const ReadLimits &limits_;
  Codec codec_;
  const Dictionaries *dictionaries_;
  const Decoding decoding_;
  fbs::uoffset_t next_node_ = 0;
  fbs::uoffset_t next_buffer_ = 0;
  int64_t materialized_ = 0;
};

Status ReadInt32(const Buffer &bytes, size_t at, int32_t *value) {
  if (bytes.size < 4 || at > bytes.size - 4) {
    return Status::Invalid("IPC stream: cut off at byte " + std::to_string(at));
  }
  std::memcpy(value, bytes.data + at, 4);
  return Status::Ok();
}

// A RecordBatch's body: every column of `schema`, with `encodings` (one per column, or none when
// nothing is dictionary-encoded) and the stream's `dictionaries` (null outside a stream).
Status DecodeBatchBody(const Schema &schema, const std::vector<FieldEncoding> &encodings,
                       const Dictionaries *dictionaries, const fb::RecordBatch &batch, Body &body,
                       const ReadLimits &limits, Decoding decoding, RecordBatch *out) {
  if (batch.length() < 0 || batch.length() > kMaxSlots) {
    return Status::Invalid("IPC record batch: " + std::to_string(batch.length()) + " rows");
  }
  if (batch.variadic_buffer_counts() && batch.variadic_buffer_counts()->size() > 0) {
    return Status::Invalid("IPC record batch: variadic buffers (view types) are not supported");
  }
  Codec codec = Codec::kNone;
  if (const fb::BodyCompression *compression = batch.compression()) {
    if (compression->method() != fb::BodyCompressionMethod_BUFFER) {
      return Status::Invalid("IPC record batch: an unknown body compression method");
    }
    if (compression->codec() == fb::CompressionType_LZ4_FRAME) {
      codec = Codec::kLz4Frame;
    } else if (compression->codec() == fb::CompressionType_ZSTD) {
      codec = Codec::kZstd;
    } else {
      return Status::Invalid("IPC record batch: unknown compression codec " +
                             std::to_string(compression->codec()));
    }
  }
  BatchDecoder decoder(batch, body, limits, codec, dictionaries, decoding);
  RecordBatch decoded;
  decoded.length = batch.length();
  static const FieldEncoding kValues;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const Field &field = schema.fields[i];
    decoded.columns.emplace_back();
    Status status = decoder.Array(field, i < encodings.size() ? encodings[i] : kValues,
                                  ChildPath("", field.name), &decoded.columns.back());
    if (!status.ok()) return status;
    if (decoded.columns.back().length != decoded.length) {
      return Status::Invalid(ColumnLabel(field.name) + ": " +
                             std::to_string(decoded.columns.back().length) +
                             " values in a batch of " + std::to_string(decoded.length) + " rows");
    }
  }
  Status used = decoder.CheckAllUsed();
  if (!used.ok()) return used;
  *out = std::move(decoded);
  return Status::Ok();
}

Status CheckBodyLength(const fb::Message &message, const Body &body) {
  if (message.body_length() != static_cast<int64_t>(body.size())) {
    return Status::Invalid("IPC message: states a body of " +
                           std::to_string(message.body_length()) + " bytes but has " +
                           std::to_string(body.size()));
  }
  return Status::Ok();
}

Status WrongMessage(const fb::Message &message, const char *expected) {
  const char *name = fb::EnumNameMessageHeader(message.header_type());
  return Status::Invalid(std::string("IPC: a ") + (name && *name ? name : "unknown") +
                         " message where " + expected + " was expected");
}

Status DecodeVerifiedBatch(const Schema &schema, const std::vector<FieldEncoding> &encodings,
                           const Dictionaries *dictionaries, const fb::Message &message, Body &body,
                           const ReadLimits &limits, Decoding decoding, RecordBatch *out) {
  const fb::RecordBatch *batch = message.header_as_RecordBatch();
  if (batch == nullptr) return WrongMessage(message, "a RecordBatch");
  Status status = CheckBodyLength(message, body);
  if (!status.ok()) return status;
  return DecodeBatchBody(schema, encodings, dictionaries, *batch, body, limits, decoding, out);
}

// A DictionaryBatch: its values, decoded as the field the schema gave its id, replace the
// dictionary's earlier ones. Deltas (values appended to a dictionary) are refused.
Status DecodeDictionary(const fb::Message &message, Body &body, const ReadLimits &limits,
                        Dictionaries *dictionaries) {
  const fb::DictionaryBatch *batch = message.header_as_DictionaryBatch();
  if (batch == nullptr) return WrongMessage(message, "a DictionaryBatch");
  Status status = CheckBodyLength(message, body);
  if (!status.ok()) return status;
  const std::string id = std::to_string(batch->id());
  auto field = dictionaries->fields.find(batch->id());
  if (field == dictionaries->fields.end()) {
    return Status::Invalid("IPC dictionary batch: id " + id + " is no field's dictionary");
  }
  if (batch->is_delta()) {
    return Status::Invalid("IPC dictionary batch " + id + " (" + ColumnLabel(field->second.name) +
                           "): delta dictionaries are not supported");
  }
  if (batch->data() == nullptr) {
    return Status::Invalid("IPC dictionary batch " + id + ": no data");
  }
  Schema values;
  values.fields.push_back(field->second);
  RecordBatch decoded;
  status = DecodeBatchBody(values, {}, nullptr, *batch->data(), body, limits, Decoding::kBuild,
                           &decoded);
  if (!status.ok()) return Status::Invalid("IPC dictionary batch " + id + ": " + status.message());
  dictionaries->values[batch->id()] = std::move(decoded.columns[0]);
  return Status::Ok();
}

Status DecodeVerifiedSchema(const fb::Message &message, const ReadLimits &limits,
                            Dictionaries *dictionaries, Schema *out,
                            std::vector<FieldEncoding> *encodings) {
  const fb::Schema *schema = message.header_as_Schema();
  if (schema == nullptr) return WrongMessage(message, "a Schema");
  if (schema->endianness() != fb::Endianness_Little) {
    return Status::Invalid("IPC schema: big-endian data is not supported");
  }
  Schema decoded;
  std::vector<FieldEncoding> decoded_encodings;
  SchemaDecoder decoder(limits, dictionaries);
  const auto *fields = schema->fields();
  for (fbs::uoffset_t i = 0; fields && i < fields->size(); ++i) {
    decoded.fields.emplace_back();
    decoded_encodings.emplace_back();
    Status status =
        decoder.Field(fields->Get(i), "", 1, &decoded.fields.back(), &decoded_encodings.back());
    if (!status.ok()) return status;
  }
  *out = std::move(decoded);
  *encodings = std::move(decoded_encodings);
  return Status::Ok();
}

// A Flight record batch, `body` in `count` pieces.
Status DecodeFlightBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                         const Buffer *body, size_t count, const ReadLimits &limits,
                         Decoding decoding, RecordBatch *out) {
  VerifiedMessage verified;
  Status status = verified.Verify(metadata, size);
  if (!status.ok()) return status;
  Body pieces(body, count);
  return DecodeVerifiedBatch(schema, {}, nullptr, verified.message(), pieces, limits, decoding,
                             out);
}

}  // namespace

Status DecodeSchema(const uint8_t *metadata, size_t size, const ReadLimits &limits, Schema *out) {
  VerifiedMessage verified;
  Status status = verified.Verify(metadata, size);
  if (!status.ok()) return status;
  std::vector<FieldEncoding> encodings;
  return DecodeVerifiedSchema(verified.message(), limits, nullptr, out, &encodings);
}

Status DecodeRecordBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                         const Buffer &body, const ReadLimits &limits, RecordBatch *out) {
  return DecodeFlightBatch(schema, metadata, size, &body, 1, limits, Decoding::kBuild, out);
}

Status DecodeRecordBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                         const std::vector<Buffer> &body, const ReadLimits &limits,
                         RecordBatch *out) {
  return DecodeFlightBatch(schema, metadata, size, body.data(), body.size(), limits,
                           Decoding::kBuild, out);
}

Status CheckRecordBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                        const std::vector<Buffer> &body, const ReadLimits &limits, int64_t *rows) {
  RecordBatch checked;
  Status status = DecodeFlightBatch(schema, metadata, size, body.data(), body.size(), limits,
                                    Decoding::kCheck, &checked);
  if (status.ok()) *rows = checked.length;
  return status;
}

Status ReadIpcStream(const Buffer &bytes, const ReadLimits &limits, Schema *schema,
                     std::vector<RecordBatch> *batches) {
  Schema decoded_schema;
  std::vector<FieldEncoding> encodings;
  Dictionaries dictionaries;
  std::vector<RecordBatch> decoded_batches;
  bool have_schema = false;
  size_t at = 0;
  while (at < bytes.size) {
    int32_t marker, length;
    Status status = ReadInt32(bytes, at, &marker);
    if (status.ok()) status = ReadInt32(bytes, at + 4, &length);
    if (!status.ok()) return status;
    if (marker != -1) {
      return Status::Invalid("IPC stream: no continuation marker at byte " + std::to_string(at));
    }
    at += 8;
    if (length == 0) {  // end of stream
      if (at != bytes.size) {
        return Status::Invalid("IPC stream: " + std::to_string(bytes.size - at) +
                               " bytes after the end-of-stream marker");
      }
      break;
    }
    if (length < 0 || static_cast<size_t>(length) > bytes.size - at) {
      return Status::Invalid("IPC stream: a message of " + std::to_string(length) +
                             " metadata bytes at byte " + std::to_string(at - 8) +
                             ", past the end");
    }
    VerifiedMessage verified;
    status = verified.Verify(bytes.data + at, static_cast<size_t>(length));
    if (!status.ok()) return status;
    at += static_cast<size_t>(length);
    const fb::Message &message = verified.message();
    const int64_t body_length = message.body_length();
    if (body_length < 0 || static_cast<uint64_t>(body_length) > bytes.size - at) {
      return Status::Invalid("IPC stream: a body of " + std::to_string(body_length) +
                             " bytes at byte " + std::to_string(at) + ", past the end");
    }
    const Buffer whole_body{bytes.data + at, static_cast<size_t>(body_length), bytes.owner};
    Body body(&whole_body, 1);
    at += static_cast<size_t>(body_length);
    if (!have_schema) {
      status = DecodeVerifiedSchema(message, limits, &dictionaries, &decoded_schema, &encodings);
      if (!status.ok()) return status;
      have_schema = true;
      continue;
    }
    if (message.header_type() == fb::MessageHeader_DictionaryBatch) {
      status = DecodeDictionary(message, body, limits, &dictionaries);
      if (!status.ok()) return status;
      continue;
    }
    decoded_batches.emplace_back();
    status = DecodeVerifiedBatch(decoded_schema, encodings, &dictionaries, message, body, limits,
                                 Decoding::kBuild, &decoded_batches.back());
    if (!status.ok()) {
      return Status::Invalid("record batch " + std::to_string(decoded_batches.size() - 1) + ": " +
                             status.message());
    }
  }
  if (!have_schema) return Status::Invalid("IPC stream: no schema message");
  *schema = std::move(decoded_schema);
  *batches = std::move(decoded_batches);
  return Status::Ok();
}

bool IsIpcFile(const Buffer &bytes) {
  return bytes.size >= sizeof kFileMagic - 1 &&
         std::memcmp(bytes.data, kFileMagic, sizeof kFileMagic - 1) == 0;
}

Status ReadIpcFile(const Buffer &bytes, const ReadLimits &limits, Schema *schema,
                   std::vector<RecordBatch> *batches) {
  constexpr size_t kMagic = sizeof kFileMagic - 1;
  constexpr size_t kHead = 8;  // the magic, padded to 8
  if (bytes.size < kHead + 4 + kMagic || !IsIpcFile(bytes) ||
      std::memcmp(bytes.data + bytes.size - kMagic, kFileMagic, kMagic) != 0) {
    return Status::Invalid("IPC file: no ARROW1 magic at its start and end");
  }
  int32_t footer_length;
  std::memcpy(&footer_length, bytes.data + bytes.size - kMagic - 4, 4);
  if (footer_length < 0 || static_cast<size_t>(footer_length) > bytes.size - kHead - 4 - kMagic) {
    return Status::Invalid("IPC file: a footer of " + std::to_string(footer_length) +
                           " bytes in a file of " + std::to_string(bytes.size));
  }
  const size_t messages = bytes.size - kHead - 4 - kMagic - static_cast<size_t>(footer_length);
  return ReadIpcStream(Buffer{bytes.data + kHead, messages, bytes.owner}, limits, schema, batches);
}

}  // namespace zerobus::arrow
