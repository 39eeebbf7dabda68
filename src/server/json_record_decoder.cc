// JSON records: one object per record, keys are column names, values encoded as the service
// expects them (zerobus-service.md §4.2).
#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

#include "server/record_decoder.h"
#include "server/row_json.h"
#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using nlohmann::json;

std::string At(const std::string &path, const std::string &what) {
  return "column '" + path + "': " + what;
}

// A whole number written as digits, as big BIGINT values travel to keep their precision.
bool ParseInteger(const std::string &text, int64_t *value) {
  const char *end = text.data() + text.size();
  auto result = std::from_chars(text.data(), end, *value);
  return result.ec == std::errc() && result.ptr == end && !text.empty();
}

std::string Scalar(const json &value, const table::DeltaType &type, const std::string &path,
                   SqlValue *out) {
  switch (type.kind) {
    case table::DeltaKind::kString:
    case table::DeltaKind::kVarchar:
    case table::DeltaKind::kChar: {
      if (!value.is_string()) return At(path, "expected a string, " + table::DescribeJson(value));
      const std::string &text = value.get_ref<const std::string &>();
      std::string error = table::CheckText(type, text);
      if (!error.empty()) return At(path, error);
      *out = SqlValue::Text(text);
      return "";
    }
    case table::DeltaKind::kBoolean:
      if (!value.is_boolean())
        return At(path, "expected true or false, " + table::DescribeJson(value));
      *out = SqlValue::Integer(value.get<bool>() ? 1 : 0);
      return "";
    case table::DeltaKind::kTinyint:
    case table::DeltaKind::kSmallint:
    case table::DeltaKind::kInt:
    case table::DeltaKind::kBigint:
    case table::DeltaKind::kDate:
    case table::DeltaKind::kTimestamp:
    case table::DeltaKind::kTimestampNtz: {
      int64_t number = 0;
      if (value.is_number_unsigned()) {
        if (value.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
          return At(path, value.dump() + " is out of range for " + table::TypeText(type));
        }
        number = static_cast<int64_t>(value.get<uint64_t>());
      } else if (value.is_number_integer()) {
        number = value.get<int64_t>();
      } else if (value.is_string() && type.kind == table::DeltaKind::kBigint &&
                 ParseInteger(value.get<std::string>(), &number)) {
        // Past 2^53 a BIGINT must be sent as a string to survive JSON number parsers.
      } else if (type.kind == table::DeltaKind::kDate) {
        return At(path,
                  "DATE values are integer days since 1970-01-01, " + table::DescribeJson(value));
      } else if (type.kind == table::DeltaKind::kTimestamp ||
                 type.kind == table::DeltaKind::kTimestampNtz) {
        return At(path, "TIMESTAMP values are integer microseconds since the epoch, " +
                            table::DescribeJson(value));
      } else {
        return At(path, "expected an integer, " + table::DescribeJson(value));
      }
      std::string error = table::CheckIntegerRange(type, number);
      if (!error.empty()) return At(path, error);
      *out = SqlValue::Integer(number);
      return "";
    }
    case table::DeltaKind::kFloat:
    case table::DeltaKind::kDouble: {
      if (!value.is_number()) return At(path, "expected a number, " + table::DescribeJson(value));
      std::string error = table::CheckRealRange(type, value.get<double>());
      if (!error.empty()) return At(path, error);
      *out = SqlValue::Real(value.get<double>());
      return "";
    }
    case table::DeltaKind::kDecimal: {
      if (!value.is_string()) {
        return At(path,
                  "DECIMAL values are strings such as \"12.30\", " + table::DescribeJson(value));
      }
      std::string error = table::CheckDecimal(type, value.get_ref<const std::string &>());
      if (!error.empty()) return At(path, error);
      *out = SqlValue::Text(value.get<std::string>());
      return "";
    }
    case table::DeltaKind::kBinary: {
      std::string bytes;
      if (!value.is_string() ||
          !table::DecodeBase64(value.get_ref<const std::string &>(), &bytes)) {
        return At(path, "BINARY values are base64 strings, " + table::DescribeJson(value));
      }
      *out = SqlValue::Blob(std::move(bytes));
      return "";
    }
    case table::DeltaKind::kVariant:
      if (!value.is_string()) {
        return At(path,
                  "VARIANT values are strings holding JSON text, " + table::DescribeJson(value));
      }
      {
        std::string error = table::CheckVariant(value.get_ref<const std::string &>());
        if (!error.empty()) return At(path, error);
      }
      *out = SqlValue::Text(value.get<std::string>());
      return "";
    default:
      return At(path, "is not a scalar column");
  }
}

class JsonDecoder : public RecordDecoder {
 public:
  explicit JsonDecoder(const table::TableSchema &table) : table_(table), fields_(table.columns) {}

  std::string Decode(std::string_view record, Row *row) override {
    json object;
    std::string error;
    if (!table::ParseJson(record, &object, &error)) return "record " + error;
    if (!object.is_object()) return "record is not a JSON object";
    std::vector<const json *> values;
    error = table::MatchMembers(object, table_.columns, fields_, "", table_.full_name, &values);
    if (!error.empty()) return error;
    row->clear();
    row->reserve(table_.columns.size());
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      const table::DeltaField &column = table_.columns[i];
      SqlValue value;
      error = Column(values[i], column, column.name, &value);
      if (!error.empty()) return error;
      row->push_back(std::move(value));
    }
    return "";
  }

 private:
  std::string Column(const json *value, const table::DeltaField &column, const std::string &path,
                     SqlValue *out) {
    if (value == nullptr || value->is_null()) {
      if (!column.nullable) return At(path, "is NOT NULL but the record has no value");
      *out = SqlValue::Null();
      return "";
    }
    if (!table::IsComplex(column.type.kind)) return Scalar(*value, column.type, path, out);
    json normalized;
    std::string error = Nested(*value, column.type, path, &normalized);
    if (!error.empty()) return error;
    *out = SqlValue::Text(normalized.dump());
    return "";
  }

  // A value of any type inside a nested column, checked and rewritten in canonical form.
  std::string Value(const json &value, const table::DeltaType &type, const std::string &path,
                    json *out) {
    if (table::IsComplex(type.kind)) return Nested(value, type, path, out);
    SqlValue scalar;
    std::string error = Scalar(value, type, path, &scalar);
    if (error.empty()) *out = NestedJson(scalar);
    return error;
  }

  std::string Nested(const json &value, const table::DeltaType &type, const std::string &path,
                     json *out) {
    switch (type.kind) {
      case table::DeltaKind::kArray: {
        if (!value.is_array()) return At(path, "expected an array, " + table::DescribeJson(value));
        *out = json::array();
        for (size_t i = 0; i < value.size(); ++i) {
          const std::string item = path + "[" + std::to_string(i) + "]";
          if (value[i].is_null()) return At(item, "array elements cannot be null");
          json element;
          std::string error = Value(value[i], type.children[0], item, &element);
          if (!error.empty()) return error;
          out->push_back(std::move(element));
        }
        return "";
      }
      case table::DeltaKind::kMap: {
        if (!value.is_object())
          return At(path, "expected an object, " + table::DescribeJson(value));
        *out = json::object();
        for (const auto &item : value.items()) {
          const std::string item_path = path + "[\"" + table::Excerpt(item.key()) + "\"]";
          // Keys are always JSON strings; an integer or boolean key type checks their text.
          json key = item.key();
          const table::DeltaKind key_kind = type.children[0].kind;
          if (key_kind == table::DeltaKind::kBoolean) {
            if (item.key() != "true" && item.key() != "false") {
              return At(item_path, "a BOOLEAN map key must be \"true\" or \"false\"");
            }
          } else if (table::IsIntegral(key_kind)) {
            int64_t number;
            if (!ParseInteger(item.key(), &number) ||
                !table::CheckIntegerRange(type.children[0], number).empty()) {
              return At(item_path, "the map key is not a " + table::TypeText(type.children[0]));
            }
          } else {
            SqlValue ignored;
            std::string error = Scalar(key, type.children[0], item_path, &ignored);
            if (!error.empty()) return error;
          }
          if (item.value().is_null()) return At(item_path, "a map value cannot be null");
          json element;
          std::string error = Value(item.value(), type.children[1], item_path, &element);
          if (!error.empty()) return error;
          (*out)[item.key()] = std::move(element);
        }
        return "";
      }
      case table::DeltaKind::kStruct: {
        if (!value.is_object())
          return At(path, "expected an object, " + table::DescribeJson(value));
        std::vector<const json *> members;
        std::string error = table::MatchMembers(value, type.fields, fields_, path, "", &members);
        if (!error.empty()) return error;
        *out = json::object();
        for (size_t i = 0; i < type.fields.size(); ++i) {
          const table::DeltaField &field = type.fields[i];
          const std::string field_path = path + "." + field.name;
          const json *member = members[i];
          if (member == nullptr || member->is_null()) {
            if (!field.nullable) return At(field_path, "is NOT NULL but the record has no value");
            (*out)[field.name] = nullptr;
            continue;
          }
          json element;
          error = Value(*member, field.type, field_path, &element);
          if (!error.empty()) return error;
          (*out)[field.name] = std::move(element);
        }
        return "";
      }
      default:
        return Value(value, type, path, out);
    }
  }

  const table::TableSchema &table_;
  const table::FieldLookup fields_;
};

}  // namespace

std::unique_ptr<RecordDecoder> NewJsonDecoder(const table::TableSchema &table) {
  return std::make_unique<JsonDecoder>(table);
}

}  // namespace zerobus::server
