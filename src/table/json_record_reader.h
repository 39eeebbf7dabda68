// The one reading of a JSON record against a table, from which every binary form of the record
// is written (protobuf by json_encoder, Avro by avro_encoder): the record's values, checked and
// converted, handed to a RecordWriter in the table's column order.
//
// A record is one JSON object whose keys are column names (matched as Delta matches them,
// ignoring case). Values follow the service's JSON encoding (zerobus-service.md §4.2), and
// also take the forms a producer has at hand:
// - DATE: integer days since 1970-01-01, or "YYYY-MM-DD";
// - TIMESTAMP: integer microseconds since the epoch, or RFC 3339 text with a zone
//   ("2026-11-24T09:30:00.25Z", "...+01:00"); a zone-less text is refused rather than guessed;
// - TIMESTAMP_NTZ: integer microseconds, or "YYYY-MM-DDTHH:MM:SS[.ffffff]" without a zone;
// - integer columns: JSON integers, or their digits in a string (BIGINT past 2^53 needs it);
// - FLOAT / DOUBLE: numbers, or "NaN", "Infinity", "-Infinity";
// - DECIMAL: a string such as "12.30" (kept as written), or a JSON number;
// - BINARY: standard base64 with padding;
// - VARIANT: a string holding JSON text, or any other JSON value (written out as its text);
// - STRUCT: an object; ARRAY: an array without nulls; MAP: an object whose keys are the map
//   keys (digits for integer keys, "true" / "false" for BOOLEAN ones), values never null.
// A nullable column may be absent or null; a NOT NULL one must have a value. Keys that name no
// column are refused, as the service refuses them; so is what ParseJson() refuses (a key twice,
// a NUL byte, nesting past kMaxJsonDepth), two keys for one column, a FLOAT past float's range
// and a date or time outside the years 0001-9999 (value_checks.h).
#ifndef ZEROBUS_TABLE_JSON_RECORD_READER_H
#define ZEROBUS_TABLE_JSON_RECORD_READER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "table/delta_type.h"
#include "table/json_value.h"

namespace zerobus::table {

// Receives a record's values as ReadJsonRecord() reads them. A record is its columns in the
// table's order, a STRUCT its fields in order: each field is either Null() or Field() followed
// by its value. A value is one scalar call, or a nested value: BeginStruct() fields
// EndStruct(); BeginArray(n) n values EndArray(); BeginMap(n) n entries EndMap(), each entry
// BeginEntry() key value EndEntry(), the key being a scalar. A read that fails stops in the
// middle: what the writer made of the record is then to be thrown away.
class RecordWriter {
 public:
  virtual ~RecordWriter() = default;

  // Field `index` of the record or STRUCT at hand has no value (absent or null; nullable).
  virtual void Null(size_t index, const DeltaField &field) = 0;
  // Field `index` has a value, which comes next.
  virtual void Field(size_t index, const DeltaField &field) = 0;

  virtual void Boolean(bool value) = 0;
  // An integer column, DATE (days) or TIMESTAMP / TIMESTAMP_NTZ (microseconds), in range.
  virtual void Integer(int64_t value, const DeltaType &type) = 0;
  // A FLOAT (one that fits a float) or DOUBLE.
  virtual void Real(double value, const DeltaType &type) = 0;
  // STRING, VARCHAR, CHAR (checked text), DECIMAL (text that fits the type) or VARIANT (JSON
  // text).
  virtual void Text(std::string_view text, const DeltaType &type) = 0;
  // BINARY.
  virtual void Bytes(std::string_view bytes) = 0;

  virtual void BeginStruct() = 0;
  virtual void EndStruct() = 0;
  virtual void BeginArray(size_t count) = 0;
  virtual void EndArray() = 0;
  virtual void BeginMap(size_t count) = 0;
  virtual void EndMap() = 0;
  virtual void BeginEntry() = 0;
  virtual void EndEntry() = 0;
};

// Reads the JSON object `record` against `table` (whose `lookup` finds its columns and fields
// by name), handing its values to `writer`. On failure returns false and says why in
// `*error`, naming the column (a path such as "column 'loc.lat'" or "column 'tags[2]'").
bool ReadJsonRecord(const TableSchema &table, const FieldLookup &lookup, std::string_view record,
                    RecordWriter *writer, std::string *error);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_JSON_RECORD_READER_H
