#include "table/json_record_reader.h"

#include <charconv>
#include <limits>

#include <absl/time/time.h>
#include <nlohmann/json.hpp>

#include "table/value_checks.h"

namespace zerobus::table {
namespace {

using nlohmann::json;

constexpr int64_t kSecondsPerDay = 86400;

bool ParseInteger(std::string_view text, int64_t *value) {
  const char *end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, *value);
  return !text.empty() && result.ec == std::errc() && result.ptr == end;
}

// RFC 3339 with a zone (TIMESTAMP), or a zone-less wall-clock time (TIMESTAMP_NTZ), read as
// microseconds since the epoch. A space may stand for the 'T'.
bool ParseTimestamp(std::string text, bool zoned, int64_t *micros) {
  if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
  absl::Time time;
  std::string ignored;
  const bool parsed =
      zoned ? absl::ParseTime(absl::RFC3339_full, text, &time, &ignored)
            : absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S", text, absl::UTCTimeZone(), &time, &ignored);
  if (!parsed) return false;
  *micros = absl::ToUnixMicros(time);
  return true;
}

bool ParseDate(const std::string &text, int64_t *days) {
  absl::Time time;
  std::string ignored;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &ignored)) return false;
  *days = absl::ToUnixSeconds(time) / kSecondsPerDay;  // midnight: an exact multiple
  return true;
}

class Reader {
 public:
  Reader(const TableSchema &table, const FieldLookup &lookup, RecordWriter *writer)
      : table_(table), lookup_(lookup), writer_(writer) {}

  bool Record(std::string_view text) {
    json record;
    if (!ParseJson(text, &record, &error_)) {
      error_ = "record " + error_;
      return false;
    }
    if (!record.is_object()) {
      error_ = "record is not a JSON object, " + DescribeJson(record);
      return false;
    }
    return Fields(record, table_.columns, "");
  }

  const std::string &error() const { return error_; }

 private:
  bool Fail(const std::string &path, const std::string &what) {
    error_ = "column '" + path + "': " + what;
    return false;
  }

  // The record's columns (`path` empty), or the fields of the STRUCT at `path`.
  bool Fields(const json &object, const std::vector<DeltaField> &fields, const std::string &path) {
    std::vector<const json *> values;
    error_ = MatchMembers(object, fields, lookup_, path, table_.full_name, &values);
    if (!error_.empty()) return false;
    for (size_t i = 0; i < fields.size(); ++i) {
      const DeltaField &field = fields[i];
      const std::string field_path = path.empty() ? field.name : path + "." + field.name;
      if (values[i] == nullptr || values[i]->is_null()) {
        if (!field.nullable) return Fail(field_path, "is NOT NULL but the record has no value");
        writer_->Null(i, field);
        continue;
      }
      writer_->Field(i, field);
      if (!Value(*values[i], field.type, field_path)) return false;
    }
    return true;
  }

  bool Value(const json &value, const DeltaType &type, const std::string &path) {
    if (type.kind == DeltaKind::kArray) {
      if (!value.is_array()) return Fail(path, "expected an array, " + DescribeJson(value));
      writer_->BeginArray(value.size());
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item = path + "[" + std::to_string(i) + "]";
        if (value[i].is_null()) return Fail(item, "array elements cannot be null");
        if (!Single(value[i], type.children[0], item)) return false;
      }
      writer_->EndArray();
      return true;
    }
    if (type.kind == DeltaKind::kMap) {
      if (!value.is_object()) return Fail(path, "expected an object, " + DescribeJson(value));
      writer_->BeginMap(value.size());
      for (const auto &item : value.items()) {
        const std::string item_path = path + "[\"" + Excerpt(item.key()) + "\"]";
        writer_->BeginEntry();
        if (!MapKey(item.key(), type.children[0], item_path)) return false;
        if (item.value().is_null()) return Fail(item_path, "a map value cannot be null");
        if (!Single(item.value(), type.children[1], item_path)) return false;
        writer_->EndEntry();
      }
      writer_->EndMap();
      return true;
    }
    return Single(value, type, path);
  }

  // JSON object keys are strings: an integer or BOOLEAN key is read from its text.
  bool MapKey(const std::string &key, const DeltaType &type, const std::string &path) {
    if (type.kind == DeltaKind::kBoolean) {
      if (key != "true" && key != "false") {
        return Fail(path, "a BOOLEAN map key must be \"true\" or \"false\"");
      }
      return Single(json(key == "true"), type, path);
    }
    return Single(json(key), type, path);
  }

  // One value that is not an ARRAY or MAP: an element, a key or value, a field.
  bool Single(const json &value, const DeltaType &type, const std::string &path) {
    switch (type.kind) {
      case DeltaKind::kString:
      case DeltaKind::kVarchar:
      case DeltaKind::kChar: {
        if (!value.is_string()) return Fail(path, "expected a string, " + DescribeJson(value));
        const std::string &text = value.get_ref<const std::string &>();
        const std::string problem = CheckText(type, text);
        if (!problem.empty()) return Fail(path, problem);
        writer_->Text(text, type);
        return true;
      }
      case DeltaKind::kBoolean:
        if (!value.is_boolean()) {
          return Fail(path, "expected true or false, " + DescribeJson(value));
        }
        writer_->Boolean(value.get<bool>());
        return true;
      case DeltaKind::kTinyint:
      case DeltaKind::kSmallint:
      case DeltaKind::kInt:
      case DeltaKind::kBigint:
      case DeltaKind::kDate:
      case DeltaKind::kTimestamp:
      case DeltaKind::kTimestampNtz: {
        int64_t integer = 0;
        if (!Integer(value, type, path, &integer)) return false;
        writer_->Integer(integer, type);
        return true;
      }
      case DeltaKind::kFloat:
      case DeltaKind::kDouble: {
        double real = 0;
        if (!Real(value, type, path, &real)) return false;
        writer_->Real(real, type);
        return true;
      }
      case DeltaKind::kDecimal: {
        if (!value.is_string() && !value.is_number()) {
          return Fail(path, "DECIMAL values are strings such as \"12.30\", " + DescribeJson(value));
        }
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        const std::string problem = CheckDecimal(type, text);
        if (!problem.empty()) return Fail(path, problem);
        writer_->Text(text, type);
        return true;
      }
      case DeltaKind::kBinary: {
        std::string bytes;
        if (!value.is_string() || !DecodeBase64(value.get_ref<const std::string &>(), &bytes)) {
          return Fail(path, "BINARY values are base64 strings, " + DescribeJson(value));
        }
        writer_->Bytes(bytes);
        return true;
      }
      case DeltaKind::kVariant: {
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        const std::string problem = CheckVariant(text);
        if (!problem.empty()) return Fail(path, problem);
        writer_->Text(text, type);
        return true;
      }
      case DeltaKind::kStruct: {
        if (!value.is_object()) return Fail(path, "expected an object, " + DescribeJson(value));
        writer_->BeginStruct();
        if (!Fields(value, type.fields, path)) return false;
        writer_->EndStruct();
        return true;
      }
      case DeltaKind::kArray:
      case DeltaKind::kMap:
        break;  // UnsupportedNesting() keeps these out of elements, keys and values
    }
    return Fail(path, "has a type that cannot be encoded: " + TypeText(type));
  }

  bool Integer(const json &value, const DeltaType &type, const std::string &path,
               int64_t *integer) {
    const bool is_time =
        type.kind == DeltaKind::kTimestamp || type.kind == DeltaKind::kTimestampNtz;
    if (value.is_number_unsigned()) {
      if (value.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
        return Fail(path, value.dump() + " is out of range for " + TypeText(type));
      }
      *integer = static_cast<int64_t>(value.get<uint64_t>());
    } else if (value.is_number_integer()) {
      *integer = value.get<int64_t>();
    } else if (!value.is_string()) {
      return Fail(path,
                  type.kind == DeltaKind::kDate
                      ? "DATE values are integer days or \"YYYY-MM-DD\", " + DescribeJson(value)
                  : is_time ? "TIMESTAMP values are integer microseconds or RFC 3339 text, " +
                                  DescribeJson(value)
                            : "expected an integer, " + DescribeJson(value));
    } else if (!ParseInteger(value.get_ref<const std::string &>(), integer)) {
      const std::string &text = value.get_ref<const std::string &>();
      if (type.kind == DeltaKind::kDate) {
        if (!ParseDate(text, integer)) {
          return Fail(path, "'" + Excerpt(text) + "' is not a date of the form YYYY-MM-DD");
        }
      } else if (type.kind == DeltaKind::kTimestamp) {
        if (!ParseTimestamp(text, /*zoned=*/true, integer)) {
          return Fail(path, "'" + Excerpt(text) +
                                "' is not an RFC 3339 timestamp with a zone, such as "
                                "2026-11-24T09:30:00Z");
        }
      } else if (type.kind == DeltaKind::kTimestampNtz) {
        if (!ParseTimestamp(text, /*zoned=*/false, integer)) {
          return Fail(path, "'" + Excerpt(text) +
                                "' is not a timestamp without a zone, such as "
                                "2026-11-24T09:30:00.123456");
        }
      } else {
        return Fail(path, "expected an integer, " + DescribeJson(value));
      }
    }
    const std::string problem = CheckIntegerRange(type, *integer);
    return problem.empty() || Fail(path, problem);
  }

  bool Real(const json &value, const DeltaType &type, const std::string &path, double *real) {
    if (value.is_number()) {
      *real = value.get<double>();
      const std::string problem = CheckRealRange(type, *real);
      return problem.empty() || Fail(path, problem);
    }
    if (value == "NaN") {
      *real = std::numeric_limits<double>::quiet_NaN();
    } else if (value == "Infinity") {
      *real = std::numeric_limits<double>::infinity();
    } else if (value == "-Infinity") {
      *real = -std::numeric_limits<double>::infinity();
    } else {
      return Fail(path, "expected a number, " + DescribeJson(value));
    }
    return true;
  }

  const TableSchema &table_;
  const FieldLookup &lookup_;
  RecordWriter *writer_;
  std::string error_;
};

}  // namespace

bool ReadJsonRecord(const TableSchema &table, const FieldLookup &lookup, std::string_view record,
                    RecordWriter *writer, std::string *error) {
  Reader reader(table, lookup, writer);
  if (reader.Record(record)) return true;
  *error = reader.error();
  return false;
}

}  // namespace zerobus::table
