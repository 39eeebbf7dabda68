// What the ingest path costs inside the engine, with the network out of the way (Google
// Benchmark): a record appended to the in-flight window (framed and copied into the open
// request), and a whole window's life (append, take for sending, acknowledge), per record size
// and batch size, beside a plain memcpy of the same bytes, the floor any copying ingest pays.
//
//   window_bench [--benchmark_filter=REGEX] [--benchmark_min_time=SECONDS]
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/window.h"
#include "core/wire.h"

namespace {

constexpr size_t kWindowBytes = 64 << 20;
constexpr size_t kRequestBytes = 10 << 20;

zerobus::WindowLimits Limits() {
  return {1000000, kWindowBytes, kRequestBytes};
}

// The floor: copying each record's bytes into a buffer, as any ingest that copies does.
void BM_Memcpy(benchmark::State &state) {
  const std::string record(static_cast<size_t>(state.range(0)), 'r');
  std::vector<char> buffer(1 << 20);
  size_t at = 0;
  for (auto _ : state) {
    if (at + record.size() > buffer.size()) at = 0;
    std::memcpy(buffer.data() + at, record.data(), record.size());
    at += record.size();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// One record per Append, as zb_stream_ingest_proto does under the stream's lock; the window is
// drained (sent and acknowledged) whenever it fills, outside the timing.
void BM_WindowAppend(benchmark::State &state) {
  const std::string record(static_cast<size_t>(state.range(0)), 'r');
  const zerobus::RecordView view{record.data(), record.size()};
  const size_t framed = zerobus::wire::RecordEntrySize(record.size());
  zerobus::Window window(Limits());
  for (auto _ : state) {
    if (!window.HasRoom(1, framed)) {
      state.PauseTiming();
      int64_t wire_offset = -1;
      int64_t last = -1;
      while (window.TakeNextToSend(&wire_offset)) last = wire_offset;
      zerobus::AckedRange acked{};
      bool released = false;
      zerobus::Status error;
      window.Ack(last, &acked, &released, &error);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(window.Append(&view, 1, framed));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// A batch of state.range(1) records per Append, then each request sent and acknowledged as the
// sender and the ack reader would: the engine's whole per-record bookkeeping.
void BM_WindowRoundTrip(benchmark::State &state) {
  const std::string record(static_cast<size_t>(state.range(0)), 'r');
  const auto batch = static_cast<size_t>(state.range(1));
  const std::vector<zerobus::RecordView> views(batch, {record.data(), record.size()});
  const size_t framed = batch * zerobus::wire::RecordEntrySize(record.size());
  zerobus::Window window(Limits());
  for (auto _ : state) {
    window.Append(views.data(), views.size(), framed);
    int64_t wire_offset = -1;
    if (window.TakeNextToSend(&wire_offset)) {
      zerobus::AckedRange acked{};
      bool released = false;
      zerobus::Status error;
      window.Ack(wire_offset, &acked, &released, &error);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
  state.SetBytesProcessed(state.iterations() * state.range(1) * state.range(0));
}

BENCHMARK(BM_Memcpy)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_WindowAppend)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_WindowRoundTrip)->Args({100, 1})->Args({100, 100})->Args({1000, 100});

}  // namespace

BENCHMARK_MAIN();
