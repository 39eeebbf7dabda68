// What the benchmarks share: the Event table and its records, the SDK and stream they open, the
// process's CPU time and peak memory, and failing loudly.
#ifndef ZEROBUS_BENCH_BENCH_UTIL_H
#define ZEROBUS_BENCH_BENCH_UTIL_H

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>
#include <zerobus/zerobus.h>

#include <memory>
#include <string>

#include "zerobus_service.grpc.pb.h"

namespace bench {

// The table every benchmark writes to, and the Event message of its records.
inline constexpr char kTable[] = "bench.default.events";

// User plus system CPU seconds of this process so far.
double CpuSeconds();

// The process's peak resident set, in MiB.
long PeakRssMiB();

// The serialized DescriptorProto of message Event { optional int64 id = 1; optional string
// payload = 2; }.
std::string EventDescriptor();

// A valid Event of exactly `size` bytes (16 <= size <= 16000): id as a fixed-width varint, the
// payload padding the rest.
std::string EventRecord(long size);

// Exits with a message naming `what` unless `status` is ZB_OK.
void Check(zb_status status, zb_error *err, const char *what);

// A plaintext SDK for `endpoint` and a protobuf stream of Events on it, with `cfg` (may be
// NULL). The caller destroys both.
void OpenEventStream(const std::string &endpoint, const zb_config *cfg, zb_sdk **sdk,
                     zb_stream **stream);

// The raw gRPC reference: one EphemeralStream call of the generated stub to the plaintext
// `endpoint`, its create_stream for the Event table already accepted (the constructor exits
// with a message otherwise). The destructor cancels the call. Not thread-safe, except that
// one thread may read while another writes.
class RawEventCall {
 public:
  using Call = grpc::ClientReaderWriter<databricks::zerobus::EphemeralStreamRequest,
                                        databricks::zerobus::EphemeralStreamResponse>;

  explicit RawEventCall(const std::string &endpoint);
  ~RawEventCall();
  RawEventCall(const RawEventCall &) = delete;
  RawEventCall &operator=(const RawEventCall &) = delete;

  Call &call() { return *call_; }

 private:
  std::unique_ptr<databricks::zerobus::Zerobus::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<Call> call_;
};

}  // namespace bench

#endif  // ZEROBUS_BENCH_BENCH_UTIL_H
