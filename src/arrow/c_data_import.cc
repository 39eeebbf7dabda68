#include "arrow/c_data_import.h"

#include <cstring>
#include <limits>
#include <string_view>

#include "arrow/bits.h"
#include "arrow/take.h"
#include "table/value_checks.h"
#include "zerobus/arrow_c_data.h"

namespace zerobus::arrow {
namespace {

using Encoding = CDataSchema::Encoding;

// What Arrow calls the types we refuse, so that the message names the type and not only the
// format string.
std::string UnsupportedTypeName(std::string_view format) {
  static const struct {
    std::string_view prefix;
    std::string_view name;
  } kNames[] = {
      {"n", "null"},
      {"C", "uint8"},
      {"S", "uint16"},
      {"I", "uint32"},
      {"L", "uint64"},
      {"e", "float16"},
      {"tdm", "date64"},
      {"tss", "timestamp[s]"},
      {"tsm", "timestamp[ms]"},
      {"tsn", "timestamp[ns]"},
      {"tt", "time"},
      {"tD", "duration"},
      {"ti", "interval"},
      {"w:", "fixed_size_binary"},
      {"+L", "large_list"},
      {"+w:", "fixed_size_list"},
      {"+u", "union"},
      {"+r", "run_end_encoded"},
      {"+vl", "list_view"},
      {"+vL", "large_list_view"},
      {"vu", "string_view"},
      {"vz", "binary_view"},
      {"d:", "decimal256 or a decimal of another width"},
  };
  for (const auto &known : kNames) {
    if (format.substr(0, known.prefix.size()) == known.prefix &&
        (known.prefix.size() > 1 || format.size() == 1)) {
      return std::string(known.name) + " (format '" + std::string(format) + "')";
    }
  }
  return "format '" + std::string(format) + "'";
}

bool ParseDecimal(std::string_view spec, int *precision, int *scale) {
  // "P,S" or "P,S,128"
  int numbers[3] = {0, 0, 128};
  int count = 0;
  size_t i = 0;
  while (count < 3) {
    size_t start = i;
    int value = 0;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9' && value < 100000) {
      value = value * 10 + (spec[i++] - '0');
    }
    if (i == start) return false;
    numbers[count++] = value;
    if (i == spec.size()) break;
    if (spec[i++] != ',') return false;
  }
  if (i != spec.size() || count < 2 || numbers[2] != 128) return false;
  *precision = numbers[0];
  *scale = numbers[1];
  return *precision >= 1 && *precision <= 38 && *scale <= *precision;
}

Status ImportField(const ArrowSchema &c_schema, const std::string &path, int depth, Field *field,
                   Encoding *encoding);

Status ImportType(const ArrowSchema &c_schema, const std::string &path, int depth, DataType *type,
                  Encoding *encoding) {
  if (c_schema.format == nullptr) return Status::Invalid(ColumnLabel(path) + ": no format string");
  const std::string_view format = c_schema.format;
  static const struct {
    std::string_view format;
    TypeId id;
  } kSimple[] = {
      {"b", TypeId::kBoolean}, {"c", TypeId::kInt8},        {"s", TypeId::kInt16},
      {"i", TypeId::kInt32},   {"l", TypeId::kInt64},       {"f", TypeId::kFloat32},
      {"g", TypeId::kFloat64}, {"u", TypeId::kUtf8},        {"U", TypeId::kLargeUtf8},
      {"z", TypeId::kBinary},  {"Z", TypeId::kLargeBinary}, {"tdD", TypeId::kDate32},
  };
  for (const auto &simple : kSimple) {
    if (format == simple.format) {
      type->id = simple.id;
      return c_schema.n_children == 0 ? Status::Ok()
                                      : Status::Invalid(ColumnLabel(path) + ": a " +
                                                        TypeToString(*type) + " with children");
    }
  }
  if (format.substr(0, 4) == "tsu:") {
    type->id = TypeId::kTimestampMicros;
    type->timezone = std::string(format.substr(4));
    return Status::Ok();
  }
  if (format.substr(0, 2) == "d:" &&
      ParseDecimal(format.substr(2), &type->precision, &type->scale)) {
    type->id = TypeId::kDecimal128;
    return Status::Ok();
  }
  size_t expected_children;
  if (format == "+l") {
    type->id = TypeId::kList;
    expected_children = 1;
  } else if (format == "+s") {
    type->id = TypeId::kStruct;
    expected_children = static_cast<size_t>(c_schema.n_children);
  } else if (format == "+m") {
    type->id = TypeId::kMap;
    type->keys_sorted = (c_schema.flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0;
    expected_children = 1;
  } else {
    return Status::Invalid(ColumnLabel(path) + ": Arrow type " + UnsupportedTypeName(format) +
                           " is not supported");
  }
  if (depth >= kMaxNestingDepth) {
    return Status::Invalid(ColumnLabel(path) + ": nested deeper than " +
                           std::to_string(kMaxNestingDepth) + " levels");
  }
  if (c_schema.n_children < 0 || static_cast<size_t>(c_schema.n_children) != expected_children ||
      (c_schema.n_children > 0 && c_schema.children == nullptr)) {
    return Status::Invalid(ColumnLabel(path) + ": " + std::string(format) + " with " +
                           std::to_string(c_schema.n_children) + " children");
  }
  type->children.resize(expected_children);
  encoding->children.resize(expected_children);
  for (size_t i = 0; i < expected_children; ++i) {
    const ArrowSchema *child = c_schema.children[i];
    if (child == nullptr) return Status::Invalid(ColumnLabel(path) + ": a null child schema");
    const std::string child_path = ChildPath(path, child->name ? child->name : "");
    Status status =
        ImportField(*child, child_path, depth + 1, &type->children[i], &encoding->children[i]);
    if (!status.ok()) return status;
  }
  if (type->id == TypeId::kMap) {
    const DataType &entries = type->children[0].type;
    if (entries.id != TypeId::kStruct || entries.children.size() != 2 ||
        encoding->children[0].index_width != 0) {
      return Status::Invalid(ColumnLabel(path) +
                             ": a map whose entries are not a struct of key and value");
    }
  }
  return Status::Ok();
}

Status ImportField(const ArrowSchema &c_schema, const std::string &path, int depth, Field *field,
                   Encoding *encoding) {
  field->name = c_schema.name ? c_schema.name : "";
  field->nullable = (c_schema.flags & ARROW_FLAG_NULLABLE) != 0;
  if (c_schema.dictionary == nullptr) {
    return ImportType(c_schema, path, depth, &field->type, encoding);
  }
  static const struct {
    char format;
    int width;
    bool is_signed;
  } kIndexTypes[] = {{'c', 1, true},  {'s', 2, true},  {'i', 4, true},  {'l', 8, true},
                     {'C', 1, false}, {'S', 2, false}, {'I', 4, false}, {'L', 8, false}};
  const std::string_view format = c_schema.format ? c_schema.format : "";
  for (const auto &index : kIndexTypes) {
    if (format.size() == 1 && format[0] == index.format) {
      encoding->index_width = index.width;
      encoding->index_signed = index.is_signed;
    }
  }
  if (encoding->index_width == 0) {
    return Status::Invalid(ColumnLabel(path) + ": dictionary indices of " +
                           UnsupportedTypeName(format) + ", not an integer type");
  }
  if (c_schema.dictionary->dictionary != nullptr) {
    return Status::Invalid(ColumnLabel(path) + ": a dictionary of dictionary-encoded values");
  }
  Encoding values;
  Status status = ImportType(*c_schema.dictionary, path, depth, &field->type, &values);
  encoding->children = std::move(values.children);
  return status;
}

class ArrayImporter {
 public:
  explicit ArrayImporter(std::shared_ptr<const void> owner) : owner_(std::move(owner)) {}

  Status Field(const ArrowArray &c_array, const arrow::Field &field, const Encoding &encoding,
               const std::string &path, ArrayData *out) {
    if (encoding.index_width == 0) return Values(c_array, field.type, encoding, path, out);
    ArrayData indices;
    Status status = Shape(c_array, 2, 0, path, &indices);
    if (!status.ok()) return status;
    if (c_array.dictionary == nullptr) {
      return Status::Invalid(ColumnLabel(path) +
                             ": dictionary-encoded, but the array has no dictionary");
    }
    ArrayData dictionary;
    status = Values(*c_array.dictionary, field.type, encoding, path, &dictionary);
    if (!status.ok()) return status;
    const int64_t slots = indices.offset + indices.length;
    if (slots > 0 && c_array.buffers[1] == nullptr) {
      return Status::Invalid(ColumnLabel(path) + ": no buffer of dictionary indices");
    }
    std::vector<int64_t> rows(static_cast<size_t>(indices.length));
    for (int64_t i = 0; i < indices.length; ++i) {
      const int64_t slot = indices.offset + i;
      if (indices.buffers[0].data && !GetBit(indices.buffers[0].data, slot)) {
        rows[i] = -1;
        continue;
      }
      rows[i] = ReadDictionaryIndex(static_cast<const uint8_t *>(c_array.buffers[1]), slot,
                                    encoding.index_width, encoding.index_signed);
      if (rows[i] < 0 || rows[i] >= dictionary.length) {
        return Status::Invalid(ColumnLabel(path) + ": dictionary index " + std::to_string(rows[i]) +
                               " at row " + std::to_string(i) + " outside a dictionary of " +
                               std::to_string(dictionary.length) + " values");
      }
    }
    *out = Take(field.type, dictionary, rows);
    return Status::Ok();
  }

 private:
  // Lengths, offset, counts of buffers and children, and the validity bitmap.
  Status Shape(const ArrowArray &c_array, int64_t n_buffers, int64_t n_children,
               const std::string &path, ArrayData *out) {
    if (c_array.length < 0 || c_array.offset < 0 || c_array.null_count < -1 ||
        c_array.length > kMaxSlots || c_array.offset > kMaxSlots - c_array.length) {
      return Status::Invalid(ColumnLabel(path) + ": length " + std::to_string(c_array.length) +
                             " at offset " + std::to_string(c_array.offset));
    }
    if (c_array.n_buffers != n_buffers || (n_buffers > 0 && c_array.buffers == nullptr)) {
      return Status::Invalid(ColumnLabel(path) + ": " + std::to_string(c_array.n_buffers) +
                             " buffers where its type has " + std::to_string(n_buffers));
    }
    if (c_array.n_children != n_children || (n_children > 0 && c_array.children == nullptr)) {
      return Status::Invalid(ColumnLabel(path) + ": " + std::to_string(c_array.n_children) +
                             " children where its type has " + std::to_string(n_children));
    }
    out->length = c_array.length;
    out->offset = c_array.offset;
    const auto *validity = static_cast<const uint8_t *>(c_array.buffers[0]);
    const int64_t slots = c_array.offset + c_array.length;
    out->null_count = c_array.null_count;
    if (validity == nullptr) {
      if (c_array.null_count > 0) {
        return Status::Invalid(ColumnLabel(path) + ": " + std::to_string(c_array.null_count) +
                               " nulls but no validity bitmap");
      }
      out->null_count = 0;
    } else if (out->null_count < 0) {
      out->null_count = CountZeroBits(validity, c_array.offset, c_array.length);
    }
    out->buffers.push_back(out->null_count ? View(validity, BitmapBytes(slots)) : Buffer{});
    return Status::Ok();
  }

  Buffer View(const void *data, size_t size) {
    return Buffer{static_cast<const uint8_t *>(data), size, owner_};
  }

  template <typename Offset>
  Status OffsetsBuffer(const ArrowArray &c_array, const std::string &path, ArrayData *out,
                       Offset *first, Offset *last) {
    const int64_t slots = out->offset + out->length;
    if (c_array.buffers[1] == nullptr) {
      if (out->length != 0) return Status::Invalid(ColumnLabel(path) + ": no offsets buffer");
      out->buffers.push_back(OwnedBuffer(std::vector<uint8_t>((slots + 1) * sizeof(Offset))));
      *first = *last = 0;
      return Status::Ok();
    }
    out->buffers.push_back(View(c_array.buffers[1], (slots + 1) * sizeof(Offset)));
    const auto *offsets = static_cast<const Offset *>(c_array.buffers[1]);
    *first = offsets[out->offset];
    *last = offsets[slots];
    if (*first < 0 || *last < *first) {
      return Status::Invalid(ColumnLabel(path) + ": offsets run from " + std::to_string(*first) +
                             " to " + std::to_string(*last));
    }
    return Status::Ok();
  }

  template <typename Offset>
  Status Bytes(const ArrowArray &c_array, const std::string &path, ArrayData *out) {
    Offset first = 0, last = 0;
    Status status = OffsetsBuffer<Offset>(c_array, path, out, &first, &last);
    if (!status.ok()) return status;
    if (last > 0 && c_array.buffers[2] == nullptr) {
      return Status::Invalid(ColumnLabel(path) + ": no data buffer");
    }
    out->buffers.push_back(View(c_array.buffers[2], static_cast<size_t>(last)));
    return Status::Ok();
  }

  Status Values(const ArrowArray &c_array, const DataType &type, const Encoding &encoding,
                const std::string &path, ArrayData *out) {
    const bool nested =
        type.id == TypeId::kList || type.id == TypeId::kMap || type.id == TypeId::kStruct;
    Status status = Shape(c_array, BufferCount(type.id),
                          nested ? static_cast<int64_t>(type.children.size()) : 0, path, out);
    if (!status.ok()) return status;
    const int64_t slots = out->offset + out->length;
    if (int width = FixedWidth(type.id); width != 0 || type.id == TypeId::kBoolean) {
      if (slots > 0 && c_array.buffers[1] == nullptr) {
        return Status::Invalid(ColumnLabel(path) + ": no values buffer");
      }
      out->buffers.push_back(View(c_array.buffers[1], width ? slots * width : BitmapBytes(slots)));
      return Status::Ok();
    }
    if (HasValueData(type.id)) {
      return HasOffsets64(type.id) ? Bytes<int64_t>(c_array, path, out)
                                   : Bytes<int32_t>(c_array, path, out);
    }
    int64_t child_slots = slots;  // struct: the fields' slots are the struct's
    if (type.id != TypeId::kStruct) {
      int32_t first = 0, last = 0;
      status = OffsetsBuffer<int32_t>(c_array, path, out, &first, &last);
      if (!status.ok()) return status;
      child_slots = last;
    }
    for (size_t i = 0; i < type.children.size(); ++i) {
      const arrow::Field &field = type.children[i];
      const std::string child_path = ChildPath(path, field.name);
      if (c_array.children[i] == nullptr) {
        return Status::Invalid(ColumnLabel(child_path) + ": a null child array");
      }
      ArrayData child;
      status = Field(*c_array.children[i], field, encoding.children[i], child_path, &child);
      if (!status.ok()) return status;
      if (child.length < child_slots) {
        return Status::Invalid(ColumnLabel(child_path) + ": " + std::to_string(child.length) +
                               " values where its parent needs " + std::to_string(child_slots));
      }
      out->children.push_back(std::move(child));
    }
    return Status::Ok();
  }

  std::shared_ptr<const void> owner_;
};

}  // namespace

Status CDataSchema::Import(const ArrowSchema &c_schema, CDataSchema *out) {
  if (c_schema.release == nullptr) return Status::Invalid("the ArrowSchema has been released");
  if (c_schema.format == nullptr || std::string_view(c_schema.format) != "+s" ||
      c_schema.dictionary != nullptr) {
    return Status::Invalid("a record batch's ArrowSchema must be a struct (format '+s'), not '" +
                           std::string(c_schema.format ? c_schema.format : "") + "'");
  }
  if (c_schema.n_children < 0 || (c_schema.n_children > 0 && c_schema.children == nullptr)) {
    return Status::Invalid("the ArrowSchema has " + std::to_string(c_schema.n_children) +
                           " columns");
  }
  CDataSchema parsed;
  parsed.schema_.fields.resize(static_cast<size_t>(c_schema.n_children));
  parsed.encodings_.resize(parsed.schema_.fields.size());
  for (size_t i = 0; i < parsed.schema_.fields.size(); ++i) {
    const ArrowSchema *column = c_schema.children[i];
    if (column == nullptr) return Status::Invalid("column " + std::to_string(i) + ": no schema");
    Status status = ImportField(*column, ChildPath("", column->name ? column->name : ""), 1,
                                &parsed.schema_.fields[i], &parsed.encodings_[i]);
    if (!status.ok()) return status;
  }
  *out = std::move(parsed);
  return Status::Ok();
}

namespace {

CDataSchema::Encoding PlainEncoding(const DataType &type) {
  CDataSchema::Encoding encoding;
  for (const arrow::Field &child : type.children) {
    encoding.children.push_back(PlainEncoding(child.type));
  }
  return encoding;
}

}  // namespace

CDataSchema CDataSchema::Plain(Schema schema) {
  CDataSchema plain;
  for (const arrow::Field &field : schema.fields) {
    plain.encodings_.push_back(PlainEncoding(field.type));
  }
  plain.schema_ = std::move(schema);
  return plain;
}

Status ImportRecordBatch(ArrowArray *c_array, const CDataSchema &schema, RecordBatch *out) {
  if (c_array == nullptr || c_array->release == nullptr) {
    return Status::Invalid("the ArrowArray has been released");
  }
  // Moved, as the specification allows: the producer's release gets the new address.
  std::shared_ptr<ArrowArray> owner(new ArrowArray(*c_array), [](ArrowArray *array) {
    if (array->release != nullptr) array->release(array);
    delete array;
  });
  c_array->release = nullptr;
  const ArrowArray &top = *owner;
  const auto &fields = schema.schema().fields;
  if (top.length < 0 || top.offset < 0 || top.length > kMaxSlots ||
      top.offset > kMaxSlots - top.length ||
      top.n_children != static_cast<int64_t>(fields.size()) ||
      (top.n_children > 0 && top.children == nullptr)) {
    return Status::Invalid("the record batch's ArrowArray has " + std::to_string(top.n_children) +
                           " columns of length " + std::to_string(top.length) +
                           " where the schema has " + std::to_string(fields.size()));
  }
  if (top.null_count > 0) {
    return Status::Invalid("the record batch's ArrowArray has null rows");
  }
  ArrayImporter importer(owner);
  RecordBatch batch;
  batch.length = top.length;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (top.children[i] == nullptr)
      return Status::Invalid(ColumnLabel(fields[i].name) + ": no array");
    ArrayData column;
    Status status =
        importer.Field(*top.children[i], fields[i], schema.encodings()[i], fields[i].name, &column);
    if (!status.ok()) return status;
    if (column.length < top.offset + top.length) {
      return Status::Invalid(ColumnLabel(fields[i].name) + ": " + std::to_string(column.length) +
                             " rows in a batch of " + std::to_string(top.offset + top.length));
    }
    column.offset += top.offset;  // the batch's own offset slices every column
    column.length = top.length;
    column.null_count = -1;  // unknown for the slice; the encoder counts
    batch.columns.push_back(std::move(column));
  }
  *out = std::move(batch);
  return Status::Ok();
}

Status ImportStream(ArrowArrayStream *c_stream,
                    const std::function<Status(const CDataSchema &, RecordBatch)> &each) {
  if (c_stream == nullptr || c_stream->release == nullptr) {
    return Status::Invalid("the ArrowArrayStream has been released");
  }
  std::unique_ptr<ArrowArrayStream, void (*)(ArrowArrayStream *)> stream(
      new ArrowArrayStream(*c_stream), [](ArrowArrayStream *moved) {
        if (moved->release != nullptr) moved->release(moved);
        delete moved;
      });
  c_stream->release = nullptr;
  auto failed = [&stream](const char *call, int code) {
    const char *text = stream->get_last_error ? stream->get_last_error(stream.get()) : nullptr;
    return Status::Invalid(std::string("the ArrowArrayStream's ") + call + " failed (error " +
                           std::to_string(code) + ")" +
                           (text ? ": " + table::Excerpt(text, 200) : ""));
  };
  ArrowSchema c_schema{};
  if (int code = stream->get_schema(stream.get(), &c_schema)) return failed("get_schema", code);
  CDataSchema schema;
  Status status = CDataSchema::Import(c_schema, &schema);
  if (c_schema.release != nullptr) c_schema.release(&c_schema);
  while (status.ok()) {
    ArrowArray c_array{};
    if (int code = stream->get_next(stream.get(), &c_array)) return failed("get_next", code);
    if (c_array.release == nullptr) break;  // the end of the stream
    RecordBatch batch;
    status = ImportRecordBatch(&c_array, schema, &batch);
    if (status.ok()) status = each(schema, std::move(batch));
  }
  return status;
}

}  // namespace zerobus::arrow
