// The Arrow codec's cost per batch with the network out of the way (Google Benchmark): issue
// 22's bench batch (bench/arrow_batch.h), 1,000 rows of a 10-column table (4 int64, 3 double,
// 2 string, a timestamp), taken as Arrow C Data and encoded as IPC (uncompressed: the body
// references the caller's buffers; LZ4_FRAME; ZSTD), and IPC bytes decoded as the server will.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "arrow/c_data_import.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "bench/arrow_batch.h"

namespace {

using namespace zerobus::arrow;

constexpr int64_t kRows = zerobus::bench::kArrowBenchRows;

void BM_ImportAndEncode(benchmark::State &state) {
  const Codec codec = static_cast<Codec>(state.range(0));
  const zerobus::bench::ArrowBenchBatch source(kRows);
  CDataSchema schema;
  if (!CDataSchema::Import(source.schema(), &schema).ok()) state.SkipWithError("schema");
  int64_t body_bytes = 0;
  for (auto _ : state) {
    ArrowArray array = source.Array();
    RecordBatch batch;
    EncodedMessage message;
    if (!ImportRecordBatch(&array, schema, &batch).ok() ||
        !EncodeRecordBatch(schema.schema(), batch, WriteOptions{codec}, &message).ok()) {
      state.SkipWithError("encode");
      break;
    }
    body_bytes = message.body_length;
    benchmark::DoNotOptimize(message.body.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetLabel(std::string(CodecName(codec)) + ", body " + std::to_string(body_bytes) + " B");
}
BENCHMARK(BM_ImportAndEncode)
    ->Arg(static_cast<int>(Codec::kNone))
    ->Arg(static_cast<int>(Codec::kLz4Frame))
    ->Arg(static_cast<int>(Codec::kZstd));

void BM_Decode(benchmark::State &state) {
  const Codec codec = static_cast<Codec>(state.range(0));
  const zerobus::bench::ArrowBenchBatch source(kRows);
  CDataSchema schema;
  ArrowArray array = source.Array();
  RecordBatch batch;
  EncodedMessage message;
  if (!CDataSchema::Import(source.schema(), &schema).ok() ||
      !ImportRecordBatch(&array, schema, &batch).ok() ||
      !EncodeRecordBatch(schema.schema(), batch, WriteOptions{codec}, &message).ok()) {
    state.SkipWithError("encode");
    return;
  }
  auto body = std::make_shared<std::string>(Concatenate(message.body));
  const Buffer body_buffer{reinterpret_cast<const uint8_t *>(body->data()), body->size(), body};
  for (auto _ : state) {
    RecordBatch decoded;
    if (!DecodeRecordBatch(schema.schema(), message.metadata.data, message.metadata.size,
                           body_buffer, ReadLimits{}, &decoded)
             .ok()) {
      state.SkipWithError("decode");
      break;
    }
    benchmark::DoNotOptimize(decoded.columns.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetLabel(CodecName(codec));
}
BENCHMARK(BM_Decode)
    ->Arg(static_cast<int>(Codec::kNone))
    ->Arg(static_cast<int>(Codec::kLz4Frame))
    ->Arg(static_cast<int>(Codec::kZstd));

}  // namespace

BENCHMARK_MAIN();
