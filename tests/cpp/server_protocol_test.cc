// The server's EphemeralStream protocol as a client sees it over real gRPC on 127.0.0.1.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/completion_queue.h>
#include <gtest/gtest.h>

#include "server/server.h"
#include "zbtest_raw_stream.h"

namespace {

using databricks::zerobus::EphemeralStreamRequest;
using databricks::zerobus::EphemeralStreamResponse;
using zbtest::RawStream;
using zerobus::server::Record;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = Server::Start(ServerOptions{}, &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  // A call with an open PROTO stream on kTable.
  std::unique_ptr<RawStream> OpenProto() {
    auto stream = std::make_unique<RawStream>(server_->port());
    EXPECT_NE(stream->Open(zbtest::CreateProto(kTable, zbtest::EventDescriptor())), "");
    return stream;
  }

  std::string Stored(int64_t index) {
    std::optional<Record> record = server_->rows().Get(kTable, index);
    return record ? record->data : "<missing>";
  }

  // The call's status when `request` follows a successful create_stream.
  grpc::Status RejectionOf(const EphemeralStreamRequest &create,
                           const EphemeralStreamRequest &request) {
    RawStream stream(server_->port());
    EXPECT_NE(stream.Open(create), "");
    stream.Write(request);
    return stream.Finish();
  }

  std::unique_ptr<Server> server_;
};

TEST_F(ProtocolTest, CreateStreamAnswersWithAFreshStreamId) {
  auto first = std::make_unique<RawStream>(server_->port());
  std::string id1 = first->Open(zbtest::CreateProto(kTable, zbtest::EventDescriptor()));
  RawStream second(server_->port());
  std::string id2 = second.Open(zbtest::CreateJson(kTable));
  EXPECT_EQ(id1.size(), 36u) << id1;
  EXPECT_EQ(id2.size(), 36u) << id2;
  EXPECT_NE(id1, id2);
  EXPECT_EQ(server_->table_stats(kTable).streams_opened, 2);
  EXPECT_EQ(server_->table_stats(kTable).streams_open, 2);

  first->context().TryCancel();
  first.reset();
  EXPECT_TRUE(server_->WaitFor([&] { return server_->table_stats(kTable).streams_open == 1; }, 5s));
  EXPECT_EQ(server_->table_stats(kTable).streams_opened, 2);
}

TEST_F(ProtocolTest, SingleRecordsAndBatchesAreStoredAndAcked) {
  auto stream = OpenProto();
  const std::string e0 = zbtest::EncodeEvent(0, "zero");
  const std::string e1 = zbtest::EncodeEvent(1, "one");
  const std::string e2 = zbtest::EncodeEvent(2, "two");
  const std::string e3 = zbtest::EncodeEvent(3, "three");

  ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(0, e0)));
  EXPECT_EQ(stream->ReadAck(), 0);
  ASSERT_TRUE(stream->Write(zbtest::ProtoBatch(1, {e1, e2})));
  EXPECT_EQ(stream->ReadAck(), 1);
  ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(2, e3)));
  EXPECT_EQ(stream->ReadAck(), 2);

  ASSERT_EQ(server_->rows().Count(kTable), 4);
  EXPECT_EQ(Stored(0), e0);
  EXPECT_EQ(Stored(1), e1);
  EXPECT_EQ(Stored(2), e2);
  EXPECT_EQ(Stored(3), e3);
  EXPECT_FALSE(server_->rows().Get(kTable, 0)->json);
  EXPECT_EQ(server_->table_stats(kTable).requests, 3);
  EXPECT_EQ(server_->table_stats(kTable).records, 4);
}

TEST_F(ProtocolTest, JsonStreamsStoreJsonRecords) {
  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":1})")));
  EXPECT_EQ(stream.ReadAck(), 0);
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(1, {R"({"id":2})", R"({"id":3})"})));
  EXPECT_EQ(stream.ReadAck(), 1);

  ASSERT_EQ(server_->rows().Count(kTable), 3);
  EXPECT_EQ(Stored(2), R"({"id":3})");
  EXPECT_TRUE(server_->rows().Get(kTable, 0)->json);
}

TEST_F(ProtocolTest, MissingRecordTypeMeansProto) {
  EphemeralStreamRequest create = zbtest::CreateProto(kTable, zbtest::EventDescriptor());
  create.mutable_create_stream()->clear_record_type();
  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(create), "");
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, zbtest::EncodeEvent(7, "x"))));
  EXPECT_EQ(stream.ReadAck(), 0);

  create.mutable_create_stream()->clear_descriptor_proto();
  RawStream without_descriptor(server_->port());
  without_descriptor.Write(create);
  EXPECT_EQ(without_descriptor.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ProtocolTest, ResponseHeadersArriveBeforeTheClientSendsAnything) {
  // The official client waits for the headers before sending create_stream, so a server that
  // holds them back until its first response deadlocks with it.
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stub = databricks::zerobus::Zerobus::NewStub(zbtest::LoopbackChannel(server_->port()));
  auto call = stub->AsyncEphemeralStream(&context, &cq, reinterpret_cast<void *>(1));

  void *tag;
  bool ok = false;
  ASSERT_EQ(cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + 5s),
            grpc::CompletionQueue::NextStatus::GOT_EVENT);
  ASSERT_EQ(tag, reinterpret_cast<void *>(1));
  ASSERT_TRUE(ok);

  call->ReadInitialMetadata(reinterpret_cast<void *>(2));
  ASSERT_EQ(cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + 5s),
            grpc::CompletionQueue::NextStatus::GOT_EVENT)
      << "no response headers without a request";
  EXPECT_EQ(tag, reinterpret_cast<void *>(2));
  EXPECT_TRUE(ok);

  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void *>(3));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void *>(3)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ProtocolTest, FirstMessageMustBeCreateStream) {
  RawStream stream(server_->port());
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, "x")));
  EXPECT_FALSE(stream.Read().has_value());
  grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("create_stream"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(server_->total_stats().streams_opened, 0);
}

TEST_F(ProtocolTest, BadTableNamesAreRefused) {
  for (const char *name : {"", "events", "default.events", "a.b.c.d", "a..c", "a.b.c-d"}) {
    RawStream stream(server_->port());
    stream.Write(zbtest::CreateJson(name));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
  }
  EXPECT_EQ(server_->total_stats().streams_opened, 0);
}

TEST_F(ProtocolTest, ProtoStreamsNeedAParsableDescriptor) {
  for (const std::string &descriptor : {std::string(), std::string("\xff\xff\xff\xff", 4)}) {
    RawStream stream(server_->port());
    stream.Write(zbtest::CreateProto(kTable, descriptor));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(ProtocolTest, UnspecifiedRecordTypeIsRefused) {
  EphemeralStreamRequest create = zbtest::CreateJson(kTable);
  create.mutable_create_stream()->set_record_type(
      databricks::zerobus::RecordType::RECORD_TYPE_UNSPECIFIED);
  RawStream stream(server_->port());
  stream.Write(create);
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ProtocolTest, NonSequentialOffsetEndsTheCallAndStoresNothingOfThatRequest) {
  auto stream = OpenProto();
  ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(0, "a")));
  EXPECT_EQ(stream->ReadAck(), 0);
  stream->Write(zbtest::ProtoBatch(2, {"b", "c"}));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("expected 1, got 2"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("4002"), std::string::npos) << status.error_message();
  EXPECT_EQ(server_->rows().Count(kTable), 1);
  EXPECT_EQ(server_->table_stats(kTable).requests, 1);
}

TEST_F(ProtocolTest, OffsetsStartAtZeroOnEveryCall) {
  EXPECT_EQ(RejectionOf(zbtest::CreateJson(kTable), zbtest::JsonRecord(1, "{}")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  EphemeralStreamRequest no_offset = zbtest::JsonRecord(0, "{}");
  no_offset.mutable_ingest_record()->clear_offset_id();
  EXPECT_EQ(RejectionOf(zbtest::CreateJson(kTable), no_offset).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  for (int call = 0; call < 2; ++call) {
    auto stream = OpenProto();
    ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(0, "r" + std::to_string(call))));
    EXPECT_EQ(stream->ReadAck(), 0);
  }
  EXPECT_EQ(server_->rows().Count(kTable), 2);
}

TEST_F(ProtocolTest, RecordKindMustMatchTheStream) {
  const auto proto_stream = zbtest::CreateProto(kTable, zbtest::EventDescriptor());
  const auto json_stream = zbtest::CreateJson(kTable);
  EXPECT_EQ(RejectionOf(proto_stream, zbtest::JsonRecord(0, "{}")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RejectionOf(proto_stream, zbtest::JsonBatch(0, {"{}", "{}"})).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RejectionOf(json_stream, zbtest::ProtoRecord(0, "x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RejectionOf(json_stream, zbtest::ProtoBatch(0, {"x", "y"})).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_->rows().Count(kTable), 0);
}

TEST_F(ProtocolTest, EmptyRequestsAndASecondCreateStreamAreRefused) {
  const auto json_stream = zbtest::CreateJson(kTable);
  EXPECT_EQ(RejectionOf(json_stream, zbtest::JsonBatch(0, {})).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  EphemeralStreamRequest no_record;
  no_record.mutable_ingest_record()->set_offset_id(0);
  EXPECT_EQ(RejectionOf(json_stream, no_record).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_EQ(RejectionOf(json_stream, EphemeralStreamRequest()).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RejectionOf(json_stream, json_stream).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_->rows().Count(kTable), 0);
}

TEST_F(ProtocolTest, PipelinedRequestsGetCumulativeAcksThatNeverGoBackwards) {
  constexpr int kRequests = 500;
  auto stream = OpenProto();
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      if (!stream->Write(zbtest::ProtoRecord(i, std::to_string(i)))) return;
    }
  });
  int64_t last = -1;
  while (last < kRequests - 1) {
    std::optional<int64_t> ack = stream->ReadAck();
    if (!ack) break;
    EXPECT_GT(*ack, last);
    EXPECT_LT(*ack, kRequests);
    last = *ack;
  }
  writer.join();
  EXPECT_EQ(last, kRequests - 1);
  ASSERT_EQ(server_->rows().Count(kTable), kRequests);
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(Stored(i), std::to_string(i));
}

TEST_F(ProtocolTest, ConcurrentCallsOnOneTableKeepEachCallsOrder) {
  constexpr int kPerCall = 200;
  auto produce = [&](const std::string &prefix) {
    auto stream = OpenProto();
    for (int i = 0; i < kPerCall; ++i) {
      ASSERT_TRUE(stream->Write(zbtest::ProtoBatch(
          i, {prefix + std::to_string(2 * i), prefix + std::to_string(2 * i + 1)})));
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  };
  std::thread a(produce, "a");
  std::thread b(produce, "b");
  a.join();
  b.join();

  ASSERT_EQ(server_->rows().Count(kTable), 4 * kPerCall);
  int next_a = 0;
  int next_b = 0;
  for (int64_t i = 0; i < 4 * kPerCall; ++i) {
    const std::string record = Stored(i);
    int &next = record[0] == 'a' ? next_a : next_b;
    ASSERT_EQ(record.substr(1), std::to_string(next)) << "record " << i;
    ++next;
  }
}

TEST_F(ProtocolTest, HalfCloseEndsTheCallWithOkOnceEverythingIsAcked) {
  auto stream = OpenProto();
  ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(0, "a")));
  ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(1, "b")));
  stream->WritesDone();
  int64_t last = -1;
  while (std::optional<int64_t> ack = stream->ReadAck()) last = *ack;
  EXPECT_EQ(last, 1);
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(server_->WaitFor([&] { return server_->total_stats().streams_open == 0; }, 5s));
}

TEST_F(ProtocolTest, MessagesUpToTenMiBAreAcceptedAndLargerOnesRefused) {
  // gRPC's default limit is 4 MiB; the service's is 10 MiB.
  auto stream = OpenProto();
  ASSERT_TRUE(stream->Write(zbtest::ProtoRecord(0, std::string(10 * 1024 * 1024 - 64, 'x'))));
  EXPECT_EQ(stream->ReadAck(), 0);
  stream->Write(zbtest::ProtoRecord(1, std::string(10 * 1024 * 1024, 'x')));
  // Refused by the stream rather than by gRPC, with the service's code.
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("offset_id 1"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(server_->rows().Count(kTable), 1);
}

}  // namespace
