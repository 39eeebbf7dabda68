#include "cli/arrow_batches.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"

namespace zerobus::cli {
namespace {

// The whole of `file`; false with *error on a read error (never taken for the end).
bool ReadAll(std::FILE *file, std::string *bytes, std::string *error) {
  char chunk[1 << 16];
  for (;;) {
    const size_t got = std::fread(chunk, 1, sizeof chunk, file);
    bytes->append(chunk, got);
    if (got < sizeof chunk) break;
  }
  if (std::ferror(file) != 0) {
    *error = std::strerror(errno);
    return false;
  }
  return true;
}

// `messages` as one IPC stream, closed by the end-of-stream marker.
std::string StreamOf(const std::vector<arrow::EncodedMessage> &messages) {
  std::vector<arrow::Buffer> slices;
  for (const arrow::EncodedMessage &message : messages) {
    arrow::AppendEncapsulated(message, &slices);
  }
  slices.push_back(arrow::EndOfStream());
  return arrow::Concatenate(slices);
}

}  // namespace

ArrowBatchReader::ArrowBatchReader(std::FILE *file, const std::string &name) {
  auto bytes = std::make_shared<std::string>();
  std::string error;
  if (!ReadAll(file, bytes.get(), &error)) {
    failure_ = "cannot read " + name + ": " + error;
    return;
  }
  const arrow::Buffer buffer{reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size(),
                             bytes};
  const bool ipc_file = arrow::IsIpcFile(buffer);
  const arrow::ReadLimits limits;
  const arrow::Status status = ipc_file ? arrow::ReadIpcFile(buffer, limits, &schema_, &batches_)
                                        : arrow::ReadIpcStream(buffer, limits, &schema_, &batches_);
  if (!status.ok()) {
    batches_.clear();
    failure_ = "cannot read " + name + " as an Arrow IPC " + (ipc_file ? "file" : "stream") + ": " +
               status.message();
    return;
  }
  schema_ipc_ = StreamOf({arrow::EncodeSchema(schema_)});
}

bool ArrowBatchReader::Next(std::string *batch_ipc, SourcePosition *where) {
  while (next_ < batches_.size() && batches_[next_].length == 0) ++next_;
  if (next_ == batches_.size()) return false;
  arrow::EncodedMessage batch;
  // Uncompressed: the library compresses on the wire as arrow.compression says; a dead letter
  // is then readable by any IPC reader.
  const arrow::Status status =
      arrow::EncodeRecordBatch(schema_, batches_[next_], arrow::WriteOptions(), &batch);
  if (!status.ok()) {
    // Decoded batches fit their schema; should one not, it is said rather than skipped.
    failure_ = "cannot encode batch " + std::to_string(next_ + 1) + ": " + status.message();
    batches_.clear();
    return false;
  }
  *batch_ipc = StreamOf({arrow::EncodeSchema(schema_), std::move(batch)});
  // A batch that was compressed holds its decompressed buffers: released once handed on (the
  // others are views into the input's bytes, which stay until the last batch is gone).
  batches_[next_] = arrow::RecordBatch();
  ++next_;
  where->number = next_;
  where->line = 0;
  where->byte_offset = 0;
  return true;
}

}  // namespace zerobus::cli
