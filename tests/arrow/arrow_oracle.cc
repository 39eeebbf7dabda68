// The side of the pyarrow oracle test (arrow_oracle_test.py) that runs our codec: a shared
// library the script loads with ctypes, so that pyarrow can hand it batches as Arrow C Data in
// the same process. Every function returns 0 or 1 and, on 1, an error message in *error; bytes
// and strings it returns are malloc'd, for zbt_free().
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "arrow/c_data_import.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "zerobus/arrow_c_data.h"

using namespace zerobus::arrow;

namespace {

char *Copy(const std::string &text) {
  char *out = static_cast<char *>(std::malloc(text.size() + 1));
  std::memcpy(out, text.data(), text.size() + 1);
  return out;
}

int Fail(const Status &status, char **error) {
  *error = Copy(status.message());
  return 1;
}

Codec CodecOf(int codec) {
  return codec == 1 ? Codec::kLz4Frame : codec == 2 ? Codec::kZstd : Codec::kNone;
}

// A stream of `schema` and `batches`, as bytes.
Status WriteStream(const Schema &schema, const std::vector<RecordBatch> &batches, int codec,
                   uint8_t **out, size_t *out_size) {
  std::vector<Buffer> slices;
  AppendEncapsulated(EncodeSchema(schema), &slices);
  for (const RecordBatch &batch : batches) {
    EncodedMessage message;
    Status status = EncodeRecordBatch(schema, batch, WriteOptions{CodecOf(codec)}, &message);
    if (!status.ok()) return status;
    AppendEncapsulated(message, &slices);
  }
  slices.push_back(EndOfStream());
  const std::string bytes = Concatenate(slices);
  *out = static_cast<uint8_t *>(std::malloc(bytes.size() ? bytes.size() : 1));
  std::memcpy(*out, bytes.data(), bytes.size());
  *out_size = bytes.size();
  return Status::Ok();
}

Buffer CopiedInput(const uint8_t *bytes, size_t size) {
  auto owner = std::make_shared<std::string>(reinterpret_cast<const char *>(bytes), size);
  return Buffer{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner};
}

std::string Hex(const uint8_t *data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < size; ++i) {
    text += kDigits[data[i] >> 4];
    text += kDigits[data[i] & 15];
  }
  return text;
}

std::string Int128Text(const uint8_t *bytes) {
  unsigned __int128 value;
  std::memcpy(&value, bytes, 16);
  const bool negative = (value >> 127) != 0;
  if (negative) value = ~value + 1;
  std::string digits;
  do {
    digits.insert(digits.begin(), char('0' + int(value % 10)));
    value /= 10;
  } while (value != 0);
  return negative ? "-" + digits : digits;
}

template <typename T>
T Load(const Buffer &buffer, int64_t slot) {
  T value;
  std::memcpy(&value, buffer.data + slot * sizeof(T), sizeof value);
  return value;
}

// The value at `slot` (absolute) of `array`, in the JSON form the script renders pyarrow's in.
nlohmann::json Value(const DataType &type, const ArrayData &array, int64_t slot) {
  const uint8_t *validity = array.buffers[0].data;
  if (validity && !((validity[slot / 8] >> (slot % 8)) & 1)) return nullptr;
  switch (type.id) {
    case TypeId::kBoolean:
      return ((array.buffers[1].data[slot / 8] >> (slot % 8)) & 1) != 0;
    case TypeId::kInt8:
      return Load<int8_t>(array.buffers[1], slot);
    case TypeId::kInt16:
      return Load<int16_t>(array.buffers[1], slot);
    case TypeId::kInt32:
    case TypeId::kDate32:
      return Load<int32_t>(array.buffers[1], slot);
    case TypeId::kInt64:
    case TypeId::kTimestampMicros:
      return Load<int64_t>(array.buffers[1], slot);
    case TypeId::kFloat32:
      return static_cast<double>(Load<float>(array.buffers[1], slot));
    case TypeId::kFloat64:
      return Load<double>(array.buffers[1], slot);
    case TypeId::kDecimal128:
      return Int128Text(array.buffers[1].data + slot * 16);
    case TypeId::kUtf8:
    case TypeId::kBinary:
    case TypeId::kLargeUtf8:
    case TypeId::kLargeBinary: {
      const bool large = HasOffsets64(type.id);
      const int64_t start =
          large ? Load<int64_t>(array.buffers[1], slot) : Load<int32_t>(array.buffers[1], slot);
      const int64_t end = large ? Load<int64_t>(array.buffers[1], slot + 1)
                                : Load<int32_t>(array.buffers[1], slot + 1);
      const uint8_t *data = array.buffers[2].data + start;
      if (type.id == TypeId::kUtf8 || type.id == TypeId::kLargeUtf8) {
        return std::string(reinterpret_cast<const char *>(data), static_cast<size_t>(end - start));
      }
      return Hex(data, static_cast<size_t>(end - start));
    }
    case TypeId::kList:
    case TypeId::kMap: {
      nlohmann::json items = nlohmann::json::array();
      const ArrayData &child = array.children[0];
      const DataType &child_type = type.children[0].type;
      for (int32_t i = Load<int32_t>(array.buffers[1], slot);
           i < Load<int32_t>(array.buffers[1], slot + 1); ++i) {
        if (type.id == TypeId::kList) {
          items.push_back(Value(child_type, child, child.offset + i));
          continue;
        }
        nlohmann::json pair = nlohmann::json::array();  // a map entry as [key, value]
        for (size_t k = 0; k < 2; ++k) {
          const ArrayData &part = child.children[k];
          pair.push_back(Value(child_type.children[k].type, part, part.offset + child.offset + i));
        }
        items.push_back(std::move(pair));
      }
      return items;
    }
    case TypeId::kStruct: {
      nlohmann::json object = nlohmann::json::object();
      for (size_t i = 0; i < type.children.size(); ++i) {
        const ArrayData &child = array.children[i];
        object[type.children[i].name] = Value(type.children[i].type, child, child.offset + slot);
      }
      return object;
    }
  }
  return nullptr;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void zbt_free(void *pointer) {
  std::free(pointer);
}

// Imports `schema` (borrowed) and `array` (moved: released by us), encodes them as an IPC stream.
__attribute__((visibility("default"))) int zbt_encode_c_data(ArrowSchema *schema, ArrowArray *array,
                                                             int codec, uint8_t **out,
                                                             size_t *out_size, char **error) {
  CDataSchema imported;
  Status status = CDataSchema::Import(*schema, &imported);
  if (!status.ok()) {
    if (array->release) array->release(array);
    return Fail(status, error);
  }
  RecordBatch batch;
  status = ImportRecordBatch(array, imported, &batch);
  if (status.ok()) status = WriteStream(imported.schema(), {batch}, codec, out, out_size);
  return status.ok() ? 0 : Fail(status, error);
}

// Takes `stream` (moved: released by us) and encodes all of its batches as one IPC stream.
__attribute__((visibility("default"))) int zbt_encode_c_stream(ArrowArrayStream *stream, int codec,
                                                               uint8_t **out, size_t *out_size,
                                                               char **error) {
  Schema schema;
  std::vector<RecordBatch> batches;
  Status status = ImportStream(stream, [&](const CDataSchema &imported, RecordBatch batch) {
    schema = imported.schema();
    batches.push_back(std::move(batch));
    return Status::Ok();
  });
  if (status.ok()) status = WriteStream(schema, batches, codec, out, out_size);
  return status.ok() ? 0 : Fail(status, error);
}

// Decodes an IPC stream or file and renders it as JSON: {"schema": [[name, type, nullable]...],
// "batches": [[row, ...], ...]} with each row a list of column values.
__attribute__((visibility("default"))) int zbt_ipc_to_json(const uint8_t *bytes, size_t size,
                                                           char **json, char **error) {
  Schema schema;
  std::vector<RecordBatch> batches;
  const Buffer input = CopiedInput(bytes, size);
  Status status = IsIpcFile(input) ? ReadIpcFile(input, ReadLimits{}, &schema, &batches)
                                   : ReadIpcStream(input, ReadLimits{}, &schema, &batches);
  if (!status.ok()) return Fail(status, error);
  nlohmann::json out;
  out["schema"] = nlohmann::json::array();
  for (const Field &field : schema.fields) {
    out["schema"].push_back({field.name, TypeToString(field.type), field.nullable});
  }
  out["batches"] = nlohmann::json::array();
  for (const RecordBatch &batch : batches) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t row = 0; row < batch.length; ++row) {
      nlohmann::json values = nlohmann::json::array();
      for (size_t c = 0; c < schema.fields.size(); ++c) {
        const ArrayData &column = batch.columns[c];
        values.push_back(Value(schema.fields[c].type, column, column.offset + row));
      }
      rows.push_back(std::move(values));
    }
    out["batches"].push_back(std::move(rows));
  }
  *json = Copy(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return 0;
}

// Decodes an IPC stream and encodes what it decoded again, with `codec`.
__attribute__((visibility("default"))) int zbt_ipc_reencode(const uint8_t *bytes, size_t size,
                                                            int codec, uint8_t **out,
                                                            size_t *out_size, char **error) {
  Schema schema;
  std::vector<RecordBatch> batches;
  Status status = ReadIpcStream(CopiedInput(bytes, size), ReadLimits{}, &schema, &batches);
  if (status.ok()) status = WriteStream(schema, batches, codec, out, out_size);
  return status.ok() ? 0 : Fail(status, error);
}

}  // extern "C"
