// JSON records turned into the protobuf messages that BuildDescriptor() describes, so that a
// protobuf stream can be fed JSON without a .proto or generated code.
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
// A nullable column may be absent or null; a NOT NULL one must have a value. An absent ARRAY
// or MAP reaches the table as empty rather than NULL: repeated fields have no presence. Keys that
// name no column are refused, as the service refuses them; so is what ParseJson() refuses (a key
// twice, a NUL byte, nesting past kMaxJsonDepth), two keys for one column, a FLOAT past float's
// range and a date or time outside the years 0001-9999 (value_checks.h).
#ifndef ZEROBUS_TABLE_JSON_ENCODER_H
#define ZEROBUS_TABLE_JSON_ENCODER_H

#include <string>
#include <string_view>

#include "table/delta_type.h"
#include "table/json_value.h"

namespace zerobus::table {

// Thread-safe: Encode() only reads the table, which must outlive the encoder and not change.
class JsonEncoder {
 public:
  explicit JsonEncoder(const TableSchema *table) : table_(table), fields_(table->columns) {}

  // Appends the protobuf encoding of the JSON object `record` to `*out`. On failure returns
  // false, leaves `*out` as it was and says why in `*error`, naming the column (a path such as
  // "column 'loc.lat'" or "column 'tags[2]'").
  bool Encode(std::string_view record, std::string *out, std::string *error) const;

 private:
  const TableSchema *table_;
  const FieldLookup fields_;
};

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_JSON_ENCODER_H
