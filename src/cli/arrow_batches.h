// The record batches of an Arrow IPC input of `zerobus ingest`: an IPC file (".arrow", with its
// footer) or an IPC stream (".arrows", standard input), decoded by our bounds-checked codec
// (src/arrow), each batch handed on as an IPC stream of its own (the schema, the batch, the
// end-of-stream marker): what zb_stream_ingest_arrow_ipc() takes, and what a dead letter keeps,
// so that a dead-lettered batch can be ingested again as it is.
#ifndef ZEROBUS_CLI_ARROW_BATCHES_H
#define ZEROBUS_CLI_ARROW_BATCHES_H

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "arrow/model.h"
#include "cli/record_readers.h"

namespace zerobus::cli {

class ArrowBatchReader {
 public:
  // Reads and decodes the whole of `file` (borrowed), named `name` in messages. Whether it is
  // an IPC file or an IPC stream is told by its first bytes. A read error or bytes that do not
  // decode leave no batch and Failure() saying what and where.
  ArrowBatchReader(std::FILE *file, const std::string &name);

  // The next batch with rows (batches of none are skipped: they carry nothing to ingest), as an
  // IPC stream; `where->number` is its 1-based place among the input's batches. False at the
  // end.
  bool Next(std::string *batch_ipc, SourcePosition *where);

  // The schema as an IPC stream without batches (what zb_stream_new_arrow_ipc() takes); "" when
  // the input could not be read. Two inputs have the same schema when these are equal.
  const std::string &SchemaIpc() const { return schema_ipc_; }
  const std::string &Failure() const { return failure_; }

 private:
  arrow::Schema schema_;
  std::vector<arrow::RecordBatch> batches_;
  size_t next_ = 0;
  std::string schema_ipc_;
  std::string failure_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_ARROW_BATCHES_H
