// A declared table in the shape of Unity Catalog's TableInfo, as
// GET /api/2.1/unity-catalog/tables/{full_name} returns it (zerobus-service.md §5): columns
// with position, nullable, type_name, type_text, type_precision/scale, and type_json, a string
// holding the column as a Spark StructField.
#ifndef ZEROBUS_SERVER_UC_TABLE_JSON_H
#define ZEROBUS_SERVER_UC_TABLE_JSON_H

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "table/delta_type.h"

namespace zerobus::server {

// The Spark StructField of one column or STRUCT field: {"name", "type", "nullable",
// "metadata"}, where "type" is a primitive name ("long", "decimal(10,2)") or an object for
// ARRAY, MAP and STRUCT.
nlohmann::json StructFieldJson(const table::DeltaField &field);

// The TableInfo of `table`. `storage_location` and `created_at` (epoch ms) fill the fields of
// the same names.
nlohmann::json TableInfoJson(const table::TableSchema &table, const std::string &storage_location,
                             int64_t created_at);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_UC_TABLE_JSON_H
