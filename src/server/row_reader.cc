#include "server/row_reader.h"

#include <sqlite3.h>

#include <utility>

#include "server/sql_tables.h"
#include "server/sqlite_row_store.h"

namespace zerobus::server {

std::unique_ptr<RowReader> RowReader::Open(const std::string &data_dir, std::string *error) {
  std::string path = PathIn(data_dir);
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    *error = "cannot open " + path + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return nullptr;
  }
  // The server's writer holds the database only for the length of a commit.
  sqlite3_busy_timeout(db, 10000);
  return std::unique_ptr<RowReader>(new RowReader(std::move(path), db));
}

std::string RowReader::PathIn(const std::string &data_dir) {
  return DatabasePath(data_dir);
}

RowReader::~RowReader() {
  sqlite3_close(db_);
}

bool RowReader::Read(const std::string &table, int64_t offset, int64_t limit,
                     std::vector<nlohmann::json> *rows, std::string *error) const {
  if (ReadRows(db_, table, offset, limit, rows, error)) return true;
  *error = path_ + ": " + *error;
  return false;
}

}  // namespace zerobus::server
