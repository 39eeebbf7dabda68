#include "zbtest_raw_stream.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "zbtest_event.h"

namespace zbtest {

std::shared_ptr<grpc::Channel> LoopbackChannel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

RawStream::RawStream(int port, std::chrono::milliseconds deadline)
    : RawStream(LoopbackChannel(port), deadline, {}) {}

RawStream::RawStream(const std::shared_ptr<grpc::Channel> &channel,
                     std::chrono::milliseconds deadline,
                     const std::vector<std::pair<std::string, std::string>> &metadata)
    : stub_(databricks::zerobus::Zerobus::NewStub(channel)) {
  context_.set_deadline(std::chrono::system_clock::now() + deadline);
  for (const auto &entry : metadata) context_.AddMetadata(entry.first, entry.second);
  stream_ = stub_->EphemeralStream(&context_);
}

bool RawStream::Write(const EphemeralStreamRequest &request) {
  return stream_->Write(request);
}

std::optional<EphemeralStreamResponse> RawStream::Read() {
  EphemeralStreamResponse response;
  if (!stream_->Read(&response)) return std::nullopt;
  return response;
}

std::optional<int64_t> RawStream::ReadAck() {
  std::optional<EphemeralStreamResponse> response = Read();
  if (!response || !response->has_ingest_record_response() ||
      !response->ingest_record_response().has_durability_ack_up_to_offset()) {
    return std::nullopt;
  }
  return response->ingest_record_response().durability_ack_up_to_offset();
}

std::string RawStream::Open(const EphemeralStreamRequest &create) {
  if (!Write(create)) return "";
  std::optional<EphemeralStreamResponse> response = Read();
  if (!response || !response->has_create_stream_response()) return "";
  return response->create_stream_response().stream_id();
}

void RawStream::WritesDone() {
  stream_->WritesDone();
}

grpc::Status RawStream::Finish() {
  EphemeralStreamResponse ignored;
  while (stream_->Read(&ignored)) {
  }
  return stream_->Finish();
}

EphemeralStreamRequest CreateProto(const std::string &table, const std::string &descriptor) {
  EphemeralStreamRequest request;
  auto *create = request.mutable_create_stream();
  create->set_table_name(table);
  create->set_record_type(databricks::zerobus::RecordType::PROTO);
  create->set_descriptor_proto(descriptor);
  return request;
}

EphemeralStreamRequest CreateJson(const std::string &table) {
  EphemeralStreamRequest request;
  auto *create = request.mutable_create_stream();
  create->set_table_name(table);
  create->set_record_type(databricks::zerobus::RecordType::JSON);
  return request;
}

EphemeralStreamRequest CreateAvro(const std::string &table, const std::string &writer_schema) {
  EphemeralStreamRequest request;
  auto *create = request.mutable_create_stream();
  create->set_table_name(table);
  create->set_record_type(databricks::zerobus::RecordType::AVRO);
  create->set_avro_schema_json(writer_schema);
  return request;
}

EphemeralStreamRequest AvroRecord(int64_t offset, const std::string &datum) {
  EphemeralStreamRequest request;
  request.mutable_ingest_record()->set_offset_id(offset);
  request.mutable_ingest_record()->set_avro_encoded_record(datum);
  return request;
}

EphemeralStreamRequest AvroBatch(int64_t offset, const std::vector<std::string> &datums) {
  EphemeralStreamRequest request;
  auto *batch = request.mutable_ingest_record_batch();
  batch->set_offset_id(offset);
  batch->mutable_avro_batch()->mutable_records()->Add(datums.begin(), datums.end());
  return request;
}

EphemeralStreamRequest ProtoRecord(int64_t offset, const std::string &record) {
  EphemeralStreamRequest request;
  request.mutable_ingest_record()->set_offset_id(offset);
  request.mutable_ingest_record()->set_proto_encoded_record(record);
  return request;
}

EphemeralStreamRequest JsonRecord(int64_t offset, const std::string &record) {
  EphemeralStreamRequest request;
  request.mutable_ingest_record()->set_offset_id(offset);
  request.mutable_ingest_record()->set_json_record(record);
  return request;
}

EphemeralStreamRequest ProtoBatch(int64_t offset, const std::vector<std::string> &records) {
  EphemeralStreamRequest request;
  auto *batch = request.mutable_ingest_record_batch();
  batch->set_offset_id(offset);
  auto *items = batch->mutable_proto_encoded_batch()->mutable_records();
  items->Add(records.begin(), records.end());
  return request;
}

EphemeralStreamRequest JsonBatch(int64_t offset, const std::vector<std::string> &records) {
  EphemeralStreamRequest request;
  auto *batch = request.mutable_ingest_record_batch();
  batch->set_offset_id(offset);
  auto *items = batch->mutable_json_batch()->mutable_records();
  items->Add(records.begin(), records.end());
  return request;
}

std::string EventDescriptor() {
  const uint8_t *data;
  size_t len;
  zbtest_descriptor(&data, &len);
  return std::string(reinterpret_cast<const char *>(data), len);
}

std::string EncodeEvent(int64_t id, const std::string &payload) {
  std::string bytes(zbtest_encode_event(id, payload.c_str(), nullptr, 0), '\0');
  zbtest_encode_event(id, payload.c_str(), reinterpret_cast<uint8_t *>(bytes.data()), bytes.size());
  return bytes;
}

}  // namespace zbtest
