// The raw Arrow Flight reference of bench/run: the ceiling beside `zerobus bench --arrow`.
// bench/arrow_batch.h's batch is encoded as IPC once, before the clock starts, and each DoPut
// frame is that pre-serialized FlightData behind its own app_metadata {"offset_id": N}: gRPC
// gets the bytes as they are, with nothing of the library's stream, window or encoder on the way.
//
//   raw_flight_bench --endpoint http://HOST:PORT [--table NAME] [--records ROWS] [--batch ROWS]
//                    [--streams N]
//
// Each of --streams DoPut calls gets its share of the rows in batches of --batch rows (default
// 1000), written by one thread as fast as gRPC takes them while a second thread reads the
// PutResults; the run ends when every call's ack_up_to_records covers its rows. The table must
// be declared on the server (bench::kArrowBenchTableDdl). Prints one JSON line, as `zerobus
// bench --json` does.
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "arrow/c_data_import.h"
#include "arrow/ipc_writer.h"
#include "arrow_flight.pb.h"
#include "bench/arrow_batch.h"
#include "bench/workload.h"

namespace {

using ::arrow::flight::protocol::FlightData;
using ::arrow::flight::protocol::PutResult;
using zerobus::bench::BenchResult;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string endpoint;
  std::string table = zerobus::bench::kArrowBenchTable;
  long records = 1000000;
  long batch = zerobus::bench::kArrowBenchRows;
  long streams = 1;
};

[[noreturn]] void Fail(const std::string &message) {
  std::fprintf(stderr, "raw_flight_bench: %s\n", message.c_str());
  std::exit(1);
}

// The batch's FlightData, serialized once: its schema message, and its record batch without
// app_metadata (protobuf takes fields in any order, so each frame puts its own in front).
struct EncodedFrames {
  std::string schema;
  std::string batch;
  int64_t rows = 0;
  long bytes_per_row = 0;
};

EncodedFrames EncodeFrames(long rows) {
  namespace za = zerobus::arrow;
  const zerobus::bench::ArrowBenchBatch source(rows);
  za::CDataSchema schema;
  ArrowArray array = source.Array();
  za::RecordBatch batch;
  za::EncodedMessage message;
  if (!za::CDataSchema::Import(source.schema(), &schema).ok() ||
      !za::ImportRecordBatch(&array, schema, &batch).ok() ||
      !za::EncodeRecordBatch(schema.schema(), batch, za::WriteOptions{}, &message).ok()) {
    Fail("encoding the batch failed");
  }
  const za::EncodedMessage schema_message = za::EncodeSchema(schema.schema());
  EncodedFrames frames;
  FlightData data;
  data.set_data_header(schema_message.metadata.data, schema_message.metadata.size);
  frames.schema = data.SerializeAsString();
  data.set_data_header(message.metadata.data, message.metadata.size);
  data.set_data_body(za::Concatenate(message.body));
  frames.batch = data.SerializeAsString();
  frames.rows = rows;
  frames.bytes_per_row = static_cast<long>(source.buffer_bytes() / rows);
  return frames;
}

// A record batch's frame: app_metadata (FlightData field 3) built here, then the shared bytes.
grpc::ByteBuffer BatchFrame(const EncodedFrames &frames, int64_t offset_id) {
  const std::string metadata = "{\"offset_id\":" + std::to_string(offset_id) + "}";
  std::string head(1, static_cast<char>((3 << 3) | 2));
  for (uint64_t length = metadata.size();; length >>= 7) {
    head.push_back(static_cast<char>((length & 0x7f) | (length > 0x7f ? 0x80 : 0)));
    if (length <= 0x7f) break;
  }
  head += metadata;
  grpc::Slice slices[2] = {grpc::Slice(head), grpc::Slice(frames.batch.data(), frames.batch.size(),
                                                          grpc::Slice::STATIC_SLICE)};
  return grpc::ByteBuffer(slices, 2);
}

grpc::ByteBuffer Bytes(const std::string &bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// One DoPut call whose schema the server accepted (its ready signal). The destructor cancels
// the call. One thread may write while another reads.
class FlightCall {
 public:
  FlightCall(grpc::ChannelInterface *channel, const std::string &table,
             const EncodedFrames &frames) {
    context_.AddMetadata("x-databricks-zerobus-table-name", table);
    // The generated stub would serialize each FlightData again; frames as ByteBuffers go as
    // they are, which is what the ceiling must measure.
    static const grpc::internal::RpcMethod kDoPut("/arrow.flight.protocol.FlightService/DoPut",
                                                  grpc::internal::RpcMethod::BIDI_STREAMING);
    call_.reset(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, PutResult>::Create(
        channel, kDoPut, &context_));
    if (!call_->Write(Bytes(frames.schema)) || ReadAckedRows() != 0) {
      Fail("the server did not accept the schema (is " + table + " declared?)");
    }
  }
  ~FlightCall() {
    context_.TryCancel();
    call_->Finish();
  }
  FlightCall(const FlightCall &) = delete;
  FlightCall &operator=(const FlightCall &) = delete;

  bool Write(const grpc::ByteBuffer &frame) { return call_->Write(frame); }

  // The next PutResult's ack_up_to_records (0 for the ready signal), or -1 once the call ended.
  int64_t ReadAckedRows() {
    PutResult result;
    if (!call_->Read(&result)) return -1;
    const nlohmann::json metadata =
        nlohmann::json::parse(result.app_metadata(), nullptr, /*allow_exceptions=*/false);
    if (!metadata.is_object() || !metadata.contains("ack_up_to_records")) {
      Fail("a PutResult without ack_up_to_records: " + result.app_metadata());
    }
    return metadata["ack_up_to_records"].get<int64_t>();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, PutResult>> call_;
};

// Writes `count` frames on `call` and returns once every row is acknowledged.
void StreamFrames(FlightCall *call, long count, const EncodedFrames &frames) {
  const int64_t rows = count * frames.rows;
  std::thread reader([&] {
    for (int64_t acked = 0; acked < rows;) {
      acked = call->ReadAckedRows();
      if (acked < 0) Fail("the call ended before every row was acknowledged");
    }
  });
  for (long i = 0; i < count; ++i) {
    if (!call->Write(BatchFrame(frames, i))) Fail("the call ended while writing");
  }
  reader.join();
}

BenchResult Run(const Options &options) {
  constexpr char kScheme[] = "http://";
  if (options.endpoint.rfind(kScheme, 0) != 0) Fail("--endpoint must be http://HOST:PORT");
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  const std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      options.endpoint.substr(std::strlen(kScheme)), grpc::InsecureChannelCredentials(), args);
  const EncodedFrames frames = EncodeFrames(options.batch);
  std::vector<std::unique_ptr<FlightCall>> calls;
  for (long i = 0; i < options.streams; ++i) {
    calls.push_back(std::make_unique<FlightCall>(channel.get(), options.table, frames));
  }
  const long frames_per_call = options.records / options.batch / options.streams;

  const double cpu_start = zerobus::bench::ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> writers;
  for (const std::unique_ptr<FlightCall> &call : calls) {
    writers.emplace_back(StreamFrames, call.get(), frames_per_call, std::cref(frames));
  }
  for (std::thread &writer : writers) writer.join();
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = zerobus::bench::ProcessCpuSeconds() - cpu_start;
  result.mode = "arrow";
  result.records = frames_per_call * options.batch * options.streams;
  result.batch = options.batch;
  result.size = frames.bytes_per_row;
  return result;
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Fail("usage: see the comment at the top of bench/raw_flight_bench.cc");
    const char *value = argv[++i];
    if (flag == "--endpoint") {
      options.endpoint = value;
    } else if (flag == "--table") {
      options.table = value;
    } else if (flag == "--records") {
      options.records = zerobus::bench::CountFlagOrExit("raw_flight_bench", "--records", value, 1);
    } else if (flag == "--batch") {
      options.batch = zerobus::bench::CountFlagOrExit("raw_flight_bench", "--batch", value, 1);
    } else if (flag == "--streams") {
      options.streams = zerobus::bench::CountFlagOrExit("raw_flight_bench", "--streams", value, 1);
    } else {
      Fail("unknown option " + flag);
    }
  }
  if (options.records < options.batch * options.streams) {
    Fail("--records must be at least --batch times --streams");
  }
  BenchResult result = Run(options);
  result.client = "raw-flight";
  result.version = grpc::Version();
  result.streams = options.streams;
  result.peak_rss_mib = zerobus::bench::PeakRssMiB();
  std::printf("%s\n", zerobus::bench::ToJsonLine(result).c_str());
  return 0;
}
