#include "zbtest_raw_persistent.h"

#include "zbtest_raw_stream.h"

namespace zbtest {

RawPersistentStream::RawPersistentStream(int port, std::chrono::milliseconds deadline)
    : stub_(databricks::zerobus::Zerobus::NewStub(LoopbackChannel(port))) {
  context_.set_deadline(std::chrono::system_clock::now() + deadline);
  stream_ = stub_->PersistentStream(&context_);
}

bool RawPersistentStream::Write(const PersistentStreamRequest &request) {
  return stream_->Write(request);
}

bool RawPersistentStream::Write(const databricks::zerobus::EphemeralStreamRequest &request) {
  PersistentStreamRequest persistent;
  if (request.has_create_stream()) {
    *persistent.mutable_create_stream()->mutable_create_stream() = request.create_stream();
  } else if (request.has_ingest_record()) {
    *persistent.mutable_ingest_record() = request.ingest_record();
  } else if (request.has_ingest_record_batch()) {
    *persistent.mutable_ingest_record_batch() = request.ingest_record_batch();
  }
  return Write(persistent);
}

std::optional<PersistentStreamResponse> RawPersistentStream::Read() {
  PersistentStreamResponse response;
  if (!stream_->Read(&response)) return std::nullopt;
  return response;
}

std::optional<int64_t> RawPersistentStream::ReadAck() {
  std::optional<PersistentStreamResponse> response = Read();
  if (!response || !response->has_ingest_record_response() ||
      !response->ingest_record_response().has_durability_ack_up_to_offset()) {
    return std::nullopt;
  }
  return response->ingest_record_response().durability_ack_up_to_offset();
}

std::string RawPersistentStream::Create(const databricks::zerobus::EphemeralStreamRequest &create) {
  if (!Write(create)) return "";
  std::optional<PersistentStreamResponse> response = Read();
  if (!response || !response->has_create_stream_response()) return "";
  return response->create_stream_response().stream_id();
}

bool RawPersistentStream::Resume(const std::string &stream_id, databricks::zerobus::RecordType type,
                                 const std::string &descriptor,
                                 std::optional<int64_t> *last_committed) {
  PersistentStreamRequest request;
  auto *resume = request.mutable_resume_stream();
  resume->set_stream_id(stream_id);
  resume->set_record_type(type);
  if (!descriptor.empty()) resume->set_descriptor_proto(descriptor);
  if (!Write(request)) return false;
  std::optional<PersistentStreamResponse> response = Read();
  if (!response || !response->has_resume_stream_response()) return false;
  const auto &resumed = response->resume_stream_response();
  *last_committed = resumed.has_last_committed_offset()
                        ? std::optional<int64_t>(resumed.last_committed_offset())
                        : std::nullopt;
  return true;
}

void RawPersistentStream::WritesDone() {
  stream_->WritesDone();
}

grpc::Status RawPersistentStream::Finish() {
  PersistentStreamResponse ignored;
  while (stream_->Read(&ignored)) {
  }
  return stream_->Finish();
}

grpc::Status RetireStream(int port, const std::string &table, const std::string &stream_id) {
  auto stub = databricks::zerobus::Zerobus::NewStub(LoopbackChannel(port));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  databricks::zerobus::RetireStreamRequest request;
  request.set_table_name(table);
  request.set_stream_id(stream_id);
  databricks::zerobus::RetireStreamResponse response;
  return stub->RetireStream(&context, request, &response);
}

}  // namespace zbtest
