// JSON records turned into the protobuf messages that BuildDescriptor() describes, so that a
// protobuf stream can be fed JSON without a .proto or generated code. The forms a record's
// values may take, and what is refused, are json_record_reader.h's. An absent ARRAY or MAP
// reaches the table as empty rather than NULL: repeated fields have no presence.
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
