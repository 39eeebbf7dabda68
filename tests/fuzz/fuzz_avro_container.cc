// libFuzzer target: an Avro object container file as `zerobus ingest` reads it, all of it from
// a file: the header (its metadata and the writer schema, which the datum walker parses), the
// blocks with each codec, and the datums walked out of them. No input may crash, overflow the
// stack, loop for longer than its bytes are long, or hold more than a block's bound of memory.
#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/avro_container.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  std::FILE *file = fmemopen(const_cast<uint8_t *>(data), size, "rb");
  if (file == nullptr) return 0;
  {
    zerobus::cli::AvroContainerReader reader(file);
    std::string malformed;
    if (reader.ReadHeader(&malformed)) {
      std::string datum;
      zerobus::cli::SourcePosition where;
      uint64_t oversized = 0;
      while (reader.Next(&datum, &where, &malformed, &oversized)) {
      }
    }
  }
  std::fclose(file);
  return 0;
}
