// libFuzzer target: an Arrow IPC stream (or file) as the server will read it from the network (the
// IPC decoder of src/arrow). Nothing may crash or read out of bounds, no refusal may carry a
// message that grows with the input, and whatever the decoder accepts our encoder must write and
// the decoder read back to the same shape.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"

namespace {

using namespace zerobus::arrow;

// A refusal quotes at most a column's excerpt and a few numbers.
constexpr size_t kMaxMessageBytes = 600;

Status Read(const std::string &bytes, Schema *schema, std::vector<RecordBatch> *batches) {
  auto owner = std::make_shared<std::string>(bytes);
  ReadLimits limits;
  limits.max_materialized_bytes = 1 << 20;  // within libFuzzer's memory limit
  const Buffer input{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner};
  return IsIpcFile(input) ? ReadIpcFile(input, limits, schema, batches)
                          : ReadIpcStream(input, limits, schema, batches);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Schema schema;
  std::vector<RecordBatch> batches;
  Status status = Read(std::string(reinterpret_cast<const char *>(data), size), &schema, &batches);
  if (!status.ok()) {
    if (status.message().size() > kMaxMessageBytes) std::abort();
    return 0;
  }
  for (Codec codec : {Codec::kNone, Codec::kLz4Frame}) {
    std::vector<Buffer> slices;
    AppendEncapsulated(EncodeSchema(schema), &slices);
    for (const RecordBatch &batch : batches) {
      EncodedMessage message;
      if (!EncodeRecordBatch(schema, batch, WriteOptions{codec}, &message).ok()) std::abort();
      AppendEncapsulated(message, &slices);
    }
    Schema again_schema;
    std::vector<RecordBatch> again;
    if (!Read(Concatenate(slices), &again_schema, &again).ok()) std::abort();
    if (!(again_schema.fields == schema.fields) || again.size() != batches.size()) std::abort();
    for (size_t i = 0; i < batches.size(); ++i) {
      if (again[i].length != batches[i].length) std::abort();
    }
  }
  return 0;
}
