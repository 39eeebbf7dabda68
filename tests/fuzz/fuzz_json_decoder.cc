// libFuzzer target: JSON records decoded by `zerobus serve` (server/json_record_decoder) against
// a table of every type and nesting shape. No input may crash it or overflow its stack (deep
// nesting), and no refusal may carry a message that grows with the input.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/schema/ddl_parser.h"
#include "server/record_decoder.h"

namespace {

constexpr char kTable[] =
    "fuzz.default.everything (s STRING NOT NULL, vc VARCHAR(4), b BOOLEAN, ti TINYINT, "
    "si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(6,2), dt DATE, ts TIMESTAMP, "
    "tsn TIMESTAMP_NTZ, bin BINARY, v VARIANT, tags ARRAY<STRING>, "
    "pts ARRAY<STRUCT<x: DOUBLE, y: INT NOT NULL>>, m MAP<BIGINT, STRUCT<n: STRING>>, "
    "flags MAP<BOOLEAN, INT>, geo STRUCT<lat: DOUBLE NOT NULL, sub: STRUCT<c: ARRAY<DATE>>>)";

// A message names a column path (at most a few dozen bytes here) and quotes excerpts of values.
constexpr size_t kMaxMessage = 512;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const zerobus::schema::TableSchema *table = [] {
    auto *parsed = new zerobus::schema::TableSchema;  // never freed: lives as long as the fuzzer
    std::string error;
    if (!zerobus::schema::ParseTableDdl(kTable, parsed, &error)) std::abort();
    return parsed;
  }();
  const std::unique_ptr<zerobus::server::RecordDecoder> decoder =
      zerobus::server::NewJsonDecoder(*table);
  zerobus::server::Row row;
  const std::string error =
      decoder->Decode(std::string_view(reinterpret_cast<const char *>(data), size), &row);
  if (error.size() > kMaxMessage) std::abort();
  if (error.empty() && row.size() != table->columns.size()) std::abort();
  return 0;
}
