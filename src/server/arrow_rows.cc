#include "server/arrow_rows.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "arrow/bits.h"
#include "arrow/delta_mapping.h"
#include "server/row_json.h"
#include "table/avro_binary.h"
#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using arrow::ArrayData;
using arrow::DataType;
using arrow::TypeId;
using nlohmann::json;
using table::DeltaKind;
using table::DeltaType;

std::string At(const std::string &path, const std::string &what) {
  return "column '" + path + "': " + what;
}

// Slot `index` of `array` (its own offset applied), read without assuming alignment.
template <typename T>
T Fixed(const ArrayData &array, int64_t index) {
  T value;
  std::memcpy(&value, array.buffers[1].data + (array.offset + index) * sizeof(T), sizeof(T));
  return value;
}

bool IsNull(const ArrayData &array, int64_t index) {
  const uint8_t *validity = array.buffers.empty() ? nullptr : array.buffers[0].data;
  return validity != nullptr && !arrow::GetBit(validity, array.offset + index);
}

// The range [*begin, *end) of child slots (before the child's own offset) that list, map,
// string or binary slot `index` covers.
void Range(const ArrayData &array, TypeId id, int64_t index, int64_t *begin, int64_t *end) {
  if (arrow::HasOffsets64(id)) {
    *begin = Fixed<int64_t>(array, index);
    *end = Fixed<int64_t>(array, index + 1);
  } else {
    *begin = Fixed<int32_t>(array, index);
    *end = Fixed<int32_t>(array, index + 1);
  }
}

std::string_view Bytes(const ArrayData &array, TypeId id, int64_t index) {
  int64_t begin = 0;
  int64_t end = 0;
  Range(array, id, index, &begin, &end);
  return std::string_view(reinterpret_cast<const char *>(array.buffers[2].data) + begin,
                          static_cast<size_t>(end - begin));
}

// A non-null scalar at `index`, as SQLite stores it.
std::string Scalar(const ArrayData &array, const DataType &type, int64_t index,
                   const DeltaType &delta, const std::string &path, SqlValue *out) {
  int64_t integer = 0;
  switch (type.id) {
    case TypeId::kBoolean:
      *out = SqlValue::Integer(arrow::GetBit(array.buffers[1].data, array.offset + index) ? 1 : 0);
      return "";
    case TypeId::kInt8:
      integer = Fixed<int8_t>(array, index);
      break;
    case TypeId::kInt16:
      integer = Fixed<int16_t>(array, index);
      break;
    case TypeId::kInt32:
    case TypeId::kDate32:
      integer = Fixed<int32_t>(array, index);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestampMicros:
      integer = Fixed<int64_t>(array, index);
      break;
    case TypeId::kFloat32:
      *out = SqlValue::Real(Fixed<float>(array, index));
      return "";
    case TypeId::kFloat64:
      *out = SqlValue::Real(Fixed<double>(array, index));
      return "";
    case TypeId::kUtf8:
    case TypeId::kLargeUtf8: {
      const std::string_view text = Bytes(array, type.id, index);
      std::string error = table::CheckText(delta, text);
      if (!error.empty()) return At(path, error);
      *out = SqlValue::Text(std::string(text));
      return "";
    }
    case TypeId::kBinary:
    case TypeId::kLargeBinary:
      *out = SqlValue::Blob(std::string(Bytes(array, type.id, index)));
      return "";
    case TypeId::kDecimal128: {
      // Little-endian two's complement in Arrow; the table library reads the big-endian form.
      std::string unscaled(
          reinterpret_cast<const char *>(array.buffers[1].data) + (array.offset + index) * 16, 16);
      std::reverse(unscaled.begin(), unscaled.end());
      std::string text;
      if (!table::DecimalFromAvro(unscaled, delta.scale, &text)) {
        return At(path, "the decimal does not fit 38 digits");
      }
      std::string error = table::CheckDecimal(delta, text);
      if (!error.empty()) return At(path, error);
      *out = SqlValue::Text(std::move(text));
      return "";
    }
    default:
      return At(path, "is not a scalar column");
  }
  std::string error = table::CheckIntegerRange(delta, integer);
  if (!error.empty()) return At(path, error);
  *out = SqlValue::Integer(integer);
  return "";
}

std::string Nested(const ArrayData &array, const DataType &type, int64_t index,
                   const DeltaType &delta, const std::string &path, json *out);

// A non-null value of any type inside a nested column, as its JSON text holds it.
std::string Value(const ArrayData &array, const DataType &type, int64_t index,
                  const DeltaType &delta, const std::string &path, json *out) {
  if (table::IsComplex(delta.kind)) return Nested(array, type, index, delta, path, out);
  SqlValue scalar;
  std::string error = Scalar(array, type, index, delta, path, &scalar);
  if (error.empty()) *out = NestedJson(scalar);
  return error;
}

// A map key as the other record formats spell it in the JSON object: text as itself, a
// BOOLEAN as "true" or "false", a number as its digits.
std::string KeyText(const json &key) {
  if (key.is_string()) return key.get<std::string>();
  return key.dump();
}

std::string Nested(const ArrayData &array, const DataType &type, int64_t index,
                   const DeltaType &delta, const std::string &path, json *out) {
  const int64_t slot = array.offset + index;
  switch (delta.kind) {
    case DeltaKind::kArray: {
      int64_t begin = 0;
      int64_t end = 0;
      Range(array, type.id, index, &begin, &end);
      const ArrayData &items = array.children[0];
      const DataType &item_type = type.children[0].type;
      *out = json::array();
      for (int64_t i = begin; i < end; ++i) {
        const std::string item = path + "[" + std::to_string(i - begin) + "]";
        if (IsNull(items, i)) return At(item, "array elements cannot be null");
        json element;
        std::string error = Value(items, item_type, i, delta.children[0], item, &element);
        if (!error.empty()) return error;
        out->push_back(std::move(element));
      }
      return "";
    }
    case DeltaKind::kMap: {
      int64_t begin = 0;
      int64_t end = 0;
      Range(array, type.id, index, &begin, &end);
      // The entries struct has no nulls of its own (the decoder checks the map's layout).
      const ArrayData &entries = array.children[0];
      const DataType &entries_type = type.children[0].type;
      *out = json::object();
      for (int64_t i = begin; i < end; ++i) {
        const int64_t entry = entries.offset + i;
        json key;
        std::string error = Value(entries.children[0], entries_type.children[0].type, entry,
                                  delta.children[0], path + ".key", &key);
        if (!error.empty()) return error;
        const std::string key_text = KeyText(key);
        const std::string item = path + "[\"" + table::Excerpt(key_text) + "\"]";
        if (IsNull(entries.children[1], entry)) return At(item, "a map value cannot be null");
        json value;
        error = Value(entries.children[1], entries_type.children[1].type, entry, delta.children[1],
                      item, &value);
        if (!error.empty()) return error;
        (*out)[key_text] = std::move(value);
      }
      return "";
    }
    case DeltaKind::kStruct: {
      *out = json::object();
      for (size_t f = 0; f < delta.fields.size(); ++f) {
        const table::DeltaField &field = delta.fields[f];
        const std::string field_path = path + "." + field.name;
        // AcceptsArrowType paired the struct's fields with the Delta fields in order.
        const ArrayData &child = array.children[f];
        if (IsNull(child, slot)) {
          if (!field.nullable) return At(field_path, "is NOT NULL but the record has no value");
          (*out)[field.name] = nullptr;
          continue;
        }
        json element;
        std::string error =
            Value(child, type.children[f].type, slot, field.type, field_path, &element);
        if (!error.empty()) return error;
        (*out)[field.name] = std::move(element);
      }
      return "";
    }
    default:
      return Value(array, type, index, delta, path, out);
  }
}

}  // namespace

std::string PlanArrowColumns(const table::TableSchema &table, const arrow::Schema &schema,
                             ArrowColumnPlan *plan) {
  const table::FieldLookup lookup(table.columns);
  std::vector<bool> fed(table.columns.size(), false);
  plan->column.clear();
  for (const arrow::Field &field : schema.fields) {
    const table::DeltaField *column = lookup.Find(table.columns, field.name);
    if (column == nullptr) {
      return arrow::ColumnLabel(field.name) + " is not a column of " + table.full_name;
    }
    const auto index = static_cast<size_t>(column - table.columns.data());
    if (fed[index]) {
      return arrow::ColumnLabel(field.name) + " appears twice in the schema";
    }
    fed[index] = true;
    if (!arrow::AcceptsArrowType(column->type, field.type)) {
      arrow::DataType expected;
      std::string wanted = table::TypeText(column->type);
      if (arrow::ExpectedArrowType(column->type, column->name, &expected).ok()) {
        wanted += " (Arrow " + arrow::TypeToString(expected) + ")";
      }
      return "column '" + column->name + "' is " + wanted + " in " + table.full_name +
             " but the schema gives it the Arrow type " + arrow::TypeToString(field.type);
    }
    plan->column.push_back(index);
  }
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (!fed[i] && !table.columns[i].nullable) {
      return "column '" + table.columns[i].name +
             "' is NOT NULL and the schema has no field for it";
    }
  }
  return "";
}

std::string ArrowBatchRows(const table::TableSchema &table, const arrow::Schema &schema,
                           const ArrowColumnPlan &plan, const arrow::RecordBatch &batch,
                           std::vector<Row> *rows) {
  const size_t first = rows->size();
  rows->resize(first + static_cast<size_t>(batch.length),
               Row(table.columns.size(), SqlValue::Null()));
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    const table::DeltaField &column = table.columns[plan.column[f]];
    const ArrayData &array = batch.columns[f];
    const DataType &type = schema.fields[f].type;
    for (int64_t r = 0; r < batch.length; ++r) {
      SqlValue &value = (*rows)[first + static_cast<size_t>(r)][plan.column[f]];
      auto where = [r](const std::string &error) {
        return "row " + std::to_string(r) + " of the batch: " + error;
      };
      if (IsNull(array, r)) {
        if (!column.nullable) return where(At(column.name, "is NOT NULL but the row has no value"));
        continue;
      }
      std::string error;
      if (table::IsComplex(column.type.kind)) {
        json nested;
        error = Nested(array, type, r, column.type, column.name, &nested);
        if (error.empty()) value = SqlValue::Text(nested.dump());
      } else {
        error = Scalar(array, type, r, column.type, column.name, &value);
      }
      if (!error.empty()) return where(error);
    }
  }
  return "";
}

}  // namespace zerobus::server
