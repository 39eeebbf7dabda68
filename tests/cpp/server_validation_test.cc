// Validation as a client meets it over real gRPC: a descriptor that does not fit the table
// fails create_stream, a bad record fails the stream naming the column and the offset, and
// nothing of the failed request is stored.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_dynamic.h"
#include "zbtest_raw_stream.h"

namespace {

using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;

constexpr char kTable[] = "main.default.events";

constexpr char kDescriptor[] = R"pb(
  name: "Event"
  field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
  field { name: "temp" number: 2 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
  field { name: "tags" number: 3 label: LABEL_REPEATED type: TYPE_STRING }
)pb";

class ValidationTest : public ::testing::Test {
 protected:
  void Start(size_t max_message_bytes = 10 * 1024 * 1024) {
    ServerOptions options;
    options.tables.resize(1);
    std::string error;
    ASSERT_TRUE(zerobus::table::ParseTableDdl(
        "main.default.events (id BIGINT NOT NULL, temp DOUBLE, tags ARRAY<STRING>)",
        &options.tables[0], &error));
    options.accept_undeclared_tables = false;
    options.max_message_bytes = max_message_bytes;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  void SetUp() override { Start(); }

  // The status that ends a call whose create_stream is `create`.
  grpc::Status CreateFails(const zbtest::EphemeralStreamRequest &create) {
    RawStream stream(server_->port());
    stream.Write(create);
    return stream.Finish();
  }

  std::unique_ptr<Server> server_;
  zbtest::DynamicSchema schema_{kDescriptor};
};

TEST_F(ValidationTest, DescriptorsThatDoNotFitTheTableFailCreateStream) {
  zbtest::DynamicSchema unknown_field(R"pb(
    name: "Event"
    field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
    field { name: "humidity" number: 2 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
  )pb");
  grpc::Status status = CreateFails(zbtest::CreateProto(kTable, unknown_field.descriptor()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "descriptor field 'humidity' is not a column of the table");

  zbtest::DynamicSchema optional_id(R"pb(
    name: "Event"
    field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
  )pb");
  status = CreateFails(zbtest::CreateProto(kTable, optional_id.descriptor()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("must be required"), std::string::npos);

  // The Event schema of zbtest_event.h has a `payload` column this table lacks.
  status = CreateFails(zbtest::CreateProto(kTable, zbtest::EventDescriptor()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_->total_stats().streams_opened, 0);
}

TEST_F(ValidationTest, ABadProtoRecordFailsTheStreamAndNothingOfItsRequestIsStored) {
  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(zbtest::CreateProto(kTable, schema_.descriptor())), "");
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, schema_.Record("id: 1 temp: 20.5"))));
  EXPECT_EQ(stream.ReadAck(), 0);
  // Record 2 of this batch lacks the NOT NULL id: the whole batch is refused.
  stream.Write(zbtest::ProtoBatch(1, {schema_.Record("id: 2"), schema_.Record("id: 3"),
                                      schema_.Record("temp: 1"), schema_.Record("id: 4")}));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "offset_id 1, record 2 of the batch: column 'id': is NOT NULL but the record has no "
            "value");
  EXPECT_EQ(server_->rows().Count(kTable), 1);
}

TEST_F(ValidationTest, ProtoBytesThatDoNotParseFailTheStream) {
  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(zbtest::CreateProto(kTable, schema_.descriptor())), "");
  stream.Write(zbtest::ProtoRecord(0, "\x0a\xff"));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "offset_id 0: not a valid serialized Event message");
  EXPECT_EQ(server_->rows().Count(kTable), 0);
}

TEST_F(ValidationTest, BadJsonRecordsFailTheStreamNamingColumnAndOffset) {
  struct Case {
    std::string record;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not json",
       "offset_id 1: record is not valid JSON: parse error at line 1, column 2: syntax error "
       "while parsing value - invalid literal; last read: 'no'"},
      {"[1,2]", "offset_id 1: record is not a JSON object"},
      {R"({"id":1,"humidity":3})",
       "offset_id 1: record has key 'humidity', which is not a column of main.default.events"},
      {R"({"id":"one"})", "offset_id 1: column 'id': expected an integer, got string \"one\""},
      {R"({"temp":1})", "offset_id 1: column 'id': is NOT NULL but the record has no value"},
      {R"({"id":1,"tags":[1]})", "offset_id 1: column 'tags[0]': expected a string, got number 1"},
  };
  for (const Case &c : cases) {
    RawStream stream(server_->port());
    ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
    ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":0,"temp":1.5,"tags":["a"]})")));
    EXPECT_EQ(stream.ReadAck(), 0);
    stream.Write(zbtest::JsonRecord(1, c.record));
    const grpc::Status status = stream.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.record;
    EXPECT_EQ(status.error_message(), c.message);
  }
  EXPECT_EQ(server_->rows().Count(kTable), static_cast<int64_t>(cases.size()));
}

TEST_F(ValidationTest, RecordsOverTheLimitAreRefusedWithTheirPlaceInTheBatch) {
  server_.reset();
  Start(/*max_message_bytes=*/1000);
  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  const std::string big = R"({"id":1,"tags":[")" + std::string(1000, 'x') + R"("]})";
  stream.Write(zbtest::JsonBatch(0, {R"({"id":0})", big}));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "offset_id 0, record 1 of the batch: the record's " +
                                        std::to_string(big.size()) +
                                        " bytes exceed the limit of 1000 bytes");
  EXPECT_EQ(server_->rows().Count(kTable), 0);
}

TEST_F(ValidationTest, RequestsOverTheLimitAreRefusedEvenWhenEachRecordFits) {
  server_.reset();
  Start(/*max_message_bytes=*/1000);
  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  const std::string record = R"({"id":1,"tags":[")" + std::string(400, 'x') + R"("]})";
  stream.Write(zbtest::JsonBatch(0, {record, record, record}));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("offset_id 0: the request's"), std::string::npos)
      << status.error_message();
}

}  // namespace

namespace {

TEST_F(ValidationTest, ACreateStreamOverTheLimitIsRefusedWithoutQuotingIt) {
  // A table name of 1 MB, in a create_stream within the limit: refused, quoted short.
  const std::string long_name = "main.default." + std::string(1 << 20, 'n');
  grpc::Status status = CreateFails(zbtest::CreateJson(long_name));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("invalid table name 'main.default.nnn"), std::string::npos)
      << status.error_message().substr(0, 200);
  EXPECT_LT(status.error_message().size(), 300u);
  // A part of 256 characters is over Unity Catalog's limit; 255 is within it.
  status = CreateFails(zbtest::CreateJson("main.default." + std::string(256, 'n')));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateFails(zbtest::CreateJson("main.default." + std::string(255, 'n'))).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Over the message limit, the request is refused as any other would be, unparsed.
  server_.reset();
  Start(/*max_message_bytes=*/1000);
  status = CreateFails(zbtest::CreateJson("main.default." + std::string(2000, 'n')));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("create_stream request's"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("exceed the limit of 1000 bytes"), std::string::npos)
      << status.error_message();
}

}  // namespace
