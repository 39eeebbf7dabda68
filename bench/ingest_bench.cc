// Records/s through one stream (or several) into the in-process local server, next to the ceiling
// of a raw gRPC client that streams pre-built ingest_record_batch messages to the same server.
//
//   ingest_bench [--records N] [--size BYTES] [--batch N] [--streams N] [--threads N]
//                [--null-sink] [--endpoint URL]
//
// --threads ingest at once, thread t into stream t % --streams (streams of one SDK).
// With --endpoint, both run against that plaintext server (`zerobus serve --null-sink`, say,
// to compare with the language bindings' benches against the same process) instead.
//
// Every run ends only when every record is acknowledged.
#include <zerobus/zerobus.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "server/server.h"

namespace {

using bench::Check;
using bench::CpuSeconds;
using bench::EventDescriptor;
using bench::EventRecord;
using bench::kTable;
using bench::OpenEventStream;
using bench::PeakRssMiB;
using Clock = std::chrono::steady_clock;

struct Options {
  long records = 2000000;
  long size = 100;
  long batch = 1;    // records per ingest call
  long streams = 1;  // streams of one SDK, thread t ingesting into stream t % streams
  long threads = 1;  // ingesting threads, each sending records / threads
  bool null_sink = false;
  std::string endpoint;  // empty: an in-process server
};

struct Figures {
  double seconds;
  double cpu_seconds;
};

// One thread's share: `count` records into `stream`, `batch` per call.
void Ingest(zb_stream *stream, long count, long batch, const std::string &record) {
  std::vector<const void *> records(static_cast<size_t>(batch), record.data());
  std::vector<size_t> lens(static_cast<size_t>(batch), record.size());
  zb_error *err = nullptr;
  for (long sent = 0; sent < count; sent += batch) {
    zb_status status =
        batch == 1 ? zb_stream_ingest_proto(stream, record.data(), record.size(), nullptr, &err)
                   : zb_stream_ingest_proto_batch(stream, records.data(), lens.data(),
                                                  records.size(), nullptr, &err);
    Check(status, err, "ingest");
  }
}

Figures RunLibrary(const std::string &endpoint, const Options &options) {
  zb_error *err = nullptr;
  zb_sdk *sdk = nullptr;
  std::vector<zb_stream *> streams(static_cast<size_t>(options.streams));
  OpenEventStream(endpoint, nullptr, &sdk, &streams[0]);
  const std::string descriptor = EventDescriptor();
  for (size_t i = 1; i < streams.size(); ++i) {
    Check(zb_stream_new(sdk, kTable, ZB_RECORD_PROTO, descriptor.data(), descriptor.size(), nullptr,
                        &streams[i], &err),
          err, "zb_stream_new");
  }
  const std::string record = EventRecord(options.size);
  const long per_thread = options.records / options.threads;

  const double cpu_start = CpuSeconds();
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (long t = 0; t < options.threads; ++t) {
    zb_stream *stream = streams[static_cast<size_t>(t % options.streams)];
    threads.emplace_back([&, stream] { Ingest(stream, per_thread, options.batch, record); });
  }
  for (std::thread &thread : threads) thread.join();
  for (zb_stream *stream : streams) {
    Check(zb_stream_flush(stream, ZB_TIMEOUT_INFINITE, &err), err, "zb_stream_flush");
  }
  const Figures figures{std::chrono::duration<double>(Clock::now() - start).count(),
                        CpuSeconds() - cpu_start};
  for (zb_stream *stream : streams) {
    Check(zb_stream_close(stream, ZB_TIMEOUT_INFINITE, &err), err, "zb_stream_close");
    zb_stream_destroy(stream);
  }
  zb_sdk_destroy(sdk);
  return figures;
}

// The ceiling: the generated gRPC stub writing pre-built batches of 100 records as fast as
// gRPC takes them, acks read on a second thread.
Figures RunRawGrpc(const std::string &endpoint, const Options &options) {
  using namespace databricks::zerobus;
  bench::RawEventCall raw(endpoint);
  bench::RawEventCall::Call *call = &raw.call();
  constexpr long kPerRequest = 100;
  const long requests = (options.records + kPerRequest - 1) / kPerRequest;
  EphemeralStreamRequest request;
  const std::string record = EventRecord(options.size);
  for (long i = 0; i < kPerRequest; ++i) {
    request.mutable_ingest_record_batch()->mutable_proto_encoded_batch()->add_records(record);
  }
  const double cpu_start = CpuSeconds();
  const Clock::time_point start = Clock::now();
  std::thread reader([&] {
    EphemeralStreamResponse ack;
    while (call->Read(&ack)) {
      if (ack.ingest_record_response().durability_ack_up_to_offset() == requests - 1) break;
    }
  });
  for (long i = 0; i < requests; ++i) {
    request.mutable_ingest_record_batch()->set_offset_id(i);
    if (!call->Write(request)) break;
  }
  reader.join();
  const Figures figures{std::chrono::duration<double>(Clock::now() - start).count(),
                        CpuSeconds() - cpu_start};
  return figures;
}

void Print(const char *name, const Options &options, long records, const Figures &figures,
           double baseline_rate) {
  const double rate = records / figures.seconds;
  std::printf("%-34s %12.0f records/s %9.1f MB/s %8.2f cpu-s/M records", name, rate,
              rate * options.size / 1e6, figures.cpu_seconds / (records / 1e6));
  if (baseline_rate > 0) std::printf("   %.2fx the raw gRPC ceiling", rate / baseline_rate);
  std::printf("\n");
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return std::atol(argv[++i]);
    };
    if (arg == "--records") {
      options.records = value();
    } else if (arg == "--size") {
      options.size = value();
    } else if (arg == "--batch") {
      options.batch = value();
    } else if (arg == "--null-sink") {
      options.null_sink = true;
    } else if (arg == "--streams") {
      options.streams = value();
    } else if (arg == "--threads") {
      options.threads = value();
    } else if (arg == "--endpoint" && i + 1 < argc) {
      options.endpoint = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: ingest_bench [--records N] [--size BYTES] [--batch N] [--streams N] "
                   "[--threads N] [--null-sink] [--endpoint URL]\n");
      return 2;
    }
  }
  if (options.size < 16 || options.size > 16000 || options.batch < 1 || options.records < 1 ||
      options.streams < 1 || options.threads < options.streams) {
    std::fprintf(stderr,
                 "--size must be 16..16000; --batch, --records and --streams at least 1; "
                 "--threads at least --streams\n");
    return 2;
  }
  options.records -= options.records % (options.batch * options.threads);

  std::unique_ptr<zerobus::server::Server> server;
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) {
    zerobus::server::ServerOptions server_options;
    server_options.null_sink = options.null_sink;
    std::string error;
    server = zerobus::server::Server::Start(server_options, &error);
    if (!server) {
      std::fprintf(stderr, "cannot start the local server: %s\n", error.c_str());
      return 1;
    }
    endpoint = server->endpoint();
  }
  std::printf(
      "libzerobus %s, %ld stream(s) from %ld thread(s), %ld records of %ld bytes, %s per call, "
      "%s server\n",
      zb_version_str(), options.streams, options.threads, options.records, options.size,
      options.batch == 1 ? "one record" : (std::to_string(options.batch) + " records").c_str(),
      server ? (options.null_sink ? "null-sink in-process" : "in-memory in-process")
             : endpoint.c_str());
  const Figures ceiling = RunRawGrpc(endpoint, options);
  const double ceiling_rate = options.records / ceiling.seconds;
  Print("raw gRPC, pre-built batches of 100", options, options.records, ceiling, 0);
  const Figures library = RunLibrary(endpoint, options);
  Print("libzerobus C API", options, options.records, library, ceiling_rate);
  std::printf("peak RSS %ld MiB (%s)\n", PeakRssMiB(),
              server ? "server, both clients and all stored rows" : "both clients");
  return 0;
}
