// The records of one input of `zerobus ingest`, whatever its format, as one sequence: each with
// what is sent, what a dead letter keeps, where it came from, and why it must be refused when
// it must. The ingest loop is written once over it; record_readers.h does the reading.
#ifndef ZEROBUS_CLI_RECORD_SOURCE_H
#define ZEROBUS_CLI_RECORD_SOURCE_H

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <zerobus/zerobus.hpp>

#include "cli/avro_container.h"
#include "cli/record_readers.h"

namespace zerobus::cli {

enum class Format { kJsonLines, kCsv, kProto, kAvro, kArrow };

// One record read.
struct SourceRecord {
  std::string raw;        // as it stands in the input: what a dead letter keeps
  std::string converted;  // when not empty, what is sent instead of `raw` (a CSV row's JSON)
  SourcePosition where;
  // 0, or the length of a record over kMaxRecordBytes, of which `raw` holds the first bytes.
  uint64_t oversized = 0;
  // Not empty: the record cannot be sent, and this says why.
  std::string malformed;

  const std::string &payload() const { return converted.empty() ? raw : converted; }
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;

  // Reads the next record; false at the end of the input, or when reading cannot go on
  // (Failure() then says why).
  virtual bool Next(SourceRecord *record) = 0;

  // "" at the end of the input, else why reading stopped, as a complete message ("cannot read
  // NAME: ...", "NAME:LINE: the header row is ...").
  virtual std::string Failure() const = 0;

  // The writer schema (Avro JSON) the input's records are datums of, from its header, or the
  // Arrow schema (an IPC stream) of its batches: "" for a format that has none, or when the
  // header cannot be read (Failure() then says why).
  virtual std::string WriterSchema() { return ""; }
};

// The records of `file` (borrowed), named `name` in messages, in `format` (Avro: an object
// container file, avro_container.h; Arrow: an IPC file or stream, one record per batch,
// arrow_batches.h). CSV fields are typed
// by `schema`, which the caller keeps alive and which CSV needs; `check_json` refuses here a
// JSON line that is not an object (for a server that would end the stream on it).
std::unique_ptr<RecordSource> OpenRecordSource(Format format, std::FILE *file,
                                               const std::string &name,
                                               const zerobus::Schema *schema, bool check_json);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_RECORD_SOURCE_H
