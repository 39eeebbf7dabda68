// Arrow record batches of a Flight stream turned into rows of its table, checked as the other
// record formats are (record_decoder.h), and stored the same way: nested columns as JSON text,
// DECIMAL as its text, DATE as days and TIMESTAMP as microseconds.
#ifndef ZEROBUS_SERVER_ARROW_ROWS_H
#define ZEROBUS_SERVER_ARROW_ROWS_H

#include <cstddef>
#include <string>
#include <vector>

#include "arrow/model.h"
#include "server/row.h"
#include "table/delta_type.h"

namespace zerobus::server {

// Where each Arrow field goes in the table: column[i] is the table column of field i.
struct ArrowColumnPlan {
  std::vector<size_t> column;
};

// Checks a stream's Arrow schema against `table`: every field names a column (case-insensitively,
// at most once) and has a type that column accepts (arrow::AcceptsArrowType), and every NOT NULL
// column has a field. On a mismatch returns what is wrong, naming the column and, for a type,
// both types; the columns without a field are stored as nulls.
std::string PlanArrowColumns(const table::TableSchema &table, const arrow::Schema &schema,
                             ArrowColumnPlan *plan);

// Appends the rows of `batch` (of the schema `plan` was made for) to `*rows`. On a value the
// table refuses (a null in a NOT NULL column, text that is not UTF-8 or too long, a number out
// of the column's range, a null array element or map value) returns what is wrong, naming the
// row and the column, and leaves `*rows` unspecified.
std::string ArrowBatchRows(const table::TableSchema &table, const arrow::Schema &schema,
                           const ArrowColumnPlan &plan, const arrow::RecordBatch &batch,
                           std::vector<Row> *rows);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ARROW_ROWS_H
