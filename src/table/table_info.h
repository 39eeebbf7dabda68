// Tables as Unity Catalog describes them: the TableInfo JSON of
// GET /api/2.1/unity-catalog/tables/{full_name} (zerobus-service.md §5).
#ifndef ZEROBUS_TABLE_TABLE_INFO_H
#define ZEROBUS_TABLE_TABLE_INFO_H

#include <string>
#include <string_view>

#include "table/delta_type.h"

namespace zerobus::table {

// Parses a TableInfo into `table`. Each column's type comes from its type_json (a Spark
// StructField, or a bare type, held in a JSON string), which alone describes nested types
// completely; a column without type_json falls back to its type_text. Columns are taken in
// `position` order. Refuses, saying why in `*error`: text that is not a JSON object, a table
// that is not a Delta table, a missing or malformed name or column, a type the service cannot
// map, more than kMaxColumns columns, nesting deeper than kMaxNestingDepth.
bool ParseTableInfo(std::string_view json, TableSchema *table, std::string *error);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_TABLE_INFO_H
