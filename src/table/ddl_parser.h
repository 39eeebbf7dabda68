// Table definitions in Delta DDL, as users write them for `zerobus serve --table` and schema
// files:
//
//   [CREATE TABLE [IF NOT EXISTS]] main.default.events (
//     id BIGINT NOT NULL COMMENT 'primary key', device STRING, temp DOUBLE, ts TIMESTAMP,
//     tags ARRAY<STRING>, attrs MAP<STRING,STRING>, loc STRUCT<lat: DOUBLE, lon: DOUBLE>
//   ) [USING DELTA] [;]
//
// Keywords are case-insensitive; identifiers may be quoted in backticks but must still follow
// the service's rules (ASCII letters, digits and '_'; a column does not start with a digit).
#ifndef ZEROBUS_TABLE_DDL_PARSER_H
#define ZEROBUS_TABLE_DDL_PARSER_H

#include <string>
#include <string_view>
#include <vector>

#include "table/delta_type.h"

namespace zerobus::table {

// Parses one statement. On failure returns false and says what and where in `*error`.
bool ParseTableDdl(std::string_view ddl, TableSchema *table, std::string *error);

// Parses one column type as DDL and Unity Catalog's type_text spell it ("bigint",
// "decimal(10,2)", "array<struct<a:int>>"), Spark's primitive names of type_json ("long",
// "integer", "short", "byte") included. On failure returns false and says why in `*error`.
bool ParseTypeText(std::string_view text, DeltaType *type, std::string *error);

// Parses a schema file: statements separated by ';', or one per line when a statement fits on
// its line; `--` starts a comment. Fails on the first bad statement (naming its line) and on a
// table defined twice.
bool ParseSchemaText(std::string_view text, std::vector<TableSchema> *tables, std::string *error);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_DDL_PARSER_H
