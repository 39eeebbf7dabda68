// Turns the records of a stream into rows of its table, refusing what the service refuses.
// One decoder per stream; a decoder is used by one thread at a time.
#ifndef ZEROBUS_SERVER_RECORD_DECODER_H
#define ZEROBUS_SERVER_RECORD_DECODER_H

#include <memory>
#include <string>
#include <string_view>

#include "server/descriptor_check.h"
#include "server/row.h"
#include "table/avro_schema.h"
#include "table/delta_type.h"

namespace zerobus::server {

class RecordDecoder {
 public:
  virtual ~RecordDecoder() = default;

  // Fills `*row` with one value per column of the table. On a bad record returns what is wrong,
  // naming the column ("column 'temp': ..."), and leaves `*row` unspecified.
  virtual std::string Decode(std::string_view record, Row *row) = 0;
};

// Records serialized with the stream's checked descriptor. `table` must outlive the decoder.
std::unique_ptr<RecordDecoder> NewProtoDecoder(const table::TableSchema &table,
                                               CheckedDescriptor descriptor);

// JSON objects keyed by column name, encoded as zerobus-service.md §4.2 says: DATE as integer
// days, TIMESTAMP as integer microseconds, BINARY as base64, DECIMAL as a string, BIGINT as a
// number or a string of digits. `table` must outlive the decoder.
std::unique_ptr<RecordDecoder> NewJsonDecoder(const table::TableSchema &table);

// Raw Avro datums of the stream's writer schema, as ResolveAvroSchema() checked it against
// `table`, which must outlive the decoder.
std::unique_ptr<RecordDecoder> NewAvroDecoder(const table::TableSchema &table,
                                              table::AvroPlan plan);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_RECORD_DECODER_H
