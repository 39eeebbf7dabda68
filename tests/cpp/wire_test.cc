// The hand-built wire bytes must be exactly what the generated protobuf code reads and writes.
#include "core/wire.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "zerobus_service.pb.h"

namespace zerobus::wire {
namespace {

using databricks::zerobus::EphemeralStreamRequest;
using databricks::zerobus::EphemeralStreamResponse;

std::string Frame(int64_t offset_id, RecordFormat format, const std::vector<std::string> &records) {
  std::string body;
  for (const std::string &record : records) {
    std::string entry(RecordEntrySize(record.size()), '\0');
    uint8_t *end =
        WriteRecordEntry(reinterpret_cast<uint8_t *>(entry.data()), record.data(), record.size());
    EXPECT_EQ(reinterpret_cast<uint8_t *>(entry.data()) + entry.size(), end);
    body += entry;
  }
  uint8_t header[kMaxBatchHeaderBytes];
  const size_t header_len = WriteBatchHeader(header, offset_id, format, body.size());
  return std::string(reinterpret_cast<char *>(header), header_len) + body;
}

TEST(Wire, ProtoBatchParsesAsIngestRecordBatch) {
  const std::vector<std::string> records = {"a", std::string(300, 'x'), std::string("\0\1", 2)};
  EphemeralStreamRequest request;
  ASSERT_TRUE(request.ParseFromString(Frame(123456789012, RecordFormat::kProto, records)));
  ASSERT_TRUE(request.has_ingest_record_batch());
  const auto &batch = request.ingest_record_batch();
  EXPECT_EQ(batch.offset_id(), 123456789012);
  ASSERT_TRUE(batch.has_proto_encoded_batch());
  ASSERT_EQ(batch.proto_encoded_batch().records_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(batch.proto_encoded_batch().records(i), records[i]);
}

TEST(Wire, JsonBatchParsesAsJsonBatch) {
  EphemeralStreamRequest request;
  ASSERT_TRUE(request.ParseFromString(Frame(0, RecordFormat::kJson, {"{\"id\":1}", "{\"id\":2}"})));
  const auto &batch = request.ingest_record_batch();
  EXPECT_EQ(batch.offset_id(), 0);
  ASSERT_TRUE(batch.has_json_batch());
  ASSERT_EQ(batch.json_batch().records_size(), 2);
  EXPECT_EQ(batch.json_batch().records(1), "{\"id\":2}");
}

TEST(Wire, HeaderNeverExceedsItsBound) {
  uint8_t header[kMaxBatchHeaderBytes];
  EXPECT_LE(WriteBatchHeader(header, INT64_MAX, RecordFormat::kProto, SIZE_MAX >> 1),
            kMaxBatchHeaderBytes);
}

TEST(Wire, RecordEntryReaderReturnsWhatWasWritten) {
  const std::vector<std::string> records = {"one", std::string(200, 'y'), "three"};
  const std::string framed = Frame(0, RecordFormat::kProto, records);
  EphemeralStreamRequest request;
  ASSERT_TRUE(request.ParseFromString(framed));
  std::string body;
  for (const std::string &record : records) {
    std::string entry(RecordEntrySize(record.size()), '\0');
    WriteRecordEntry(reinterpret_cast<uint8_t *>(entry.data()), record.data(), record.size());
    body += entry;
  }
  RecordEntryReader reader(body);
  std::string_view record;
  for (const std::string &expected : records) {
    ASSERT_TRUE(reader.Next(&record));
    EXPECT_EQ(record, expected);
  }
  EXPECT_FALSE(reader.Next(&record));
  EXPECT_FALSE(reader.failed());
  RecordEntryReader truncated(std::string_view(body).substr(0, body.size() - 1));
  while (truncated.Next(&record)) {
  }
  EXPECT_TRUE(truncated.failed());
}

TEST(Wire, CreateStreamMatchesGeneratedCode) {
  EphemeralStreamRequest proto_request;
  ASSERT_TRUE(proto_request.ParseFromString(
      EncodeCreateStream("c.s.t", RecordFormat::kProto, "DESCRIPTOR")));
  ASSERT_TRUE(proto_request.has_create_stream());
  EXPECT_EQ(proto_request.create_stream().table_name(), "c.s.t");
  EXPECT_EQ(proto_request.create_stream().descriptor_proto(), "DESCRIPTOR");
  EXPECT_EQ(proto_request.create_stream().record_type(), databricks::zerobus::PROTO);

  EphemeralStreamRequest json_request;
  ASSERT_TRUE(
      json_request.ParseFromString(EncodeCreateStream("c.s.t", RecordFormat::kJson, "ignored")));
  EXPECT_FALSE(json_request.create_stream().has_descriptor_proto());
  EXPECT_EQ(json_request.create_stream().record_type(), databricks::zerobus::JSON);

  EphemeralStreamRequest avro_request;
  ASSERT_TRUE(
      avro_request.ParseFromString(EncodeCreateStream("c.s.t", RecordFormat::kAvro, "{SCHEMA}")));
  EXPECT_FALSE(avro_request.create_stream().has_descriptor_proto());
  EXPECT_EQ(avro_request.create_stream().avro_schema_json(), "{SCHEMA}");
  EXPECT_EQ(avro_request.create_stream().record_type(), databricks::zerobus::AVRO);
}

TEST(Wire, PersistentRequestsMatchGeneratedCode) {
  using databricks::zerobus::PersistentStreamRequest;
  PersistentStreamRequest create;
  ASSERT_TRUE(create.ParseFromString(
      EncodeCreatePersistentStream("c.s.t", RecordFormat::kProto, "DESCRIPTOR")));
  ASSERT_TRUE(create.has_create_stream());
  EXPECT_EQ(create.create_stream().create_stream().table_name(), "c.s.t");
  EXPECT_EQ(create.create_stream().create_stream().descriptor_proto(), "DESCRIPTOR");

  PersistentStreamRequest resume;
  ASSERT_TRUE(
      resume.ParseFromString(EncodeResumeStream("stream-7", RecordFormat::kProto, "DESCRIPTOR")));
  ASSERT_TRUE(resume.has_resume_stream());
  EXPECT_EQ(resume.resume_stream().stream_id(), "stream-7");
  EXPECT_EQ(resume.resume_stream().descriptor_proto(), "DESCRIPTOR");
  EXPECT_EQ(resume.resume_stream().record_type(), databricks::zerobus::PROTO);
  ASSERT_TRUE(resume.ParseFromString(EncodeResumeStream("s", RecordFormat::kJson, "ignored")));
  EXPECT_FALSE(resume.resume_stream().has_descriptor_proto());
  EXPECT_EQ(resume.resume_stream().record_type(), databricks::zerobus::JSON);

  for (RecordFormat format : {RecordFormat::kJson, RecordFormat::kProto, RecordFormat::kAvro}) {
    const std::string record(300, 'r');
    uint8_t header[kMaxBatchHeaderBytes];
    const size_t len = WriteRecordHeader(header, 123456789012, format, record.size());
    PersistentStreamRequest ingest;
    ASSERT_TRUE(
        ingest.ParseFromString(std::string(reinterpret_cast<char *>(header), len) + record));
    ASSERT_TRUE(ingest.has_ingest_record());
    EXPECT_EQ(ingest.ingest_record().offset_id(), 123456789012);
    const auto &one = ingest.ingest_record();
    EXPECT_EQ(format == RecordFormat::kJson    ? one.json_record()
              : format == RecordFormat::kProto ? one.proto_encoded_record()
                                               : one.avro_encoded_record(),
              record);
  }

  databricks::zerobus::RetireStreamRequest retire;
  ASSERT_TRUE(retire.ParseFromString(EncodeRetireStream("c.s.t", "stream-7")));
  EXPECT_EQ(retire.table_name(), "c.s.t");
  EXPECT_EQ(retire.stream_id(), "stream-7");
}

TEST(Wire, DecodesPersistentResponses) {
  using databricks::zerobus::PersistentStreamResponse;
  Response response;
  PersistentStreamResponse resumed;
  resumed.mutable_resume_stream_response()->set_last_committed_offset(41);
  ASSERT_TRUE(DecodeResponse(resumed.SerializeAsString(), &response, StreamRpc::kPersistent).ok());
  EXPECT_EQ(response.kind, Response::Kind::kResumed);
  EXPECT_TRUE(response.has_committed_offset);
  EXPECT_EQ(response.committed_offset, 41);

  PersistentStreamResponse nothing_committed;
  nothing_committed.mutable_resume_stream_response();
  ASSERT_TRUE(
      DecodeResponse(nothing_committed.SerializeAsString(), &response, StreamRpc::kPersistent)
          .ok());
  EXPECT_EQ(response.kind, Response::Kind::kResumed);
  EXPECT_FALSE(response.has_committed_offset);

  PersistentStreamResponse ack;
  ack.mutable_ingest_record_response()->set_durability_ack_up_to_offset(7);
  ASSERT_TRUE(DecodeResponse(ack.SerializeAsString(), &response, StreamRpc::kPersistent).ok());
  EXPECT_EQ(response.kind, Response::Kind::kAck);
  EXPECT_EQ(response.ack_offset, 7);

  PersistentStreamResponse signal;
  signal.mutable_close_stream_signal()->mutable_duration()->set_seconds(2);
  ASSERT_TRUE(DecodeResponse(signal.SerializeAsString(), &response, StreamRpc::kPersistent).ok());
  EXPECT_EQ(response.kind, Response::Kind::kCloseSignal);
  EXPECT_EQ(response.close_after_ms, 2000);

  PersistentStreamResponse created;
  created.mutable_create_stream_response()->set_stream_id("stream-9");
  ASSERT_TRUE(DecodeResponse(created.SerializeAsString(), &response, StreamRpc::kPersistent).ok());
  EXPECT_EQ(response.kind, Response::Kind::kCreated);
  EXPECT_EQ(response.stream_id, "stream-9");
}

TEST(Wire, AvroBatchParsesAsAvroBatch) {
  EphemeralStreamRequest request;
  ASSERT_TRUE(request.ParseFromString(Frame(7, RecordFormat::kAvro, {"\x02", "\x04"})));
  const auto &batch = request.ingest_record_batch();
  EXPECT_EQ(batch.offset_id(), 7);
  ASSERT_TRUE(batch.has_avro_batch());
  ASSERT_EQ(batch.avro_batch().records_size(), 2);
  EXPECT_EQ(batch.avro_batch().records(1), "\x04");
}

TEST(Wire, DecodesEveryResponse) {
  EphemeralStreamResponse created;
  created.mutable_create_stream_response()->set_stream_id("stream-1");
  Response response;
  ASSERT_TRUE(DecodeResponse(created.SerializeAsString(), &response).ok());
  EXPECT_EQ(response.kind, Response::Kind::kCreated);
  EXPECT_EQ(response.stream_id, "stream-1");

  EphemeralStreamResponse ack;
  ack.mutable_ingest_record_response()->set_durability_ack_up_to_offset(1ll << 40);
  ASSERT_TRUE(DecodeResponse(ack.SerializeAsString(), &response).ok());
  EXPECT_EQ(response.kind, Response::Kind::kAck);
  EXPECT_TRUE(response.has_ack_offset);
  EXPECT_EQ(response.ack_offset, 1ll << 40);

  EphemeralStreamResponse empty_ack;
  empty_ack.mutable_ingest_record_response();
  ASSERT_TRUE(DecodeResponse(empty_ack.SerializeAsString(), &response).ok());
  EXPECT_EQ(response.kind, Response::Kind::kAck);
  EXPECT_FALSE(response.has_ack_offset);

  EphemeralStreamResponse signal;
  signal.mutable_close_stream_signal()->mutable_duration()->set_seconds(3);
  signal.mutable_close_stream_signal()->mutable_duration()->set_nanos(250000000);
  ASSERT_TRUE(DecodeResponse(signal.SerializeAsString(), &response).ok());
  EXPECT_EQ(response.kind, Response::Kind::kCloseSignal);
  EXPECT_EQ(response.close_after_ms, 3250);

  ASSERT_TRUE(DecodeResponse("", &response).ok());
  EXPECT_EQ(response.kind, Response::Kind::kNone);
}

// Any Duration the server sends comes out in [0, kMaxCloseAfterMs], computed without overflow
// (UBSan checks the arithmetic in the sanitizer build).
TEST(Wire, CloseSignalDurationsAreClamped) {
  const int64_t max_seconds = std::numeric_limits<int64_t>::max();
  const int64_t ten_years = int64_t{10} * 365 * 24 * 60 * 60;
  struct Case {
    int64_t seconds;
    int32_t nanos;
    int64_t expected_ms;
  } cases[] = {
      {max_seconds, 999999999, kMaxCloseAfterMs},
      {max_seconds / 1000 + 1, 0, kMaxCloseAfterMs},
      {ten_years, 0, kMaxCloseAfterMs},
      {kMaxCloseAfterMs / 1000, 999999999, kMaxCloseAfterMs},
      {kMaxCloseAfterMs / 1000 - 1, 500000000, kMaxCloseAfterMs - 500},
      {std::numeric_limits<int64_t>::min(), -999999999, 0},
      {-5, 0, 0},
      {0, -1, 0},
      {0, std::numeric_limits<int32_t>::max(), 999},
      {0, 0, 0},
  };
  for (const Case &c : cases) {
    EphemeralStreamResponse signal;
    signal.mutable_close_stream_signal()->mutable_duration()->set_seconds(c.seconds);
    signal.mutable_close_stream_signal()->mutable_duration()->set_nanos(c.nanos);
    Response response;
    ASSERT_TRUE(DecodeResponse(signal.SerializeAsString(), &response).ok()) << c.seconds;
    EXPECT_EQ(response.close_after_ms, c.expected_ms) << c.seconds << " s " << c.nanos << " ns";
  }
  // The bound is what the stream may add to a time point of its clock as it is.
  const auto far = std::chrono::steady_clock::now() + std::chrono::milliseconds(kMaxCloseAfterMs);
  EXPECT_GT(far, std::chrono::steady_clock::now());
  EXPECT_LE(kMaxCloseAfterMs, std::numeric_limits<int32_t>::max());
}

// A length no int can hold is malformed, not a negative count for protobuf to skip.
TEST(Wire, RejectsLengthsPastInt) {
  Response response;
  // create_stream_response { stream_id of 2^31 bytes } with no bytes behind it.
  const std::string huge_id("\x0a\x06\x0a\x80\x80\x80\x80\x08", 8);
  EXPECT_EQ(DecodeResponse(huge_id, &response).code(), StatusCode::kProtocol);
  const std::string huge_field("\x22\xff\xff\xff\xff\x0f", 6);  // unknown field 4
  EXPECT_EQ(DecodeResponse(huge_field, &response).code(), StatusCode::kProtocol);
}

TEST(Wire, RejectsGarbage) {
  Response response;
  Status status = DecodeResponse(std::string("\x12\x05\x08", 3), &response);
  EXPECT_EQ(status.code(), StatusCode::kProtocol);
  EXPECT_TRUE(status.retryable());
}

}  // namespace
}  // namespace zerobus::wire
