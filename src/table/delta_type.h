// The column types of a Delta table, as far as Zerobus maps them to protobuf and JSON
// (zerobus-service.md §4), and the spellings the Unity Catalog API uses for them.
#ifndef ZEROBUS_TABLE_DELTA_TYPE_H
#define ZEROBUS_TABLE_DELTA_TYPE_H

#include <string>
#include <string_view>
#include <vector>

namespace zerobus::table {

enum class DeltaKind {
  kString,
  kVarchar,
  kChar,
  kBoolean,
  kTinyint,
  kSmallint,
  kInt,
  kBigint,
  kFloat,
  kDouble,
  kDecimal,
  kDate,
  kTimestamp,
  kTimestampNtz,
  kBinary,
  kVariant,
  kArray,
  kMap,
  kStruct,
};

struct DeltaField;

// A tree: ARRAY holds its element in children[0], MAP its key and value in children[0] and [1],
// STRUCT its fields in `fields`.
struct DeltaType {
  DeltaKind kind = DeltaKind::kString;
  int length = 0;  // VARCHAR(n), CHAR(n)
  int precision = 0;
  int scale = 0;
  std::vector<DeltaType> children;
  std::vector<DeltaField> fields;
};

// A column of a table, or a field of a STRUCT.
struct DeltaField {
  std::string name;
  DeltaType type;
  bool nullable = true;
  std::string comment;
};

struct TableSchema {
  std::string full_name;  // catalog.schema.table
  std::vector<DeltaField> columns;
};

// The service's limits on a table (zerobus-service.md §3.1 and §4.1).
constexpr size_t kMaxColumns = 2000;
constexpr int kMaxNestingDepth = 100;
constexpr int kMaxDecimalPrecision = 38;

bool IsComplex(DeltaKind kind);
// Kinds whose values are whole numbers in proto and JSON (DATE and the timestamps included).
bool IsIntegral(DeltaKind kind);

// The lower-case SQL spelling Unity Catalog reports as type_text, e.g. "decimal(10,2)",
// "array<string>", "struct<lat:double,lon:double>".
std::string TypeText(const DeltaType &type);

// Unity Catalog's ColumnTypeName for the top level of `type`: "LONG" for BIGINT, "ARRAY", ...
const char *TypeName(const DeltaType &type);

// Why the service cannot map the top level of `type` to protobuf (zerobus-service.md §4.1): an
// ARRAY of ARRAY or MAP, a MAP keyed by anything but an integer type, BOOLEAN or STRING, or a
// MAP of ARRAY or MAP. Null when it can.
const char *UnsupportedNesting(const DeltaType &type);

// Whether `name` may name a column or STRUCT field: ASCII letters, digits and '_', not empty,
// not starting with a digit.
bool IsValidColumnName(const std::string &name);

// Whether `name` may be one part of a table's catalog.schema.table name: ASCII letters, digits
// and '_', not empty.
bool IsValidTableNamePart(std::string_view name);

// Whether two names denote the same column: Delta compares column names case-insensitively.
bool SameColumnName(std::string_view a, std::string_view b);

// The column or field called `name` (compared as SameColumnName), or null.
const DeltaField *FindField(const std::vector<DeltaField> &fields, const std::string &name);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_DELTA_TYPE_H
