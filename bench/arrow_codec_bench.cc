// The Arrow codec's cost per batch with the network out of the way (Google Benchmark): issue
// 22's bench batch, 1,000 rows of a 10-column table (4 int64, 3 double, 2 string, a timestamp),
// taken as Arrow C Data and encoded as IPC (uncompressed: the body references the caller's
// buffers; LZ4_FRAME; ZSTD), and IPC bytes decoded as the server will.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "arrow/c_data_import.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "zerobus/arrow_c_data.h"

namespace {

using namespace zerobus::arrow;

constexpr int64_t kRows = 1000;

// One batch's columns as C Data, built once; each import takes a fresh ArrowArray over them.
class CBatch {
 public:
  CBatch() {
    const char *formats[] = {"l", "l", "l", "l", "g", "g", "g", "u", "u", "tsu:UTC"};
    for (int c = 0; c < 10; ++c) {
      names_.push_back("c" + std::to_string(c));
      Column column;
      column.format = formats[c];
      if (column.format == "u") {
        std::vector<int32_t> offsets(kRows + 1);
        for (int64_t row = 0; row < kRows; ++row) {
          const std::string value = "value-" + std::to_string(row * 7919 % 100000);
          column.data.insert(column.data.end(), value.begin(), value.end());
          offsets[row + 1] = static_cast<int32_t>(column.data.size());
        }
        const auto *bytes = reinterpret_cast<const uint8_t *>(offsets.data());
        column.values.assign(bytes, bytes + offsets.size() * sizeof(int32_t));
      } else {
        column.values.resize(kRows * 8);
        for (int64_t row = 0; row < kRows; ++row) {
          const int64_t value = row * 2654435761LL + c;
          std::memcpy(&column.values[row * 8], &value, 8);
        }
      }
      columns_.push_back(std::move(column));
    }
    for (int c = 0; c < 10; ++c) {
      Column &column = columns_[c];
      column.buffers = {nullptr, column.values.data(), column.data.data()};
      column.schema = ArrowSchema{column.format.c_str(),
                                  names_[c].c_str(),
                                  nullptr,
                                  0,
                                  0,
                                  nullptr,
                                  nullptr,
                                  [](ArrowSchema *s) { s->release = nullptr; },
                                  nullptr};
      schema_children_.push_back(&column.schema);
    }
    schema_ = ArrowSchema{"+s",    "",
                          nullptr, 0,
                          10,      schema_children_.data(),
                          nullptr, [](ArrowSchema *s) { s->release = nullptr; },
                          nullptr};
  }

  const ArrowSchema &schema() const { return schema_; }

  // A fresh struct array over the same buffers (the import moves it and releases it).
  ArrowArray Array() {
    arrays_.clear();
    array_children_.clear();
    arrays_.reserve(10);
    for (Column &column : columns_) {
      const int64_t n_buffers = column.format == "u" ? 3 : 2;
      arrays_.push_back(ArrowArray{kRows, 0, 0, n_buffers, 0, column.buffers.data(), nullptr,
                                   nullptr, [](ArrowArray *a) { a->release = nullptr; }, nullptr});
      array_children_.push_back(&arrays_.back());
    }
    return ArrowArray{kRows,
                      0,
                      0,
                      1,
                      10,
                      top_buffers_,
                      array_children_.data(),
                      nullptr,
                      [](ArrowArray *a) { a->release = nullptr; },
                      nullptr};
  }

 private:
  struct Column {
    std::string format;
    std::vector<uint8_t> values;
    std::vector<uint8_t> data;
    std::vector<const void *> buffers;
    ArrowSchema schema;
  };
  std::vector<std::string> names_;
  std::vector<Column> columns_;
  std::vector<ArrowSchema *> schema_children_;
  ArrowSchema schema_;
  std::vector<ArrowArray> arrays_;
  std::vector<ArrowArray *> array_children_;
  const void *top_buffers_[1] = {nullptr};
};

void BM_ImportAndEncode(benchmark::State &state) {
  const Codec codec = static_cast<Codec>(state.range(0));
  CBatch source;
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
  CBatch source;
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
