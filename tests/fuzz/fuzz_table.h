// The table the record fuzzers encode and decode against: every Delta type the service maps,
// nested every way a STRUCT, ARRAY and MAP can nest.
#ifndef ZEROBUS_TESTS_FUZZ_FUZZ_TABLE_H
#define ZEROBUS_TESTS_FUZZ_FUZZ_TABLE_H

#include <cstddef>
#include <cstdlib>
#include <string>

#include "table/ddl_parser.h"

namespace fuzz {

constexpr char kEveryTypeTable[] =
    "fuzz.default.everything (s STRING NOT NULL, vc VARCHAR(4), b BOOLEAN, ti TINYINT, "
    "si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(6,2), dt DATE, ts TIMESTAMP, "
    "tsn TIMESTAMP_NTZ, bin BINARY, v VARIANT, tags ARRAY<STRING>, "
    "pts ARRAY<STRUCT<x: DOUBLE, y: INT NOT NULL>>, m MAP<BIGINT, STRUCT<n: STRING>>, "
    "flags MAP<BOOLEAN, INT>, geo STRUCT<lat: DOUBLE NOT NULL, sub: STRUCT<c: ARRAY<DATE>>>)";

// The longest message a refused record of that table may get: a column path (a few dozen bytes
// here) and excerpts of values.
constexpr size_t kMaxRecordMessage = 512;

// `ddl` parsed; a fixture that does not parse is a bug of the fuzzer, not a finding.
inline zerobus::table::TableSchema ParseTableOrAbort(const char *ddl) {
  zerobus::table::TableSchema table;
  std::string error;
  if (!zerobus::table::ParseTableDdl(ddl, &table, &error)) std::abort();
  return table;
}

}  // namespace fuzz

#endif  // ZEROBUS_TESTS_FUZZ_FUZZ_TABLE_H
