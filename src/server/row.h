// A record of a declared table turned into the values of its columns, ready for storage.
#ifndef ZEROBUS_SERVER_ROW_H
#define ZEROBUS_SERVER_ROW_H

#include <cstdint>
#include <string>
#include <vector>

namespace zerobus::server {

// One column's value as SQLite stores it. Nested values (ARRAY, MAP, STRUCT) are JSON text;
// DATE is days and TIMESTAMP microseconds since the epoch, as on the wire.
struct SqlValue {
  enum class Kind { kNull, kInteger, kReal, kText, kBlob };

  static SqlValue Null() { return SqlValue{}; }
  static SqlValue Integer(int64_t v) {
    SqlValue value;
    value.kind = Kind::kInteger;
    value.integer = v;
    return value;
  }
  static SqlValue Real(double v) {
    SqlValue value;
    value.kind = Kind::kReal;
    value.real = v;
    return value;
  }
  static SqlValue Text(std::string v) {
    SqlValue value;
    value.kind = Kind::kText;
    value.bytes = std::move(v);
    return value;
  }
  static SqlValue Blob(std::string v) {
    SqlValue value;
    value.kind = Kind::kBlob;
    value.bytes = std::move(v);
    return value;
  }

  Kind kind = Kind::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // kText, kBlob
};

// One value per column of the table, in the table's column order.
using Row = std::vector<SqlValue>;

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ROW_H
