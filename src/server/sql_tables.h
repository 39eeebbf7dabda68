// How Zerobus tables look in SQLite, shared by the store that writes them and by
// `zerobus rows` that reads them: one SQL table per Zerobus table, named by its full name, and
// a catalog table `_zerobus_tables` recording each table's Delta columns.
//
// A declared table has one SQL column per Delta column: integers, BOOLEAN (0/1), DATE (days)
// and TIMESTAMP (microseconds) as INTEGER, FLOAT/DOUBLE as REAL, BINARY as BLOB, everything
// else as TEXT, with ARRAY, MAP and STRUCT values as JSON text. An undeclared table keeps each
// record as it arrived in `_record` (BLOB) with `_json` saying whether it is JSON.
#ifndef ZEROBUS_SERVER_SQL_TABLES_H
#define ZEROBUS_SERVER_SQL_TABLES_H

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "table/delta_type.h"

struct sqlite3;

namespace zerobus::server {

constexpr char kCatalogTable[] = "_zerobus_tables";

// "name" with inner quotes doubled.
std::string QuoteIdentifier(const std::string &name);

// What `_zerobus_tables.columns` holds for a table: a JSON array of {"name", "type"} (type_text)
// for a declared table, "null" for an undeclared one.
std::string ColumnsDescription(const table::TableSchema *schema);

// The CREATE TABLE statement for a table (schema null: undeclared).
std::string CreateTableSql(const std::string &table, const table::TableSchema *schema);

// Reads up to `limit` rows (all when negative) of `table` starting at row `offset` (0 = the
// first stored), each as one JSON object: nested values as JSON, BINARY as base64, BOOLEAN as
// true/false; an undeclared table's records as {"json": <object>} or {"proto_base64": "..."}.
// False with the reason in `*error` when the table is not in the database.
bool ReadRows(sqlite3 *db, const std::string &table, int64_t offset, int64_t limit,
              std::vector<nlohmann::json> *rows, std::string *error);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_SQL_TABLES_H
