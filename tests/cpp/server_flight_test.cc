// `zerobus serve`'s Arrow Flight DoPut as a client sees it over real gRPC on 127.0.0.1: the
// schema checked against the table, batches stored as rows and acknowledged by rows, bad data
// refused naming the column, and the faults of EphemeralStream streams.
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "arrow/ipc_writer.h"
#include "arrow/model.h"
#include "arrow_flight.grpc.pb.h"
#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_temp_dir.h"

namespace {

namespace flight = ::arrow::flight::protocol;
namespace za = zerobus::arrow;
using nlohmann::json;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.readings";
constexpr char kDdl[] =
    "main.default.readings (id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>)";

za::Buffer Own(std::string bytes) {
  auto owner = std::make_shared<std::string>(std::move(bytes));
  return za::Buffer{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner};
}

template <typename T>
za::Buffer Values(const std::vector<T> &values) {
  return Own(std::string(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(T)));
}

// Validity for `valid` (true: a value), as a bitmap.
za::Buffer Validity(const std::vector<bool> &valid) {
  std::string bits((valid.size() + 7) / 8, '\0');
  for (size_t i = 0; i < valid.size(); ++i) {
    if (valid[i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
  }
  return Own(bits);
}

za::Field MakeField(const std::string &name, za::TypeId id, bool nullable = true) {
  za::Field field;
  field.name = name;
  field.type.id = id;
  field.nullable = nullable;
  return field;
}

za::Schema TableArrowSchema(za::TypeId name_type = za::TypeId::kUtf8) {
  za::Schema schema;
  schema.fields.push_back(MakeField("id", za::TypeId::kInt64, false));
  schema.fields.push_back(MakeField("name", name_type));
  za::Field tags = MakeField("tags", za::TypeId::kList);
  tags.type.children.push_back(MakeField("item", za::TypeId::kUtf8));
  schema.fields.push_back(tags);
  return schema;
}

za::ArrayData Strings(const std::vector<std::string> &texts, const std::vector<bool> &valid) {
  za::ArrayData array;
  array.length = static_cast<int64_t>(texts.size());
  std::vector<int32_t> offsets{0};
  std::string data;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!valid[i]) ++array.null_count;
    data += texts[i];
    offsets.push_back(static_cast<int32_t>(data.size()));
  }
  array.buffers = {Validity(valid), Values(offsets), Own(data)};
  return array;
}

// Rows (id, name, tags): row i has id first_id + i, name names[i] (null when empty) and the
// tags of row i (one list each).
za::RecordBatch Batch(int64_t first_id, const std::vector<std::string> &names,
                      const std::vector<std::vector<std::string>> &tags) {
  za::RecordBatch batch;
  batch.length = static_cast<int64_t>(names.size());
  za::ArrayData ids;
  ids.length = batch.length;
  std::vector<int64_t> id_values;
  for (int64_t i = 0; i < batch.length; ++i) id_values.push_back(first_id + i);
  ids.buffers = {za::Buffer{}, Values(id_values)};
  std::vector<bool> named;
  for (const std::string &name : names) named.push_back(!name.empty());
  za::ArrayData lists;
  lists.length = batch.length;
  std::vector<int32_t> offsets{0};
  std::vector<std::string> items;
  for (const auto &row : tags) {
    items.insert(items.end(), row.begin(), row.end());
    offsets.push_back(static_cast<int32_t>(items.size()));
  }
  lists.buffers = {za::Buffer{}, Values(offsets)};
  lists.children.push_back(Strings(items, std::vector<bool>(items.size(), true)));
  batch.columns = {ids, Strings(names, named), lists};
  return batch;
}

flight::FlightData Frame(const za::EncodedMessage &message) {
  flight::FlightData frame;
  frame.set_data_header(
      std::string(reinterpret_cast<const char *>(message.metadata.data), message.metadata.size));
  frame.set_data_body(za::Concatenate(message.body));
  return frame;
}

flight::FlightData BatchFrame(const za::Schema &schema, const za::RecordBatch &batch,
                              int64_t offset) {
  za::EncodedMessage message;
  EXPECT_TRUE(za::EncodeRecordBatch(schema, batch, za::WriteOptions{}, &message).ok());
  flight::FlightData frame = Frame(message);
  frame.set_app_metadata(json{{"offset_id", offset}}.dump());
  return frame;
}

json Ack(int64_t offset, int64_t records) {
  return json{{"ack_up_to_offset", offset}, {"ack_up_to_records", records}};
}

// One DoPut call, bounded in time.
class Put {
 public:
  Put(int port, const std::string &table, const std::string &token = "") {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    stub_ = flight::FlightService::NewStub(channel);
    context_.AddMetadata("x-databricks-zerobus-table-name", table);
    if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
    context_.set_deadline(std::chrono::system_clock::now() + 20s);
    stream_ = stub_->DoPut(&context_);
  }

  bool Write(const flight::FlightData &frame) { return stream_->Write(frame); }

  // The next PutResult's app_metadata, or null when the call ended.
  json Read() {
    flight::PutResult result;
    if (!stream_->Read(&result)) return json();
    return json::parse(result.app_metadata());
  }

  grpc::Status Finish() {
    stream_->WritesDone();
    flight::PutResult ignored;
    while (stream_->Read(&ignored)) {
    }
    return stream_->Finish();
  }

 private:
  std::unique_ptr<flight::FlightService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<flight::FlightData, flight::PutResult>> stream_;
};

class FlightTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServerOptions{}); }

  void Start(ServerOptions options) {
    options.data_dir = dir_.path();
    std::string error;
    options.tables.resize(1);
    ASSERT_TRUE(zerobus::table::ParseTableDdl(kDdl, &options.tables[0], &error)) << error;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  // A call whose schema was accepted (the ready signal read).
  std::unique_ptr<Put> Open(const za::Schema &schema = TableArrowSchema()) {
    auto put = std::make_unique<Put>(server_->port(), kTable);
    EXPECT_TRUE(put->Write(Frame(za::EncodeSchema(schema))));
    EXPECT_EQ(put->Read(), Ack(-1, 0));
    return put;
  }

  json Row(int64_t index) {
    std::optional<zerobus::server::Record> record = server_->rows().Get(kTable, index);
    return record ? json::parse(record->data) : json();
  }

  zbtest::TempDir dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(FlightTest, BatchesAreStoredAsRowsAndAcknowledgedByRows) {
  auto put = Open();
  const za::Schema schema = TableArrowSchema();
  ASSERT_TRUE(put->Write(BatchFrame(schema, Batch(1, {"a", ""}, {{"x", "y"}, {}}), 0)));
  EXPECT_EQ(put->Read(), Ack(0, 2));
  ASSERT_TRUE(put->Write(BatchFrame(schema, Batch(3, {"c", "d", "e"}, {{}, {"z"}, {}}), 1)));
  EXPECT_EQ(put->Read(), Ack(1, 5));
  EXPECT_TRUE(put->Finish().ok());
  EXPECT_EQ(Row(0), (json{{"id", 1}, {"name", "a"}, {"tags", json::array({"x", "y"})}}));
  EXPECT_EQ(Row(1), (json{{"id", 2}, {"name", nullptr}, {"tags", json::array()}}));
  EXPECT_EQ(Row(4), (json{{"id", 5}, {"name", "e"}, {"tags", json::array()}}));
  EXPECT_EQ(server_->table_stats(kTable).records, 5);
  // Counted by user-agent as other streams: gRPC's own, with no other given.
  const auto agents = server_->table_stats(kTable).user_agents;
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents.begin()->first.rfind("grpc-c++/", 0), 0u) << agents.begin()->first;
  EXPECT_TRUE(server_->WaitFor(
      [&] { return server_->table_stats(kTable).streams_closed_by_client == 1; }, 10s));
}

// A batch of half a megabyte reaches the server in many slices, which it reads in place: the
// buffers that straddle two are put together, and every row is stored as it was sent.
TEST_F(FlightTest, ABatchThatArrivesInManySlicesIsStoredWhole) {
  constexpr int64_t kRows = 20000;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> tags;
  for (int64_t i = 0; i < kRows; ++i) {
    names.push_back(i % 5 == 0 ? "" : std::string(static_cast<size_t>(i % 13) + 1, 'a' + i % 26));
    tags.push_back(i % 3 == 0 ? std::vector<std::string>{}
                              : std::vector<std::string>{"t" + std::to_string(i)});
  }
  auto put = Open();
  const flight::FlightData frame = BatchFrame(TableArrowSchema(), Batch(0, names, tags), 0);
  ASSERT_GT(frame.ByteSizeLong(), 500000u);
  ASSERT_TRUE(put->Write(frame));
  EXPECT_EQ(put->Read(), Ack(0, kRows));
  EXPECT_TRUE(put->Finish().ok());
  EXPECT_EQ(server_->table_stats(kTable).records, kRows);
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{4097}, int64_t{12345}, kRows - 1}) {
    const auto at = static_cast<size_t>(i);
    json row_tags = json::array();
    for (const std::string &tag : tags[at]) row_tags.push_back(tag);
    EXPECT_EQ(Row(i), (json{{"id", i},
                            {"name", names[at].empty() ? json() : json(names[at])},
                            {"tags", row_tags}}))
        << "row " << i;
  }
}

// FlightData is read by the server's own scanner, which refuses what no client writes: here a
// data_body field of the wrong wire type.
TEST_F(FlightTest, AMalformedFlightDataIsRefusedSayingWhatAndWhere) {
  auto put = Open();
  flight::FlightData frame = BatchFrame(TableArrowSchema(), Batch(1, {"a"}, {{}}), 0);
  const size_t valid_bytes = frame.ByteSizeLong();
  frame.GetReflection()->MutableUnknownFields(&frame)->AddVarint(1000, 5);
  ASSERT_TRUE(put->Write(frame));
  const grpc::Status status = put->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "the message is not a valid FlightData: data_body (field 1000) with wire type 0, not "
            "length-delimited (2), at byte " +
                std::to_string(valid_bytes));
  EXPECT_EQ(server_->table_stats(kTable).records, 0);
}

TEST_F(FlightTest, ASchemaThatDoesNotFitIsRefusedNamingTheColumnAndBothTypes) {
  Put put(server_->port(), kTable);
  ASSERT_TRUE(put.Write(Frame(za::EncodeSchema(TableArrowSchema(za::TypeId::kInt32)))));
  EXPECT_TRUE(put.Read().is_null());
  const grpc::Status status = put.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("column 'name' is string"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("Arrow type int32"), std::string::npos)
      << status.error_message();
}

TEST_F(FlightTest, AnUnknownTableAndAMissingHeaderAreRefused) {
  Put unknown(server_->port(), "main.default.nothing");
  ASSERT_TRUE(unknown.Write(Frame(za::EncodeSchema(TableArrowSchema()))));
  EXPECT_EQ(unknown.Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  Put unnamed(server_->port(), "");
  ASSERT_TRUE(unnamed.Write(Frame(za::EncodeSchema(TableArrowSchema()))));
  const grpc::Status status = unnamed.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("x-databricks-zerobus-table-name"), std::string::npos);
}

TEST_F(FlightTest, WithAuthenticationOnAStreamNeedsATokenForItsTable) {
  ServerOptions options;
  options.auth = zerobus::server::ClientCredentials{"client", "secret"};
  server_.reset();
  Start(std::move(options));
  auto refusal = [&](const std::string &token) {
    Put put(server_->port(), kTable, token);
    EXPECT_TRUE(put.Write(Frame(za::EncodeSchema(TableArrowSchema()))));
    EXPECT_TRUE(put.Read().is_null());
    return put.Finish().error_code();
  };
  EXPECT_EQ(refusal(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refusal(server_->tokens().Issue("main.default.other", 3600s)),
            grpc::StatusCode::PERMISSION_DENIED);
  Put put(server_->port(), kTable, server_->tokens().Issue(kTable, 3600s));
  ASSERT_TRUE(put.Write(Frame(za::EncodeSchema(TableArrowSchema()))));
  EXPECT_EQ(put.Read(), Ack(-1, 0));
  EXPECT_TRUE(put.Finish().ok());
}

TEST_F(FlightTest, TextThatIsNotUtf8IsRefusedNamingTheColumnAndNothingIsStored) {
  auto put = Open();
  ASSERT_TRUE(
      put->Write(BatchFrame(TableArrowSchema(), Batch(1, {"ok", "\xff\xfe"}, {{}, {}}), 0)));
  const grpc::Status status = put->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("row 1 of the batch: column 'name'"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(server_->table_stats(kTable).records, 0);
}

// A null sink (benchmarks) decodes each batch and acknowledges its rows without turning its
// values into rows, as it takes records of a table without a schema undecoded: text that is
// not UTF-8 goes through, the batch's structure is still checked.
TEST_F(FlightTest, ANullSinkAcknowledgesRowsWithoutCheckingTheirValues) {
  ServerOptions options;
  options.null_sink = true;
  server_.reset();
  Start(std::move(options));
  auto put = Open();
  ASSERT_TRUE(
      put->Write(BatchFrame(TableArrowSchema(), Batch(1, {"ok", "\xff\xfe"}, {{}, {}}), 0)));
  EXPECT_EQ(put->Read(), Ack(0, 2));
  EXPECT_TRUE(put->Finish().ok());
  EXPECT_EQ(server_->table_stats(kTable).records, 2);
}

TEST_F(FlightTest, AnOffsetIdOutOfSequenceIsRefused) {
  auto put = Open();
  ASSERT_TRUE(put->Write(BatchFrame(TableArrowSchema(), Batch(1, {"a"}, {{}}), 1)));
  const grpc::Status status = put->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("expected 0, got 1"), std::string::npos)
      << status.error_message();
}

TEST_F(FlightTest, WithheldAcksGoOutWhenReleasedAndCountEveryRow) {
  server_->faults().WithholdAcks(true);
  auto put = Open();
  const za::Schema schema = TableArrowSchema();
  ASSERT_TRUE(put->Write(BatchFrame(schema, Batch(1, {"a", "b"}, {{}, {}}), 0)));
  ASSERT_TRUE(put->Write(BatchFrame(schema, Batch(3, {"c"}, {{}}), 1)));
  ASSERT_TRUE(server_->WaitFor([&] { return server_->table_stats(kTable).records == 3; }, 10s));
  server_->faults().WithholdAcks(false);
  EXPECT_EQ(put->Read(), Ack(1, 3));
  EXPECT_TRUE(put->Finish().ok());
}

TEST_F(FlightTest, CloseSignalAndBreakFaultsApplyToFlightStreams) {
  zerobus::server::FaultPlan plan;
  plan.close_after_records = 2;
  plan.close_signal_duration = 200ms;
  server_->faults().Set(kTable, plan);
  auto put = Open();
  ASSERT_TRUE(put->Write(BatchFrame(TableArrowSchema(), Batch(1, {"a", "b"}, {{}, {}}), 0)));
  json first = put->Read();
  json second = put->Read();
  // The ack and the signal, in either order.
  if (first.contains("close_stream_duration_ms")) std::swap(first, second);
  EXPECT_EQ(first, Ack(0, 2));
  EXPECT_EQ(second.value("close_stream_duration_ms", -1), 200) << second.dump();
  // A client that does not close its side sees the call end once the duration is over.
  EXPECT_TRUE(put->Read().is_null());
  EXPECT_EQ(put->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  server_->faults().Clear();
  server_->faults().FailAfterRecords(1, grpc::Status(grpc::StatusCode::UNAVAILABLE, "broken"));
  auto broken = Open();
  ASSERT_TRUE(broken->Write(BatchFrame(TableArrowSchema(), Batch(3, {"c", "d"}, {{}, {}}), 0)));
  const grpc::Status status = broken->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "broken");
  EXPECT_EQ(server_->table_stats(kTable).records, 2);
}

}  // namespace
