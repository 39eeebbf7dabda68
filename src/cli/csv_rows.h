// Turns CSV rows into JSON records of a table, typed by the table's protobuf descriptor, for
// the library's JSON encoder (docs/SCHEMAS.md, "JSON records") to check and encode.
#ifndef ZEROBUS_CLI_CSV_ROWS_H
#define ZEROBUS_CLI_CSV_ROWS_H

#include <string>
#include <vector>

#include "cli/record_readers.h"

namespace zerobus::cli {

// Immutable once made: safe to share between threads.
class CsvRowConverter {
 public:
  // Reads the columns of the table from its serialized DescriptorProto and matches the CSV
  // header against them (regardless of case, as Delta matches names). Returns "" or what is
  // wrong: a descriptor that does not parse, a header naming no column, a column named twice.
  std::string Init(const void *descriptor, size_t len, const std::vector<CsvField> &header);

  // The row as a JSON object, each field under its header's name:
  //  - an empty field without quotes is NULL and left out; "" is the empty string;
  //  - BOOLEAN fields are true or false (any case) and become JSON booleans;
  //  - FLOAT and DOUBLE fields that are numbers become JSON numbers (NaN, Infinity and
  //    -Infinity stay text, as the encoder takes them);
  //  - ARRAY, MAP and STRUCT fields hold JSON text, parsed here;
  //  - every other field stays text: the encoder reads integers, DATE and TIMESTAMP text,
  //    DECIMAL and base64 BINARY from strings, and names the column when one is wrong.
  // Returns "" or what is wrong with the row (a field count that differs from the header's, a
  // nested field that is not JSON).
  std::string ToJson(const std::vector<CsvField> &row, std::string *json) const;

 private:
  enum class Kind { kText, kReal, kBoolean, kJson };
  struct Column {
    std::string name;
    Kind kind;
  };
  std::vector<Column> columns_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_CSV_ROWS_H
