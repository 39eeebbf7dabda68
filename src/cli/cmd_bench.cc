// `zerobus bench`: the library's ingest throughput and ack latency against any endpoint, the
// figures bench/run sets beside the raw gRPC ceiling and the official SDK.
#include <zerobus/zerobus.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/arrow_batch.h"
#include "bench/workload.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/table_declarations.h"
#include "server/server.h"

namespace zerobus::cli {
namespace {

using bench::BenchResult;

constexpr char kUsage[] =
    "usage: zerobus bench [options]\n"
    "\n"
    "Measures the library: records/s, MB/s, client CPU seconds per million records and the\n"
    "process's peak memory while ingesting, or ack latency percentiles at a fixed rate. Every\n"
    "run ends only when every record is acknowledged. Records are protobuf Events (id BIGINT,\n"
    "payload STRING) padded to the size asked for. With no workload option it runs the main\n"
    "scenarios; with any, that one run. bench/run sets these figures beside a raw gRPC client\n"
    "and the official SDK doing the same work.\n"
    "\n"
    "Options:\n"
    "  --endpoint URL     the Zerobus endpoint; http://HOST:PORT is spoken to in plaintext\n"
    "                     (default: a null-sink server started in this process, whose CPU\n"
    "                     and memory then count as the client's)\n"
    "  --table NAME       the table, catalog.schema.table (default bench.default.events)\n"
    "  --set KEY=VALUE    a library option for the SDK and its streams (docs/CONFIGURATION.md),\n"
    "                     e.g. auth.token=... or stream.max.inflight.bytes=67108864; repeatable\n"
    "  --json             print each run as one line of JSON instead of a table\n"
    "  --help             show this help\n"
    "\n"
    "Workload options:\n"
    "  --records N        records to ingest (default 1000000)\n"
    "  --size BYTES       bytes per record, 16..16000 (default 100)\n"
    "  --batch N          records per ingest call (default 1: a call per record)\n"
    "  --threads N        threads ingesting at once, sharing the records (default 1)\n"
    "  --streams N        streams of one SDK; call i of thread t goes into stream (t + i) % N\n"
    "                     (default 1)\n"
    "  --lanes N          lanes of each stream (stream.lanes, 1..64; default 1)\n"
    "  --arrow            ingest Arrow record batches over Flight instead of records: --batch\n"
    "                     rows (default 1000) of a 10-column table (4 BIGINT, 3 DOUBLE,\n"
    "                     2 STRING, a TIMESTAMP; bench/include/bench/arrow_batch.h) per call,\n"
    "                     given as Arrow C Data, uncompressed; --records counts rows, --size\n"
    "                     is ignored, and the table (default bench.default.arrow_events)\n"
    "                     must be declared on the server\n"
    "  --rate N           measure ack latency instead: N records/s on one stream, paced in\n"
    "                     1 ms ticks (the records due within a tick go out together)\n"
    "  --wait             with --rate: time each record by waiting for its offset on the\n"
    "                     thread that ingested it (zb_stream_wait_for_offset), as a producer\n"
    "                     that awaits each ack does, not by the ack event's callback on the\n"
    "                     library's dispatch thread\n"
    "  --idle N           measure what N open streams of one SDK cost with nothing to send:\n"
    "                     each sends one record, then the CPU over --seconds is counted\n"
    "  --seconds N        how long a latency run sends, or an idle run counts (default 5)\n"
    "\n"
    "Examples:\n"
    "  zerobus bench\n"
    "  zerobus serve --null-sink --listen 127.0.0.1:7001 &\n"
    "  zerobus bench --endpoint http://127.0.0.1:7001 --size 1000 --threads 8 --streams 4\n"
    "  zerobus bench --endpoint http://127.0.0.1:7001 --rate 1000 --seconds 10 --json\n"
    "  zerobus bench --arrow --records 2000000\n";

// One run's shape; rate > 0 makes it a latency run, idle > 0 an idle one.
struct Workload {
  std::string name;  // empty: described from the figures below
  long records = 1000000;
  long size = 100;
  long batch = 1;
  long threads = 1;
  long streams = 1;
  long lanes = 1;
  bool arrow = false;  // batch: rows per Arrow record batch
  long rate = 0;
  bool wait = false;  // a latency run timed by wait_for_offset(), not by the ack event
  long idle = 0;      // open streams that have nothing to send
  long seconds = 5;
};

// The main scenarios, each near a second or two of work against a fast local server.
std::vector<Workload> MainScenarios() {
  auto make = [](std::string name, long records, long size, long batch, long threads) {
    Workload workload;
    workload.name = std::move(name);
    workload.records = records;
    workload.size = size;
    workload.batch = batch;
    workload.threads = threads;
    return workload;
  };
  Workload latency;
  latency.name = "ack latency at 1,000 records/s";
  latency.size = 100;
  latency.rate = 1000;
  latency.seconds = 3;
  Workload laned = make("100 B, a call per record, 4 threads, 4 lanes", 2000000, 100, 1, 4);
  laned.lanes = 4;
  Workload arrow =
      make("Arrow batches of 1,000 rows, 10 columns", 5000000, 0, bench::kArrowBenchRows, 1);
  arrow.arrow = true;
  return {make("100 B, a call per record", 2000000, 100, 1, 1),
          make("100 B, a call per record, 8 threads", 2000000, 100, 1, 8),
          laned,
          make("100 B, batches of 100", 5000000, 100, 100, 1),
          make("1 KB, a call per record", 1000000, 1000, 1, 1),
          make("10 KB, a call per record", 200000, 10000, 1, 1),
          arrow,
          latency};
}

// Where and how every run connects: the endpoint, the table (empty: the workload's own), and
// the options of --set.
struct Target {
  std::string endpoint;
  std::string table;
  std::vector<std::pair<std::string, std::string>> settings;
};

// A config with the target's settings and, for an http:// endpoint, plaintext.
zerobus::Config MakeConfig(const Target &target) {
  zerobus::Config config;
  if (target.endpoint.rfind("http://", 0) == 0) config.set("transport.plaintext", true);
  for (const auto &[key, value] : target.settings) config.set(key, value);
  return config;
}

zerobus::Stream OpenStream(const zerobus::Sdk &sdk, const Target &target,
                           const zerobus::Config &config) {
  static const std::string descriptor = bench::EventDescriptor();
  return sdk.proto_stream(target.table.empty() ? bench::kBenchTable : target.table, descriptor,
                          config);
}

zerobus::Stream OpenArrowStream(const zerobus::Sdk &sdk, const Target &target,
                                const bench::ArrowBenchBatch &batch,
                                const zerobus::Config &config) {
  return sdk.arrow_stream(target.table.empty() ? bench::kArrowBenchTable : target.table,
                          &batch.schema(), config);
}

// Closes every stream, which flushes what is left, and destroys it.
void CloseAll(std::vector<zerobus::Stream> *streams) {
  for (zerobus::Stream &stream : *streams) stream.close();
  streams->clear();
}

using Clock = std::chrono::steady_clock;

BenchResult RunThroughput(const Target &target, const Workload &workload) {
  zerobus::Config config = MakeConfig(target);
  if (workload.lanes > 1) config.set("stream.lanes", std::to_string(workload.lanes));
  const zerobus::Sdk sdk(target.endpoint, config);
  // An Arrow run's batch: its buffers built once, each call a new C Data array over them.
  std::optional<bench::ArrowBenchBatch> arrow;
  if (workload.arrow) arrow.emplace(workload.batch);
  std::vector<zerobus::Stream> streams;
  for (long i = 0; i < workload.streams; ++i) {
    streams.push_back(arrow ? OpenArrowStream(sdk, target, *arrow, config)
                            : OpenStream(sdk, target, config));
  }
  const std::string record = bench::EventRecord(workload.size);
  const long calls_per_thread = workload.records / workload.batch / workload.threads;

  // The first failure of any thread; the others stop at their next call.
  std::atomic<bool> failed{false};
  std::optional<zerobus::Error> failure;
  const auto fail = [&](const zerobus::Error &error) {
    if (!failed.exchange(true)) failure = error;
  };
  auto ingest = [&](long thread) {
    // Built once: Stream::ingest_proto_batch() would build these arrays on every call, a cost
    // of the wrapper that the figures, the library's, must not include.
    const std::vector<const void *> batch(static_cast<size_t>(workload.batch), record.data());
    const std::vector<size_t> sizes(static_cast<size_t>(workload.batch), record.size());
    for (long call = 0; call < calls_per_thread && !failed.load(std::memory_order_relaxed);
         ++call) {
      zerobus::Stream &stream = streams[static_cast<size_t>((thread + call) % workload.streams)];
      if (arrow) {
        ArrowArray array = arrow->Array();
        try {
          stream.ingest_arrow(&array);
        } catch (const zerobus::Error &error) {
          fail(error);
        }
        if (array.release != nullptr) array.release(&array);  // refused untouched
        continue;
      }
      if (workload.batch == 1) {
        try {
          stream.ingest_proto(record);
        } catch (const zerobus::Error &error) {
          fail(error);
        }
        continue;
      }
      zb_error *err = nullptr;
      const zb_status status = zb_stream_ingest_proto_batch(
          stream.get(), batch.data(), sizes.data(), batch.size(), nullptr, &err);
      if (status != ZB_OK) fail(zerobus::Error::from_c(status, err));
      zb_error_free(err);
    }
  };

  const double cpu_start = bench::ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (long t = 0; t < workload.threads; ++t) threads.emplace_back(ingest, t);
  for (std::thread &thread : threads) thread.join();
  if (failure) throw *failure;
  for (zerobus::Stream &stream : streams) stream.flush();
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = bench::ProcessCpuSeconds() - cpu_start;
  CloseAll(&streams);
  result.mode = arrow ? "arrow" : "throughput";
  result.records = calls_per_thread * workload.batch * workload.threads;
  // An Arrow run's MB/s: the batch's buffer bytes per row.
  if (arrow) result.size = arrow->buffer_bytes() / arrow->rows();
  return result;
}

// Send times of a latency run's records, and each one's latency once its ack has come.
struct LatencySamples {
  std::vector<Clock::time_point> sent;
  std::vector<double> latency_us;

  void RecordAck(const zerobus::Event &event) {
    if (event.type != zerobus::Event::Type::ack) return;
    const Clock::time_point now = Clock::now();
    for (uint64_t offset = event.first_offset; offset <= event.last_offset; ++offset) {
      latency_us[offset] = std::chrono::duration<double, std::micro>(now - sent[offset]).count();
    }
  }
};

// How a latency run paces its records: every record due within a tick is sent at its start.
constexpr std::chrono::milliseconds kPacingTick(1);

BenchResult RunLatency(const Target &target, const Workload &workload) {
  const auto records = static_cast<size_t>(workload.rate * workload.seconds);
  LatencySamples samples{std::vector<Clock::time_point>(records), std::vector<double>(records, -1)};
  zerobus::Config config = MakeConfig(target);
  if (!workload.wait) {
    config.on_event([&samples](const zerobus::Event &event) { samples.RecordAck(event); });
  }
  const zerobus::Sdk sdk(target.endpoint, config);
  std::vector<zerobus::Stream> streams;
  streams.push_back(OpenStream(sdk, target, config));
  const std::string record = bench::EventRecord(workload.size);

  const double cpu_start = bench::ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  // Paced in ticks: the records due by each tick go out together, so that at high rates the
  // pacing costs one sleep a tick, not one a record, and measures the library, not the sleeps.
  size_t sent = 0;
  for (Clock::time_point tick = start; sent < records; tick += kPacingTick) {
    std::this_thread::sleep_until(tick);
    const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
    const auto due = static_cast<size_t>(elapsed.count() * workload.rate / 1000000000LL) + 1;
    for (const size_t end = std::min(due, records); sent < end; ++sent) {
      samples.sent[sent] = Clock::now();
      const uint64_t offset = streams[0].ingest_proto(record);
      if (workload.wait) {
        streams[0].wait_for_offset(offset);
        samples.latency_us[offset] =
            std::chrono::duration<double, std::micro>(Clock::now() - samples.sent[offset]).count();
      }
    }
  }
  streams[0].flush();
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = bench::ProcessCpuSeconds() - cpu_start;
  // Destroy is a barrier for the callback: every ack has been counted after it.
  CloseAll(&streams);
  result.mode = "latency";
  result.records = static_cast<long>(records);
  result.rate = workload.rate;
  result.latency = bench::PercentilesOf(std::move(samples.latency_us));
  return result;
}

// What open streams cost while they have nothing to send: each sends one record and has it
// acknowledged, then the process's CPU is counted for workload.seconds. The streams have an
// event callback, as the bindings' streams do.
BenchResult RunIdle(const Target &target, const Workload &workload) {
  zerobus::Config config = MakeConfig(target);
  config.on_event([](const zerobus::Event &) {});
  const zerobus::Sdk sdk(target.endpoint, config);
  std::vector<zerobus::Stream> streams;
  const std::string record = bench::EventRecord(workload.size);
  for (long i = 0; i < workload.idle; ++i) {
    streams.push_back(OpenStream(sdk, target, config));
    streams.back().ingest_proto(record);
  }
  for (zerobus::Stream &stream : streams) stream.flush();
  const double cpu_start = bench::ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(workload.seconds));
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = bench::ProcessCpuSeconds() - cpu_start;
  CloseAll(&streams);
  result.mode = "idle";
  result.records = workload.idle;
  return result;
}

BenchResult Run(const Target &target, const Workload &workload) {
  BenchResult result = workload.rate > 0   ? RunLatency(target, workload)
                       : workload.idle > 0 ? RunIdle(target, workload)
                                           : RunThroughput(target, workload);
  result.client = "libzerobus";
  result.version = zerobus::version();
  if (result.mode != "arrow") result.size = workload.size;
  result.batch = workload.batch;
  result.threads = workload.threads;
  result.streams = workload.idle > 0 ? workload.idle : workload.streams;
  result.lanes = workload.lanes;
  result.peak_rss_mib = bench::PeakRssMiB();
  return result;
}

// A name for a run given on the command line.
std::string Describe(const Workload &workload) {
  std::string name = std::to_string(workload.size) + " B, ";
  if (workload.rate > 0) {
    return name + "ack latency at " + std::to_string(workload.rate) + "/s" +
           (workload.wait ? ", timed by wait_for_offset" : "");
  }
  if (workload.idle > 0) return std::to_string(workload.idle) + " idle streams";
  if (workload.arrow) {
    name = "Arrow batches of " + std::to_string(workload.batch) + " rows, 10 columns";
  } else {
    name +=
        workload.batch == 1 ? "a call per record" : "batches of " + std::to_string(workload.batch);
  }
  if (workload.threads > 1) name += ", " + std::to_string(workload.threads) + " threads";
  if (workload.streams > 1) name += ", " + std::to_string(workload.streams) + " streams";
  if (workload.lanes > 1) name += ", " + std::to_string(workload.lanes) + " lanes";
  return name;
}

void PrintRow(const std::string &name, const BenchResult &result) {
  if (result.mode == "idle") {
    std::printf("%-50s %.3f%% of one core\n", name.c_str(),
                100 * result.cpu_seconds / result.seconds);
    return;
  }
  if (result.rate > 0) {
    std::printf("%-50s p50 %7.0f us  p99 %7.0f us  p99.9 %7.0f us\n", name.c_str(),
                result.latency.p50_us, result.latency.p99_us, result.latency.p999_us);
    return;
  }
  const double rate = static_cast<double>(result.records) / result.seconds;
  std::printf("%-50s %11.0f records/s %8.1f MB/s %6.2f cpu-s/M %7.1f MiB peak\n", name.c_str(),
              rate, rate * static_cast<double>(result.size) / 1e6,
              result.cpu_seconds / (static_cast<double>(result.records) / 1e6),
              result.peak_rss_mib);
}

// Reads a count flag's value into *out, which must be at least `least`.
std::function<std::string(const std::string &)> CountInto(long *out, long least, bool *given) {
  return [out, least, given](const std::string &text) -> std::string {
    long long value = 0;
    if (!ParseCount(text, &value) || value < least) {
      return "expects a whole number of at least " + std::to_string(least);
    }
    *out = static_cast<long>(value);
    *given = true;
    return "";
  };
}

}  // namespace

int RunBench(int argc, char **argv) {
  Target target;
  Workload custom;
  bool workload_given = false;
  bool json = false;
  Flags flags("bench", kUsage);
  flags.Value("--endpoint", [&](const std::string &value) {
    target.endpoint = value;
    return std::string();
  });
  flags.Value("--table", [&](const std::string &value) {
    target.table = value;
    return std::string();
  });
  flags.Value("--set", [&](const std::string &value) -> std::string {
    const size_t equals = value.find('=');
    if (equals == std::string::npos || equals == 0) return "expects KEY=VALUE";
    target.settings.emplace_back(value.substr(0, equals), value.substr(equals + 1));
    return "";
  });
  flags.Switch("--json", [&] { json = true; });
  flags.Value("--records", CountInto(&custom.records, 1, &workload_given));
  flags.Value("--size", CountInto(&custom.size, bench::kMinRecordSize, &workload_given));
  flags.Value("--threads", CountInto(&custom.threads, 1, &workload_given));
  flags.Value("--streams", CountInto(&custom.streams, 1, &workload_given));
  flags.Value("--lanes", CountInto(&custom.lanes, 1, &workload_given));
  bool batch_given = false;
  flags.Value("--batch", CountInto(&custom.batch, 1, &batch_given));
  flags.Switch("--arrow", [&] {
    custom.arrow = true;
    workload_given = true;
  });
  flags.Value("--rate", CountInto(&custom.rate, 1, &workload_given));
  flags.Switch("--wait", [&] { custom.wait = true; });
  flags.Value("--idle", CountInto(&custom.idle, 1, &workload_given));
  flags.Value("--seconds", CountInto(&custom.seconds, 1, &workload_given));
  if (const std::optional<int> done = flags.Parse(argc, argv)) return *done;
  workload_given = workload_given || batch_given;
  if (custom.arrow && !batch_given) custom.batch = bench::kArrowBenchRows;
  if (custom.arrow && (custom.rate > 0 || custom.idle > 0)) {
    std::fprintf(stderr, "zerobus bench: --arrow measures throughput: not with --rate or --idle\n");
    return 2;
  }
  if (custom.wait && custom.rate == 0) {
    std::fprintf(stderr, "zerobus bench: --wait times a latency run: only with --rate\n");
    return 2;
  }
  if (custom.size > bench::kMaxRecordSize) {
    std::fprintf(stderr, "zerobus bench: --size must be at most %ld\n", bench::kMaxRecordSize);
    return 2;
  }
  if (custom.records < custom.batch * custom.threads) {
    std::fprintf(stderr, "zerobus bench: --records must be at least --batch times --threads\n");
    return 2;
  }

  std::unique_ptr<server::Server> local;
  if (target.endpoint.empty()) {
    server::ServerOptions options;
    options.null_sink = true;
    std::string error = DeclareTable(bench::kArrowBenchTableDdl, &options.tables);
    if (error.empty()) local = server::Server::Start(options, &error);
    if (!local) {
      std::fprintf(stderr, "zerobus bench: cannot start the local server: %s\n", error.c_str());
      return 1;
    }
    target.endpoint = local->endpoint();
  }
  const std::vector<Workload> workloads =
      workload_given ? std::vector<Workload>{custom} : MainScenarios();
  if (!json) {
    std::printf("libzerobus %s into %s (%s), table %s\n", zerobus::version(),
                target.endpoint.c_str(),
                local ? "a null-sink server in this process" : "given endpoint",
                target.table.empty() ? "bench.default.events (Arrow: bench.default.arrow_events)"
                                     : target.table.c_str());
  }
  try {
    for (const Workload &workload : workloads) {
      const BenchResult result = Run(target, workload);
      if (json) {
        std::printf("%s\n", bench::ToJsonLine(result).c_str());
      } else {
        PrintRow(workload.name.empty() ? Describe(workload) : workload.name, result);
      }
      std::fflush(stdout);
    }
  } catch (const zerobus::Error &error) {
    std::fprintf(stderr, "zerobus bench: %s\n", error.what());
    return 1;
  }
  return 0;
}

}  // namespace zerobus::cli
