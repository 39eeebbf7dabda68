// Tables declared on the command line for a local server (`zerobus serve --table`,
// `zerobus ingest --table-ddl`, and `--schema-file` for both).
#ifndef ZEROBUS_CLI_TABLE_DECLARATIONS_H
#define ZEROBUS_CLI_TABLE_DECLARATIONS_H

#include <string>
#include <vector>

#include "table/delta_type.h"

namespace zerobus::cli {

// Appends the table of one DDL statement to `tables`; returns "" or what is wrong with it.
std::string DeclareTable(const std::string &ddl, std::vector<table::TableSchema> *tables);

// Appends the tables of the file at `path` (one DDL statement per line, or statements ending in
// ';'; '--' starts a comment); returns "" or why the file cannot be read or parsed.
std::string DeclareTablesFromFile(const std::string &path, std::vector<table::TableSchema> *tables);

// Returns "" when no two of `tables` have the same name (names compare regardless of case, as
// Unity Catalog compares them), else a message naming the table declared twice.
std::string CheckDistinctNames(const std::vector<table::TableSchema> &tables);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_TABLE_DECLARATIONS_H
