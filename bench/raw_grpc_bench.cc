// The raw gRPC reference of bench/run: the generated C++ stub doing the work of a benchmark run
// with nothing of the library, so each figure of `zerobus bench` has a ceiling beside it.
//
//   raw_grpc_bench --endpoint http://HOST:PORT [--table NAME] [--records N] [--size BYTES]
//                  [--streams N]                      throughput: the ceiling
//   raw_grpc_bench --endpoint http://HOST:PORT --rate N [--seconds N] [--size BYTES]
//                                                     ack latency at a fixed rate
//
// Throughput: each of --streams calls gets its share of the records as pre-built
// ingest_record_batch messages of 100 records, written by one thread as fast as gRPC takes
// them while a second thread reads the acks; the run ends when every call's last request is
// acknowledged. Latency: one call, a request per record on a fixed schedule, the time from its
// write to its ack. Prints one JSON line, as `zerobus bench --json` does.
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "zerobus_service.grpc.pb.h"

namespace {

using databricks::zerobus::EphemeralStreamRequest;
using databricks::zerobus::EphemeralStreamResponse;
using databricks::zerobus::Zerobus;
using zerobus::bench::BenchResult;
using zerobus::bench::EventRecord;
using Clock = std::chrono::steady_clock;

// Records per pre-built request of a throughput run.
constexpr long kRecordsPerRequest = 100;

struct Options {
  std::string endpoint;
  std::string table = zerobus::bench::kBenchTable;
  long records = 1000000;
  long size = 100;
  long streams = 1;
  long rate = 0;  // > 0: a latency run
  long seconds = 5;
};

[[noreturn]] void Fail(const std::string &message) {
  std::fprintf(stderr, "raw_grpc_bench: %s\n", message.c_str());
  std::exit(1);
}

// One EphemeralStream call with its create_stream accepted. The destructor cancels the call.
// One thread may write while another reads.
class RawCall {
 public:
  RawCall(Zerobus::Stub *stub, const std::string &table) {
    call_ = stub->EphemeralStream(&context_);
    EphemeralStreamRequest create;
    create.mutable_create_stream()->set_table_name(table);
    create.mutable_create_stream()->set_record_type(databricks::zerobus::PROTO);
    create.mutable_create_stream()->set_descriptor_proto(zerobus::bench::EventDescriptor());
    EphemeralStreamResponse response;
    if (!call_->Write(create) || !call_->Read(&response)) Fail("create_stream was refused");
  }
  ~RawCall() {
    context_.TryCancel();
    call_->Finish();
  }
  RawCall(const RawCall &) = delete;
  RawCall &operator=(const RawCall &) = delete;

  bool Write(const EphemeralStreamRequest &request) { return call_->Write(request); }

  // The offset the next ack makes durable up to, or -1 once the call has ended.
  int64_t ReadAck() {
    EphemeralStreamResponse ack;
    while (call_->Read(&ack)) {
      if (ack.has_ingest_record_response()) {
        return ack.ingest_record_response().durability_ack_up_to_offset();
      }
    }
    return -1;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<EphemeralStreamRequest, EphemeralStreamResponse>> call_;
};

std::unique_ptr<Zerobus::Stub> NewStub(const std::string &endpoint) {
  constexpr char kScheme[] = "http://";
  if (endpoint.rfind(kScheme, 0) != 0) Fail("--endpoint must be http://HOST:PORT");
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  return Zerobus::NewStub(grpc::CreateCustomChannel(endpoint.substr(std::strlen(kScheme)),
                                                    grpc::InsecureChannelCredentials(), args));
}

// Streams `requests` copies of a batch of kRecordsPerRequest records on `call` and returns once
// the last is acknowledged.
void StreamBatches(RawCall *call, long requests, const std::string &record) {
  EphemeralStreamRequest request;
  for (long i = 0; i < kRecordsPerRequest; ++i) {
    request.mutable_ingest_record_batch()->mutable_proto_encoded_batch()->add_records(record);
  }
  std::thread reader([&] {
    int64_t acked = -1;
    while (acked < requests - 1) {
      acked = call->ReadAck();
      if (acked < 0) Fail("the call ended before every request was acknowledged");
    }
  });
  for (long i = 0; i < requests; ++i) {
    request.mutable_ingest_record_batch()->set_offset_id(i);
    if (!call->Write(request)) Fail("the call ended while writing");
  }
  reader.join();
}

BenchResult RunThroughput(const Options &options) {
  const std::unique_ptr<Zerobus::Stub> stub = NewStub(options.endpoint);
  std::vector<std::unique_ptr<RawCall>> calls;
  for (long i = 0; i < options.streams; ++i) {
    calls.push_back(std::make_unique<RawCall>(stub.get(), options.table));
  }
  const std::string record = EventRecord(options.size);
  const long requests_per_call = options.records / kRecordsPerRequest / options.streams;

  const double cpu_start = zerobus::bench::ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> writers;
  for (const std::unique_ptr<RawCall> &call : calls) {
    writers.emplace_back(StreamBatches, call.get(), requests_per_call, std::cref(record));
  }
  for (std::thread &writer : writers) writer.join();
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = zerobus::bench::ProcessCpuSeconds() - cpu_start;
  result.mode = "throughput";
  result.records = requests_per_call * kRecordsPerRequest * options.streams;
  result.batch = kRecordsPerRequest;
  return result;
}

BenchResult RunLatency(const Options &options) {
  const std::unique_ptr<Zerobus::Stub> stub = NewStub(options.endpoint);
  RawCall call(stub.get(), options.table);
  const long records = options.rate * options.seconds;
  std::vector<Clock::time_point> sent(static_cast<size_t>(records));
  std::vector<double> latency_us(static_cast<size_t>(records), -1);

  const double cpu_start = zerobus::bench::ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::thread reader([&] {
    for (int64_t next = 0; next < records;) {
      const int64_t acked = call.ReadAck();
      if (acked < 0) Fail("the call ended before every record was acknowledged");
      const Clock::time_point now = Clock::now();
      for (; next <= acked; ++next) {
        latency_us[static_cast<size_t>(next)] =
            std::chrono::duration<double, std::micro>(now - sent[static_cast<size_t>(next)])
                .count();
      }
    }
  });
  EphemeralStreamRequest request;
  request.mutable_ingest_record_batch()->mutable_proto_encoded_batch()->add_records(
      EventRecord(options.size));
  for (long i = 0; i < records; ++i) {
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(i * 1000000000L / options.rate));
    request.mutable_ingest_record_batch()->set_offset_id(i);
    sent[static_cast<size_t>(i)] = Clock::now();
    if (!call.Write(request)) Fail("the call ended while writing");
  }
  reader.join();
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = zerobus::bench::ProcessCpuSeconds() - cpu_start;
  result.mode = "latency";
  result.records = records;
  result.rate = options.rate;
  result.latency = zerobus::bench::PercentilesOf(std::move(latency_us));
  return result;
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Fail("usage: see the comment at the top of bench/raw_grpc_bench.cc");
    const char *value = argv[++i];
    if (flag == "--endpoint") {
      options.endpoint = value;
    } else if (flag == "--table") {
      options.table = value;
    } else if (flag == "--records") {
      options.records =
          zerobus::bench::CountFlagOrExit("raw_grpc_bench", "--records", value, kRecordsPerRequest);
    } else if (flag == "--size") {
      options.size = zerobus::bench::CountFlagOrExit("raw_grpc_bench", "--size", value,
                                                     zerobus::bench::kMinRecordSize);
    } else if (flag == "--streams") {
      options.streams = zerobus::bench::CountFlagOrExit("raw_grpc_bench", "--streams", value, 1);
    } else if (flag == "--rate") {
      options.rate = zerobus::bench::CountFlagOrExit("raw_grpc_bench", "--rate", value, 1);
    } else if (flag == "--seconds") {
      options.seconds = zerobus::bench::CountFlagOrExit("raw_grpc_bench", "--seconds", value, 1);
    } else {
      Fail("unknown option " + flag);
    }
  }
  if (options.size > zerobus::bench::kMaxRecordSize) Fail("--size is at most 16000");
  if (options.records < kRecordsPerRequest * options.streams) {
    Fail("--records must be at least 100 per stream");
  }
  BenchResult result = options.rate > 0 ? RunLatency(options) : RunThroughput(options);
  result.client = "raw-grpc";
  result.version = grpc::Version();
  result.size = options.size;
  result.streams = options.streams;
  result.peak_rss_mib = zerobus::bench::PeakRssMiB();
  std::printf("%s\n", zerobus::bench::ToJsonLine(result).c_str());
  return 0;
}
