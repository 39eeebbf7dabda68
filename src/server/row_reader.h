// Reading back the rows a server stored under its data directory (ServerOptions::data_dir), from
// any process and while the server runs: what `zerobus rows` prints and what tests check. The
// storage itself (SQLite, sqlite_row_store.h) stays the server's business.
#ifndef ZEROBUS_SERVER_ROW_READER_H
#define ZEROBUS_SERVER_ROW_READER_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace zerobus::server {

class RowReader {
 public:
  // Opens the rows stored under `data_dir` for reading, without creating or changing anything.
  // Null with the reason in `*error` (naming the file) when there is no readable store there.
  static std::unique_ptr<RowReader> Open(const std::string &data_dir, std::string *error);

  ~RowReader();
  RowReader(const RowReader &) = delete;
  RowReader &operator=(const RowReader &) = delete;

  // Up to `limit` rows (all when negative) of `table` from row `offset` (0 = the first stored),
  // oldest first, each one JSON object: nested values as JSON, BINARY as base64, DATE as days
  // and TIMESTAMP as microseconds since the epoch; an undeclared table's records as
  // {"json": <object>} or {"proto_base64": "..."}. Waits up to 10 s for the server's writer.
  // False with the reason in `*error` when the table is not stored there or reading fails.
  // Not to be called from two threads at once.
  bool Read(const std::string &table, int64_t offset, int64_t limit,
            std::vector<nlohmann::json> *rows, std::string *error) const;

  // The file the rows are read from.
  const std::string &path() const { return path_; }

  // The file a server given `data_dir` stores its rows in, for telling a user where they are.
  static std::string PathIn(const std::string &data_dir);

 private:
  RowReader(std::string path, sqlite3 *db) : path_(std::move(path)), db_(db) {}

  std::string path_;
  sqlite3 *db_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ROW_READER_H
