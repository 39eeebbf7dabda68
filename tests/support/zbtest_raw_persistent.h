// Drives one PersistentStream call by hand through the generated stub, and RetireStream, for
// tests that check the server's persistent streams message by message.
#ifndef ZBTEST_RAW_PERSISTENT_H
#define ZBTEST_RAW_PERSISTENT_H

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>
#include <grpcpp/support/sync_stream.h>

#include "zerobus_service.grpc.pb.h"
#include "zerobus_service.pb.h"

namespace zbtest {

using databricks::zerobus::PersistentStreamRequest;
using databricks::zerobus::PersistentStreamResponse;

// One call to a server on 127.0.0.1. Every blocking method gives up at the call's deadline.
// Not thread-safe, except that one thread may read while another writes.
class RawPersistentStream {
 public:
  explicit RawPersistentStream(int port,
                               std::chrono::milliseconds deadline = std::chrono::seconds(10));

  bool Write(const PersistentStreamRequest &request);
  // The create or ingest payload of an EphemeralStreamRequest (zbtest_raw_stream.h's builders),
  // sent as the PersistentStreamRequest that carries the same.
  bool Write(const databricks::zerobus::EphemeralStreamRequest &request);
  // The next response, or nothing once the call has ended.
  std::optional<PersistentStreamResponse> Read();
  // The next response if it is an ack: its offset; nothing otherwise.
  std::optional<int64_t> ReadAck();
  // Sends `create` (an EphemeralStreamRequest's create_stream) and returns the stream id from
  // the response; empty when refused (Finish() then says why).
  std::string Create(const databricks::zerobus::EphemeralStreamRequest &create);
  // Sends resume_stream and returns true once the server answered it, with the watermark in
  // `*last_committed` (nothing: none committed); false when refused.
  bool Resume(const std::string &stream_id, databricks::zerobus::RecordType type,
              const std::string &descriptor, std::optional<int64_t> *last_committed);
  void WritesDone();
  // Reads whatever responses are left, then returns the call's status.
  grpc::Status Finish();

 private:
  grpc::ClientContext context_;
  std::unique_ptr<databricks::zerobus::Zerobus::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<PersistentStreamRequest, PersistentStreamResponse>>
      stream_;
};

// One RetireStream call; its status.
grpc::Status RetireStream(int port, const std::string &table, const std::string &stream_id);

}  // namespace zbtest

#endif  // ZBTEST_RAW_PERSISTENT_H
