// Ack latency at a fixed rate: the time from an ingest call to the ack event that makes its
// record durable, p50 / p99 / p99.9, next to a raw gRPC client that sends each record as its
// own ingest_record_batch and reads the acks, against the same in-process server.
//
//   ack_latency_bench [--rate RECORDS_PER_S] [--seconds N] [--size BYTES] [--endpoint URL]
//
// Records are sent on a fixed schedule (not as fast as possible), so the figures are latency
// under that load, not throughput. Every run ends only when every record is acknowledged.
#include <zerobus/zerobus.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "server/server.h"

namespace {

using bench::Check;
using bench::EventRecord;
using Clock = std::chrono::steady_clock;

struct Options {
  long rate = 1000;
  long seconds = 3;
  long size = 100;
  std::string endpoint;  // empty: an in-process server
};

// Send times of every record, and the latency of each once its ack arrived.
struct Samples {
  explicit Samples(long records)
      : sent(static_cast<size_t>(records)), latency_us(static_cast<size_t>(records)) {}
  std::vector<Clock::time_point> sent;
  std::vector<double> latency_us;

  void Acked(size_t first, size_t last) {
    const Clock::time_point now = Clock::now();
    for (size_t i = first; i <= last; ++i) {
      latency_us[i] = std::chrono::duration<double, std::micro>(now - sent[i]).count();
    }
  }
};

// Runs `send(i)` for i = 0 .. records - 1 at `rate` per second, on schedule.
template <typename Send>
void Paced(long records, long rate, Send send) {
  const Clock::time_point start = Clock::now();
  for (long i = 0; i < records; ++i) {
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(i * 1000000000L / rate));
    send(static_cast<size_t>(i));
  }
}

void OnEvent(zb_stream *, const zb_event *event, void *user_data) {
  if (event->type == ZB_EVENT_ACK) {
    static_cast<Samples *>(user_data)->Acked(event->first_offset, event->last_offset);
  }
}

void RunLibrary(const std::string &endpoint, const Options &options, Samples *samples) {
  zb_error *err = nullptr;
  zb_config *cfg = nullptr;
  Check(zb_config_new(&cfg, &err), err, "zb_config_new");
  Check(zb_config_set_event_callback(cfg, OnEvent, samples, nullptr, &err), err,
        "zb_config_set_event_callback");
  zb_sdk *sdk = nullptr;
  zb_stream *stream = nullptr;
  bench::OpenEventStream(endpoint, cfg, &sdk, &stream);
  zb_config_destroy(cfg);
  const std::string record = EventRecord(options.size);
  Paced(static_cast<long>(samples->sent.size()), options.rate, [&](size_t i) {
    samples->sent[i] = Clock::now();
    Check(zb_stream_ingest_proto(stream, record.data(), record.size(), nullptr, &err), err,
          "ingest");
  });
  Check(zb_stream_flush(stream, ZB_TIMEOUT_INFINITE, &err), err, "zb_stream_flush");
  // Destroy waits for the callback, so every ack has been recorded after it.
  Check(zb_stream_close(stream, ZB_TIMEOUT_INFINITE, &err), err, "zb_stream_close");
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
}

// The reference: the generated stub, one record per request, acks read on a second thread.
void RunRawGrpc(const std::string &endpoint, const Options &options, Samples *samples) {
  using namespace databricks::zerobus;
  bench::RawEventCall raw(endpoint);
  bench::RawEventCall::Call *call = &raw.call();
  const auto records = static_cast<int64_t>(samples->sent.size());
  std::thread reader([&] {
    EphemeralStreamResponse ack;
    int64_t next = 0;
    while (next < records && call->Read(&ack)) {
      const int64_t acked = ack.ingest_record_response().durability_ack_up_to_offset();
      if (acked < next) continue;
      samples->Acked(static_cast<size_t>(next), static_cast<size_t>(acked));
      next = acked + 1;
    }
  });
  EphemeralStreamRequest request;
  request.mutable_ingest_record_batch()->mutable_proto_encoded_batch()->add_records(
      EventRecord(options.size));
  Paced(records, options.rate, [&](size_t i) {
    request.mutable_ingest_record_batch()->set_offset_id(static_cast<int64_t>(i));
    samples->sent[i] = Clock::now();
    call->Write(request);
  });
  reader.join();
}

struct Percentiles {
  double p50, p99, p999;
};

Percentiles Of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto at = [&](double q) { return values[static_cast<size_t>(q * (values.size() - 1))]; };
  return {at(0.50), at(0.99), at(0.999)};
}

void Print(const char *name, const Percentiles &figures, const Percentiles *baseline) {
  std::printf("%-28s p50 %8.0f us   p99 %8.0f us   p99.9 %8.0f us", name, figures.p50, figures.p99,
              figures.p999);
  if (baseline) {
    std::printf("   (%.2fx / %.2fx the raw gRPC client's)", figures.p50 / baseline->p50,
                figures.p99 / baseline->p99);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--rate" && has_value) {
      options.rate = std::atol(argv[++i]);
    } else if (arg == "--seconds" && has_value) {
      options.seconds = std::atol(argv[++i]);
    } else if (arg == "--size" && has_value) {
      options.size = std::atol(argv[++i]);
    } else if (arg == "--endpoint" && has_value) {
      options.endpoint = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: ack_latency_bench [--rate RECORDS_PER_S] [--seconds N] "
                   "[--size BYTES] [--endpoint URL]\n");
      return 2;
    }
  }
  if (options.rate < 1 || options.seconds < 1 || options.size < 16 || options.size > 16000) {
    std::fprintf(stderr, "--rate and --seconds must be at least 1, --size 16..16000\n");
    return 2;
  }
  std::unique_ptr<zerobus::server::Server> server;
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) {
    zerobus::server::ServerOptions server_options;
    server_options.null_sink = true;
    std::string error;
    server = zerobus::server::Server::Start(server_options, &error);
    if (!server) {
      std::fprintf(stderr, "cannot start the local server: %s\n", error.c_str());
      return 1;
    }
    endpoint = server->endpoint();
  }
  const long records = options.rate * options.seconds;
  std::printf("libzerobus %s, ack latency of %ld records of %ld bytes at %ld records/s, %s\n",
              zb_version_str(), records, options.size, options.rate,
              server ? "null-sink in-process server" : endpoint.c_str());
  Samples raw(records);
  RunRawGrpc(endpoint, options, &raw);
  const Percentiles baseline = Of(raw.latency_us);
  Print("raw gRPC, a request a record", baseline, nullptr);
  Samples library(records);
  RunLibrary(endpoint, options, &library);
  Print("libzerobus C API", Of(library.latency_us), &baseline);
  return 0;
}
