// libFuzzer target: what `zerobus serve` reads of an AVRO stream, all of it from the network:
// the writer schema (avro_schema_json, checked against a table of every type Avro can carry)
// and the datums read with it. The input is a writer schema and a datum: its first byte says
// how many of the next bytes, times 16, are the schema (0: the table's own schema), and the
// rest is the datum. No input may crash either, overflow the stack, or get a refusal whose
// message grows with the input.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_table.h"
#include "server/record_decoder.h"
#include "table/avro_schema.h"

namespace {

constexpr char kAvroTable[] =
    "fuzz.default.avro (s STRING NOT NULL, vc VARCHAR(4), b BOOLEAN, ti TINYINT, si SMALLINT, "
    "i INT, bi BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(6,2), dt DATE, ts TIMESTAMP, "
    "tsn TIMESTAMP_NTZ, bin BINARY, v VARIANT, tags ARRAY<STRING>, "
    "pts ARRAY<STRUCT<x: DOUBLE, y: INT NOT NULL>>, m MAP<STRING, STRUCT<n: STRING>>, "
    "geo STRUCT<lat: DOUBLE NOT NULL, sub: STRUCT<c: ARRAY<DATE>>>)";

struct Fixture {
  Fixture() {
    std::string error;
    if (!zerobus::table::AvroSchemaFor(table, &schema, &error)) std::abort();
  }
  const zerobus::table::TableSchema table = fuzz::ParseTableOrAbort(kAvroTable);
  std::string schema;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Fixture *fixture = new Fixture;  // never freed: lives as long as the fuzzer
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char *>(data) + 1, size - 1);
  const size_t schema_bytes = std::min<size_t>(size_t{data[0]} * 16, input.size());
  const std::string_view writer =
      schema_bytes == 0 ? std::string_view(fixture->schema) : input.substr(0, schema_bytes);
  zerobus::table::AvroPlan plan;
  std::string error;
  if (!zerobus::table::ResolveAvroSchema(fixture->table, writer, &plan, &error)) {
    if (error.size() > fuzz::kMaxRecordMessage) std::abort();
    return 0;
  }
  const auto decoder = zerobus::server::NewAvroDecoder(fixture->table, std::move(plan));
  zerobus::server::Row row;
  error = decoder->Decode(input.substr(schema_bytes), &row);
  if (error.size() > fuzz::kMaxRecordMessage) std::abort();
  if (error.empty() && row.size() != fixture->table.columns.size()) std::abort();
  return 0;
}
