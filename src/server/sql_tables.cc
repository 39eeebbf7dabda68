#include "server/sql_tables.h"

#include <sqlite3.h>

#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

const char *SqlType(const table::DeltaType &type) {
  if (table::IsIntegral(type.kind) || type.kind == table::DeltaKind::kBoolean) return "INTEGER";
  if (type.kind == table::DeltaKind::kFloat || type.kind == table::DeltaKind::kDouble)
    return "REAL";
  if (type.kind == table::DeltaKind::kBinary) return "BLOB";
  return "TEXT";
}

bool StartsWith(const std::string &text, const char *prefix) {
  return text.rfind(prefix, 0) == 0;
}

// Stored JSON text as a value; text that ParseJson refuses (an undeclared table keeps records
// unchecked) stays a string, which prints whatever it holds.
nlohmann::json StoredJson(const std::string &text) {
  nlohmann::json value;
  std::string ignored;
  if (table::ParseJson(text, &value, &ignored)) return value;
  return text;
}

// One declared column's stored value as JSON, given its type_text.
nlohmann::json ColumnJson(sqlite3_stmt *statement, int index, const std::string &type) {
  switch (sqlite3_column_type(statement, index)) {
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_INTEGER:
      if (type == "boolean") return sqlite3_column_int64(statement, index) != 0;
      return sqlite3_column_int64(statement, index);
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, index);
    case SQLITE_BLOB:
      return table::EncodeBase64(
          std::string_view(static_cast<const char *>(sqlite3_column_blob(statement, index)),
                           static_cast<size_t>(sqlite3_column_bytes(statement, index))));
    default: {
      std::string text(reinterpret_cast<const char *>(sqlite3_column_text(statement, index)),
                       static_cast<size_t>(sqlite3_column_bytes(statement, index)));
      if (StartsWith(type, "array<") || StartsWith(type, "map<") || StartsWith(type, "struct<")) {
        return StoredJson(text);
      }
      return text;
    }
  }
}

}  // namespace

std::string QuoteIdentifier(const std::string &name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string ColumnsDescription(const table::TableSchema *schema) {
  if (schema == nullptr) return "null";
  nlohmann::json columns = nlohmann::json::array();
  for (const table::DeltaField &column : schema->columns) {
    columns.push_back({{"name", column.name}, {"type", table::TypeText(column.type)}});
  }
  return columns.dump();
}

std::string CreateTableSql(const std::string &table, const table::TableSchema *schema) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + QuoteIdentifier(table) + " (";
  if (schema == nullptr) return sql + "\"_record\" BLOB NOT NULL, \"_json\" INTEGER NOT NULL)";
  for (size_t i = 0; i < schema->columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdentifier(schema->columns[i].name) + " " + SqlType(schema->columns[i].type);
  }
  return sql + ")";
}

bool ReadRows(sqlite3 *db, const std::string &table, int64_t offset, int64_t limit,
              std::vector<nlohmann::json> *rows, std::string *error) {
  sqlite3_stmt *statement = nullptr;
  const std::string catalog_sql =
      std::string("SELECT columns FROM ") + kCatalogTable + " WHERE name = ?1";
  if (sqlite3_prepare_v2(db, catalog_sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db);
    return false;
  }
  sqlite3_bind_text(statement, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  nlohmann::json columns;
  const bool found = sqlite3_step(statement) == SQLITE_ROW;
  if (found) {
    columns = nlohmann::json::parse(
        reinterpret_cast<const char *>(sqlite3_column_text(statement, 0)), nullptr, false);
  }
  sqlite3_finalize(statement);
  if (!found) {
    *error = "no table " + table + " in the database";
    return false;
  }

  const std::string sql =
      "SELECT * FROM " + QuoteIdentifier(table) + " ORDER BY rowid LIMIT ?1 OFFSET ?2";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db);
    return false;
  }
  sqlite3_bind_int64(statement, 1, limit);
  sqlite3_bind_int64(statement, 2, offset);
  int step;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    nlohmann::json row = nlohmann::json::object();
    if (columns.is_array()) {
      for (int i = 0; i < sqlite3_column_count(statement) && i < static_cast<int>(columns.size());
           ++i) {
        row[columns[i]["name"].get<std::string>()] =
            ColumnJson(statement, i, columns[i]["type"].get<std::string>());
      }
    } else {
      const std::string data(static_cast<const char *>(sqlite3_column_blob(statement, 0)),
                             static_cast<size_t>(sqlite3_column_bytes(statement, 0)));
      if (sqlite3_column_int(statement, 1) != 0) {
        row["json"] = StoredJson(data);
      } else {
        row["proto_base64"] = table::EncodeBase64(data);
      }
    }
    rows->push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  if (step != SQLITE_DONE) {
    *error = sqlite3_errmsg(db);
    return false;
  }
  return true;
}

}  // namespace zerobus::server
