// JSON records turned into Avro datums of the writer schema AvroSchemaFor() gives the table, so
// that an AVRO stream opened from a table's schema can be fed JSON as a protobuf one can. The
// forms a record's values may take, and what is refused, are json_record_reader.h's.
#ifndef ZEROBUS_TABLE_AVRO_ENCODER_H
#define ZEROBUS_TABLE_AVRO_ENCODER_H

#include <string>
#include <string_view>

#include "table/delta_type.h"
#include "table/json_value.h"

namespace zerobus::table {

// Thread-safe: Encode() only reads the table, which must outlive the encoder, not change, and
// have an Avro form (AvroSchemaFor() succeeds for it).
class AvroJsonEncoder {
 public:
  explicit AvroJsonEncoder(const TableSchema *table) : table_(table), fields_(table->columns) {}

  // Appends the Avro datum of the JSON object `record` to `*out`. On failure returns false,
  // leaves `*out` as it was and says why in `*error`, naming the column.
  bool Encode(std::string_view record, std::string *out, std::string *error) const;

 private:
  const TableSchema *table_;
  const FieldLookup fields_;
};

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_AVRO_ENCODER_H
