// What every benchmark client measures and how it reports it, shared by `zerobus bench` (the
// library) and bench/raw_grpc_bench (the raw gRPC ceiling) so that bench/run compares like with
// like: the Event table and its records, the process's CPU time and peak memory, latency
// percentiles, and the one JSON line each run prints.
#ifndef ZEROBUS_BENCH_WORKLOAD_H
#define ZEROBUS_BENCH_WORKLOAD_H

#include <string>
#include <vector>

namespace zerobus::bench {

// The table the benchmarks write to unless told otherwise; its records are Events.
inline constexpr char kBenchTable[] = "bench.default.events";

// The smallest and largest record a benchmark builds (EventRecord's bounds).
inline constexpr long kMinRecordSize = 16;
inline constexpr long kMaxRecordSize = 16000;

// The serialized DescriptorProto of message Event { optional int64 id = 1; optional string
// payload = 2; }, which a table (id BIGINT, payload STRING) takes.
std::string EventDescriptor();

// A valid Event of exactly `size` bytes (kMinRecordSize..kMaxRecordSize): the id as a
// fixed-width varint, the payload padding the rest.
std::string EventRecord(long size);

// User plus system CPU seconds of this process so far, every thread included.
double ProcessCpuSeconds();

// The process's peak resident set so far, in MiB.
double PeakRssMiB();

// p50, p99 and p99.9 of a set of latencies, in microseconds.
struct LatencyPercentiles {
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
};
LatencyPercentiles PercentilesOf(std::vector<double> latencies_us);

// FLAG's value TEXT as a whole number of at least `least`. Anything else ends the process as
// the reference clients fail: "PROGRAM: FLAG expects ..." on stderr, exit status 1.
long CountFlagOrExit(const char *program, const char *flag, const char *text, long least);

// One measured run. A throughput run fills the counts and times; a latency run (rate > 0) also
// the percentiles.
struct BenchResult {
  std::string client;   // "libzerobus", "raw-grpc", ...
  std::string version;  // the client's version, when it has one
  std::string mode;     // "throughput", "latency" or "idle"
  long records = 0;
  long size = 0;
  long batch = 1;
  long threads = 1;
  long streams = 1;
  long lanes = 1;  // of each stream
  long rate = 0;   // records/s of a latency run
  double seconds = 0;
  double cpu_seconds = 0;
  double peak_rss_mib = 0;
  LatencyPercentiles latency;
};

// The run as one line of JSON (no newline), the form bench/run reads from every client.
std::string ToJsonLine(const BenchResult &result);

}  // namespace zerobus::bench

#endif  // ZEROBUS_BENCH_WORKLOAD_H
