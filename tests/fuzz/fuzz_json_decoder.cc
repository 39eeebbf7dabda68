// libFuzzer target: JSON records decoded by `zerobus serve` (server/json_record_decoder) against
// a table of every type and nesting shape. No input may crash it or overflow its stack (deep
// nesting), and no refusal may carry a message that grows with the input.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_table.h"
#include "server/record_decoder.h"

namespace {

// The table and its decoder, built once.
struct Fixture {
  const zerobus::table::TableSchema table = fuzz::ParseTableOrAbort(fuzz::kEveryTypeTable);
  const std::unique_ptr<zerobus::server::RecordDecoder> decoder =
      zerobus::server::NewJsonDecoder(table);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Fixture *fixture = new Fixture;  // never freed: lives as long as the fuzzer
  zerobus::server::Row row;
  const std::string error =
      fixture->decoder->Decode(std::string_view(reinterpret_cast<const char *>(data), size), &row);
  if (error.size() > fuzz::kMaxRecordMessage) std::abort();
  if (error.empty() && row.size() != fixture->table.columns.size()) std::abort();
  return 0;
}
