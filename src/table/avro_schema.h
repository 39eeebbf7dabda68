// The Avro shape of a table (the AVRO record type, reference/official-3x.md §1): the writer
// schema a table takes, and a producer's own writer schema checked against the table, ready to
// read its datums column by column.
//
// The mapping (docs/SCHEMAS.md), chosen to be what Avro's own tools and Spark write:
// - STRING, VARCHAR(n), CHAR(n) and VARIANT (JSON text) are "string"; BOOLEAN "boolean";
//   TINYINT, SMALLINT and INT "int"; BIGINT "long"; FLOAT "float"; DOUBLE "double"; BINARY
//   "bytes";
// - DECIMAL(p,s) is "bytes" with logicalType decimal, precision p and scale s (the unscaled
//   value, two's complement, big-endian); DATE "int" with logicalType date (days);
//   TIMESTAMP "long" with timestamp-micros and TIMESTAMP_NTZ "long" with
//   local-timestamp-micros;
// - ARRAY<T> is an array of T; MAP<STRING,V> a map of V (Avro's map keys are strings: a MAP
//   keyed by anything else has no Avro form); STRUCT a record, named after its path
//   ("events_location" for the column location of events);
// - a nullable column or field is the union ["null", T] with default null; NOT NULL is T.
// A writer schema may differ where reading is unambiguous: a union of null and T in either
// order (for a NOT NULL column too, whose datums must then not be null), int for BIGINT, float
// for DOUBLE, fixed for BINARY and for DECIMAL, an enum for a STRING column (its symbol), the
// -millis timestamp types, fields in any order, and nullable columns left out (stored as
// NULL). Anything else is refused, naming the
// column and both types.
#ifndef ZEROBUS_TABLE_AVRO_SCHEMA_H
#define ZEROBUS_TABLE_AVRO_SCHEMA_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "table/delta_type.h"

namespace zerobus::table {

// The writer schema (Avro JSON) of `table`. Fails, saying why in `*error`, for a column with no
// Avro form (a MAP not keyed by STRING).
bool AvroSchemaFor(const TableSchema &table, std::string *schema, std::string *error);

// How one value of a writer schema is read, and the column type it feeds.
struct AvroNode {
  enum class Kind {
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kBytes,
    kFixed,
    kString,
    kEnum,  // read as its symbol's text, into a STRING column
    kArray,
    kMap,
    kRecord,
  };
  // Units of an int or long: plain numbers, days, or a timestamp in milliseconds or
  // microseconds.
  enum class Unit { kPlain, kMillis, kMicros };

  Kind kind = Kind::kBoolean;
  Unit unit = Unit::kPlain;
  bool decimal = false;  // bytes or fixed holding a decimal's unscaled value
  int scale = 0;         // of a decimal
  size_t fixed_size = 0;
  std::vector<std::string> symbols;  // of an enum
  // A union with null: the branch index of null (0 or 1), the other being this node; -1 when
  // the value is not a union.
  int null_branch = -1;
  // The column (or element, value, field) type it feeds; null for the top-level record.
  const DeltaType *type = nullptr;
  // kArray: the items; kMap: the values.
  std::vector<AvroNode> children;
  // kRecord: the writer's fields in the writer's order, each feeding field `column` of
  // type->fields (or of the table's columns, at the top).
  struct Field {
    std::string name;
    size_t column = 0;
    std::vector<AvroNode> node;  // exactly one: a vector, since AvroNode is incomplete here
  };
  std::vector<Field> fields;
};

// A producer's writer schema checked against `table`, which must outlive it: the top-level
// record, whose fields feed the table's columns.
struct AvroPlan {
  AvroNode root;
};

// Reads the writer schema `writer` (Avro JSON) and checks it against `table` as the comment
// above says. On failure returns false and says why in `*error`, naming the column
// ("column 'loc.lat': the writer's type is string, the column is DOUBLE").
bool ResolveAvroSchema(const TableSchema &table, std::string_view writer, AvroPlan *plan,
                       std::string *error);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_AVRO_SCHEMA_H
