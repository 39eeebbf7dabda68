// Drives one EphemeralStream call by hand through the generated stub, for tests that check the
// server's wire behaviour message by message.
#ifndef ZBTEST_RAW_STREAM_H
#define ZBTEST_RAW_STREAM_H

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>
#include <grpcpp/support/sync_stream.h>

#include "zerobus_service.grpc.pb.h"
#include "zerobus_service.pb.h"

namespace zbtest {

using databricks::zerobus::EphemeralStreamRequest;
using databricks::zerobus::EphemeralStreamResponse;

// A channel to a server on 127.0.0.1.
std::shared_ptr<grpc::Channel> LoopbackChannel(int port);

// One call. Every blocking method gives up at the call's deadline, so that a misbehaving
// server fails a test instead of hanging it. Not thread-safe, except that one thread may read
// while another writes.
class RawStream {
 public:
  explicit RawStream(int port, std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // On any channel (TLS, say), sending `metadata` (e.g. {"authorization", "Bearer ..."}).
  RawStream(const std::shared_ptr<grpc::Channel> &channel, std::chrono::milliseconds deadline,
            const std::vector<std::pair<std::string, std::string>> &metadata);

  bool Write(const EphemeralStreamRequest &request);
  // The next response, or nothing once the call has ended.
  std::optional<EphemeralStreamResponse> Read();
  // The next response if it is an ack: its offset; nothing otherwise.
  std::optional<int64_t> ReadAck();
  // Sends create_stream and returns the stream id from the response; empty when refused.
  std::string Open(const EphemeralStreamRequest &create);
  void WritesDone();
  // Reads whatever responses are left, then returns the call's status.
  grpc::Status Finish();

  grpc::ClientContext &context() { return context_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<databricks::zerobus::Zerobus::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<EphemeralStreamRequest, EphemeralStreamResponse>>
      stream_;
};

// Request builders.
EphemeralStreamRequest CreateProto(const std::string &table, const std::string &descriptor);
EphemeralStreamRequest CreateJson(const std::string &table);
EphemeralStreamRequest CreateAvro(const std::string &table, const std::string &writer_schema);
EphemeralStreamRequest ProtoRecord(int64_t offset, const std::string &record);
EphemeralStreamRequest JsonRecord(int64_t offset, const std::string &record);
EphemeralStreamRequest ProtoBatch(int64_t offset, const std::vector<std::string> &records);
EphemeralStreamRequest JsonBatch(int64_t offset, const std::vector<std::string> &records);
EphemeralStreamRequest AvroRecord(int64_t offset, const std::string &datum);
EphemeralStreamRequest AvroBatch(int64_t offset, const std::vector<std::string> &datums);

// The Event schema of zbtest_event.h, as C++ strings.
std::string EventDescriptor();
std::string EncodeEvent(int64_t id, const std::string &payload);

}  // namespace zbtest

#endif  // ZBTEST_RAW_STREAM_H
