// Persistent streams (PersistentStream and RetireStream) over real gRPC: durable offsets that
// continue across calls and server restarts, the refusals, and faults.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_raw_persistent.h"
#include "zbtest_raw_stream.h"
#include "zbtest_temp_dir.h"

namespace {

using databricks::zerobus::RecordType;
using zbtest::RawPersistentStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";
constexpr char kDdl[] = "main.default.events (id BIGINT NOT NULL, payload STRING)";
constexpr char kProtoTable[] = "main.default.undeclared_protos";

std::vector<std::string> Records(int64_t offset, int count) {
  std::vector<std::string> records;
  for (int k = 0; k < count; ++k) {
    records.push_back("{\"id\":" + std::to_string(offset * 100 + k) + "}");
  }
  return records;
}

// Resumes `id`, retrying while the call that held it is still ending on the server (ABORTED,
// as a client would); the call, resumed, or null when refused otherwise (with the status in
// `*refusal`).
std::unique_ptr<RawPersistentStream> Resume(int port, const std::string &id, RecordType type,
                                            const std::string &descriptor,
                                            std::optional<int64_t> *watermark,
                                            grpc::Status *refusal = nullptr) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    auto stream = std::make_unique<RawPersistentStream>(port);
    if (stream->Resume(id, type, descriptor, watermark)) return stream;
    grpc::Status status = stream->Finish();
    if (status.error_code() != grpc::StatusCode::ABORTED) {
      if (refusal != nullptr) *refusal = status;
      return nullptr;
    }
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "stream " << id << " stayed held for 5 s";
  return nullptr;
}

class PersistentTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(dir_.path()); }

  void Start(const std::string &data_dir) {
    ServerOptions options;
    options.data_dir = data_dir;
    options.tables.resize(1);
    std::string error;
    ASSERT_TRUE(zerobus::table::ParseTableDdl(kDdl, &options.tables[0], &error)) << error;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  // Creates a JSON stream on kTable, stores `requests` batches of 3 records at offsets 0, 1, ...
  // and closes the call once all are acknowledged; the stream id.
  std::string CreateAndIngest(int requests) {
    RawPersistentStream stream(server_->port());
    const std::string id = stream.Create(zbtest::CreateJson(kTable));
    EXPECT_NE(id, "");
    for (int i = 0; i < requests; ++i) {
      EXPECT_TRUE(stream.Write(zbtest::JsonBatch(i, Records(i, 3))));
      EXPECT_EQ(stream.ReadAck(), i);
    }
    stream.WritesDone();
    EXPECT_TRUE(stream.Finish().ok());
    return id;
  }

  // Resumes `id` as JSON on kTable.
  std::unique_ptr<RawPersistentStream> Resume(const std::string &id,
                                              std::optional<int64_t> *watermark,
                                              grpc::Status *refusal = nullptr) {
    return ::Resume(server_->port(), id, RecordType::JSON, "", watermark, refusal);
  }

  int64_t Rows() const { return server_->rows().Count(kTable); }

  zbtest::TempDir dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(PersistentTest, OffsetsContinueAcrossCallsFromTheWatermark) {
  const std::string id = CreateAndIngest(3);
  std::optional<int64_t> watermark;
  auto stream = Resume(id, &watermark);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(watermark, 2);
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(3, Records(3, 3))));
  EXPECT_EQ(stream->ReadAck(), 3);
  EXPECT_EQ(Rows(), 12);
}

TEST_F(PersistentTest, ResumeBeforeAnyCommitHasNoWatermarkAndStartsAtZero) {
  const std::string id = CreateAndIngest(0);
  std::optional<int64_t> watermark = 99;
  auto stream = Resume(id, &watermark);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(watermark, std::nullopt);
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(0, Records(0, 2))));
  EXPECT_EQ(stream->ReadAck(), 0);
}

TEST_F(PersistentTest, AResentOffsetIsRefusedAndNothingIsStoredTwice) {
  const std::string id = CreateAndIngest(2);
  for (int64_t resent : {1, 0}) {
    std::optional<int64_t> watermark;
    auto stream = Resume(id, &watermark);
    ASSERT_NE(stream, nullptr);
    ASSERT_EQ(watermark, 1);
    ASSERT_TRUE(stream->Write(zbtest::JsonBatch(resent, Records(resent, 3))));
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("offset_id " + std::to_string(resent) +
                                          " of persistent stream " + id + " was sent already"),
              std::string::npos)
        << status.error_message();
    EXPECT_EQ(Rows(), 6);
  }
  // Within one call too.
  std::optional<int64_t> watermark;
  auto stream = Resume(id, &watermark);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(2, Records(2, 3))));
  ASSERT_EQ(stream->ReadAck(), 2);
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(2, Records(2, 3))));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Rows(), 9);
}

TEST_F(PersistentTest, TheWatermarkSurvivesARestart) {
  const std::string id = CreateAndIngest(4);
  server_.reset();
  Start(dir_.path());
  std::optional<int64_t> watermark;
  auto stream = Resume(id, &watermark);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(watermark, 3);
  EXPECT_EQ(Rows(), 12);
}

TEST_F(PersistentTest, RetireIsIdempotentAndARetiredStreamCannotBeResumed) {
  const std::string id = CreateAndIngest(1);
  // The call that created it may still be ending: retiring does not wait for it.
  EXPECT_TRUE(zbtest::RetireStream(server_->port(), kTable, id).ok());
  EXPECT_TRUE(zbtest::RetireStream(server_->port(), kTable, id).ok());
  std::optional<int64_t> watermark;
  grpc::Status refusal;
  EXPECT_EQ(Resume(id, &watermark, &refusal), nullptr);
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refusal.error_message().find("retired"), std::string::npos) << refusal.error_message();
  // Still retired after a restart.
  server_.reset();
  Start(dir_.path());
  EXPECT_EQ(Resume(id, &watermark, &refusal), nullptr);
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Rows(), 3);
}

TEST_F(PersistentTest, UnknownIdsAndOtherTablesAreNotFound) {
  const std::string id = CreateAndIngest(0);
  std::optional<int64_t> watermark;
  grpc::Status refusal;
  EXPECT_EQ(Resume("00000000-0000-4000-8000-000000000000", &watermark, &refusal), nullptr);
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(zbtest::RetireStream(server_->port(), kTable, "no-such-stream").error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(zbtest::RetireStream(server_->port(), "main.default.other", id).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(zbtest::RetireStream(server_->port(), kTable, "").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Refusing did not retire it.
  EXPECT_NE(Resume(id, &watermark), nullptr);
}

TEST_F(PersistentTest, ResumeWithAnotherRecordTypeOrDescriptorIsRefused) {
  const std::string descriptor = zbtest::EventDescriptor();
  std::string id;
  {
    RawPersistentStream stream(server_->port());
    id = stream.Create(zbtest::CreateProto(kProtoTable, descriptor));
    ASSERT_NE(id, "");
    ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, zbtest::EncodeEvent(1, "a"))));
    ASSERT_EQ(stream.ReadAck(), 0);
    stream.WritesDone();
    ASSERT_TRUE(stream.Finish().ok());
  }
  const std::string other_descriptor = descriptor + std::string("\x12\x00", 2);
  struct Attempt {
    RecordType type;
    std::string descriptor;
  };
  for (const Attempt &attempt :
       {Attempt{RecordType::JSON, ""}, Attempt{RecordType::PROTO, other_descriptor},
        Attempt{RecordType::PROTO, ""}}) {
    RawPersistentStream stream(server_->port());
    std::optional<int64_t> watermark;
    ASSERT_FALSE(stream.Resume(id, attempt.type, attempt.descriptor, &watermark));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  // The right ones resume.
  std::optional<int64_t> watermark;
  EXPECT_NE(::Resume(server_->port(), id, RecordType::PROTO, descriptor, &watermark), nullptr);
  EXPECT_EQ(watermark, 0);
  EXPECT_EQ(server_->rows().Count(kProtoTable), 1);
}

TEST_F(PersistentTest, AnAvroStreamResumesWithTheWriterSchemaItWasCreatedWith) {
  const std::string writer = R"({"type": "record", "name": "e", "fields": [
      {"name": "id", "type": "long"}, {"name": "payload", "type": ["null", "string"]}]})";
  std::string id;
  {
    RawPersistentStream stream(server_->port());
    id = stream.Create(zbtest::CreateAvro(kTable, writer));
    ASSERT_NE(id, "");
    // id 1, payload null.
    ASSERT_TRUE(stream.Write(zbtest::AvroRecord(0, std::string("\x02\x00", 2))));
    ASSERT_EQ(stream.ReadAck(), 0);
    stream.WritesDone();
    ASSERT_TRUE(stream.Finish().ok());
  }
  // The resume carries no schema: the stored one reads id 2, payload "hi".
  std::optional<int64_t> watermark;
  auto stream = ::Resume(server_->port(), id, RecordType::AVRO, "", &watermark);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(watermark, 0);
  ASSERT_TRUE(stream->Write(zbtest::AvroBatch(1, {std::string("\x04\x02\x04hi", 5)})));
  EXPECT_EQ(stream->ReadAck(), 1);
  EXPECT_EQ(Rows(), 2);
}

TEST_F(PersistentTest, ASecondCallResumingAHeldStreamIsRefused) {
  RawPersistentStream first(server_->port());
  const std::string id = first.Create(zbtest::CreateJson(kTable));
  ASSERT_NE(id, "");
  ASSERT_TRUE(first.Write(zbtest::JsonBatch(0, Records(0, 3))));
  ASSERT_EQ(first.ReadAck(), 0);

  RawPersistentStream second(server_->port());
  std::optional<int64_t> watermark;
  ASSERT_FALSE(second.Resume(id, RecordType::JSON, "", &watermark));
  const grpc::Status refusal = second.Finish();
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(refusal.error_message().find("open on another call"), std::string::npos);

  // The first goes on; the stream holds each of its records once.
  ASSERT_TRUE(first.Write(zbtest::JsonBatch(1, Records(1, 3))));
  ASSERT_EQ(first.ReadAck(), 1);
  first.WritesDone();
  ASSERT_TRUE(first.Finish().ok());
  auto third = Resume(id, &watermark);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(watermark, 1);

  // Two resumes: while the first holds the stream, the second is refused too.
  RawPersistentStream fourth(server_->port());
  ASSERT_FALSE(fourth.Resume(id, RecordType::JSON, "", &watermark));
  EXPECT_EQ(fourth.Finish().error_code(), grpc::StatusCode::ABORTED);
  ASSERT_TRUE(third->Write(zbtest::JsonBatch(2, Records(2, 3))));
  EXPECT_EQ(third->ReadAck(), 2);
  EXPECT_EQ(Rows(), 9);
}

TEST_F(PersistentTest, RetiringAnOpenStreamEndsItsStoring) {
  RawPersistentStream stream(server_->port());
  const std::string id = stream.Create(zbtest::CreateJson(kTable));
  ASSERT_NE(id, "");
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, Records(0, 3))));
  ASSERT_EQ(stream.ReadAck(), 0);
  ASSERT_TRUE(zbtest::RetireStream(server_->port(), kTable, id).ok());
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(1, Records(1, 3))));
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Rows(), 3);
}

TEST_F(PersistentTest, FaultsApplyToPersistentStreams) {
  const std::string id = CreateAndIngest(1);
  server_->faults().RefuseStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused"), 1);
  std::optional<int64_t> watermark;
  grpc::Status refusal;
  EXPECT_EQ(Resume(id, &watermark, &refusal), nullptr);
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::UNAVAILABLE);

  auto stream = Resume(id, &watermark);
  ASSERT_NE(stream, nullptr);
  ASSERT_EQ(watermark, 0);
  server_->faults().WithholdAcks(true);
  for (int64_t offset = 1; offset <= 3; ++offset) {
    ASSERT_TRUE(stream->Write(zbtest::JsonBatch(offset, Records(offset, 3))));
  }
  ASSERT_TRUE(server_->WaitFor([&] { return server_->table_stats(kTable).records >= 12; }, 5s));
  server_->faults().WithholdAcks(false);
  EXPECT_EQ(stream->ReadAck(), 3);

  // A failed request is not committed: the watermark stays at the last one stored.
  server_->faults().FailAfterRecords(0, grpc::Status(grpc::StatusCode::INTERNAL, "boom"));
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(4, Records(4, 3))));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INTERNAL);
  auto resumed = Resume(id, &watermark);
  ASSERT_NE(resumed, nullptr);
  EXPECT_EQ(watermark, 3);
  EXPECT_EQ(Rows(), 12);
}

TEST(PersistentMemoryTest, WithoutADataDirectoryStreamsLastAsLongAsTheServer) {
  std::string error;
  std::unique_ptr<Server> server = Server::Start(ServerOptions{}, &error);
  ASSERT_NE(server, nullptr) << error;
  RawPersistentStream stream(server->port());
  const std::string id = stream.Create(zbtest::CreateJson(kTable));
  ASSERT_NE(id, "");
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, Records(0, 2))));
  ASSERT_EQ(stream.ReadAck(), 0);
  stream.WritesDone();
  ASSERT_TRUE(stream.Finish().ok());
  std::optional<int64_t> watermark;
  EXPECT_NE(Resume(server->port(), id, RecordType::JSON, "", &watermark), nullptr);
  EXPECT_EQ(watermark, 0);
}

TEST(PersistentNullSinkTest, PersistentStreamsNeedStorage) {
  ServerOptions options;
  options.null_sink = true;
  std::string error;
  std::unique_ptr<Server> server = Server::Start(std::move(options), &error);
  ASSERT_NE(server, nullptr) << error;
  RawPersistentStream stream(server->port());
  EXPECT_EQ(stream.Create(zbtest::CreateJson(kTable)), "");
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
