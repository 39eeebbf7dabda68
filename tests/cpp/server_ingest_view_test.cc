// The server's in-place reading of ingest_record_batch requests (server/ingest_request_view.h):
// what it accepts must mean exactly what protobuf's own parse makes of the same bytes, and
// whatever it leaves to that parse, malformed bytes included, must end a call with
// INVALID_ARGUMENT rather than harm the server.
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/codegen/client_context.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include "server/ingest_request_view.h"
#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_raw_persistent.h"
#include "zbtest_raw_stream.h"
#include "zbtest_temp_dir.h"
#include "zerobus_service.pb.h"

namespace zerobus::server {
namespace {

using databricks::zerobus::EphemeralStreamRequest;

std::vector<std::string> Records(const IngestRequestView &view) {
  std::vector<std::string> records;
  for (size_t i = 0; i < view.records.size(); ++i) records.push_back(view.Copy(i));
  return records;
}

// Scans `bytes` in one piece.
bool Scan(std::string_view bytes, IngestRequestView *view, IngestFields fields = kEphemeralFields) {
  return ScanIngestRequest({bytes}, view, fields);
}

// `bytes` cut at `cuts` (ascending offsets within it; a repeated one makes an empty piece).
std::vector<std::string_view> CutAt(std::string_view bytes, const std::vector<size_t> &cuts) {
  std::vector<std::string_view> pieces;
  size_t from = 0;
  for (size_t cut : cuts) {
    pieces.push_back(bytes.substr(from, cut - from));
    from = cut;
  }
  pieces.push_back(bytes.substr(from));
  return pieces;
}

// Whether every part of every record lies inside `bytes`: nothing was copied.
bool ViewsOnly(const IngestRequestView &view, std::string_view bytes) {
  for (std::string_view part : view.parts) {
    if (part.data() < bytes.data() || part.data() + part.size() > bytes.data() + bytes.size()) {
      return false;
    }
  }
  return true;
}

// What protobuf's parse makes of `bytes` when it holds a batch or a record, in the scanner's
// terms.
std::optional<IngestRequestView> Parsed(const std::string &bytes, EphemeralStreamRequest *request) {
  if (!request->ParseFromString(bytes)) return std::nullopt;
  IngestRequestView view;
  if (request->has_ingest_record()) {
    const auto &ingest = request->ingest_record();
    view.offset_id = ingest.offset_id();
    view.batch = false;
    view.kind = ingest.has_json_record()           ? IngestRequestView::Kind::kJson
                : ingest.has_avro_encoded_record() ? IngestRequestView::Kind::kAvro
                                                   : IngestRequestView::Kind::kProto;
    view.AddRecord(ingest.has_json_record()           ? ingest.json_record()
                   : ingest.has_avro_encoded_record() ? ingest.avro_encoded_record()
                                                      : ingest.proto_encoded_record());
    return view;
  }
  if (!request->has_ingest_record_batch()) return std::nullopt;
  const auto &batch = request->ingest_record_batch();
  view.offset_id = batch.offset_id();
  view.batch = true;
  view.kind = batch.has_json_batch()   ? IngestRequestView::Kind::kJson
              : batch.has_avro_batch() ? IngestRequestView::Kind::kAvro
                                       : IngestRequestView::Kind::kProto;
  const auto &records = batch.has_json_batch()   ? batch.json_batch().records()
                        : batch.has_avro_batch() ? batch.avro_batch().records()
                                                 : batch.proto_encoded_batch().records();
  for (const std::string &record : records) view.AddRecord(record);
  return view;
}

TEST(IngestRequestView, ReadsProtoJsonAndAvroBatchesAsTheGeneratedCodeWritesThem) {
  const std::vector<std::string> records = {"", std::string(1, '\0'), "abc", std::string(300, 'x')};
  using Kind = IngestRequestView::Kind;
  for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{1} << 40, int64_t{-1}, INT64_MIN}) {
    for (Kind kind : {Kind::kProto, Kind::kJson, Kind::kAvro}) {
      const EphemeralStreamRequest request =
          kind == Kind::kJson   ? zbtest::JsonBatch(offset, records)
          : kind == Kind::kAvro ? zbtest::AvroBatch(offset, records)
                                : zbtest::ProtoBatch(offset, records);
      const std::string bytes = request.SerializeAsString();  // what the views point into
      IngestRequestView view;
      ASSERT_TRUE(Scan(bytes, &view)) << offset;
      EXPECT_EQ(view.offset_id, offset);
      EXPECT_TRUE(view.batch);
      EXPECT_TRUE(view.kind == kind);
      EXPECT_EQ(Records(view), records);
    }
  }
}

TEST(IngestRequestView, ReadsAnEmptyBatchAndTheOffsetAfterTheRecords) {
  IngestRequestView view;
  view.AddRecord("left over");
  ASSERT_TRUE(Scan(zbtest::ProtoBatch(3, {}).SerializeAsString(), &view));
  EXPECT_TRUE(view.records.empty());

  // offset_id (field 1, varint 7) written after json_batch (field 3, one record "a").
  const std::string body = std::string(
      "\x1a\x03\x0a\x01"
      "a"
      "\x08\x07",
      7);
  const std::string request = "\x1a" + std::string(1, static_cast<char>(body.size())) + body;
  ASSERT_TRUE(Scan(request, &view));
  EXPECT_EQ(view.offset_id, 7);
  EXPECT_TRUE(view.kind == IngestRequestView::Kind::kJson);
  EXPECT_EQ(Records(view), std::vector<std::string>{"a"});
}

TEST(IngestRequestView, ReadsSingleRecordsAsTheGeneratedCodeWritesThem) {
  using Kind = IngestRequestView::Kind;
  for (const std::string &record : {std::string(), std::string("{}"), std::string(300, 'x')}) {
    for (Kind kind : {Kind::kProto, Kind::kJson, Kind::kAvro}) {
      const EphemeralStreamRequest request = kind == Kind::kJson ? zbtest::JsonRecord(-5, record)
                                             : kind == Kind::kAvro
                                                 ? zbtest::AvroRecord(-5, record)
                                                 : zbtest::ProtoRecord(-5, record);
      const std::string bytes = request.SerializeAsString();
      IngestRequestView view;
      ASSERT_TRUE(Scan(bytes, &view)) << record.size();
      EXPECT_EQ(view.offset_id, -5);
      EXPECT_FALSE(view.batch);
      EXPECT_TRUE(view.kind == kind);
      EXPECT_EQ(Records(view), std::vector<std::string>{record});
    }
  }
}

TEST(IngestRequestView, ReadsAPersistentStreamRequestsPayloadByItsOwnFieldNumbers) {
  databricks::zerobus::PersistentStreamRequest persistent;
  *persistent.mutable_ingest_record_batch() =
      zbtest::JsonBatch(9, {"x", "y"}).ingest_record_batch();
  IngestRequestView view;
  ASSERT_TRUE(Scan(persistent.SerializeAsString(), &view, kPersistentFields));
  EXPECT_EQ(view.offset_id, 9);
  EXPECT_TRUE(view.batch);
  EXPECT_EQ(Records(view), (std::vector<std::string>{"x", "y"}));
  *persistent.mutable_ingest_record() = zbtest::JsonRecord(10, "z").ingest_record();
  ASSERT_TRUE(Scan(persistent.SerializeAsString(), &view, kPersistentFields));
  EXPECT_EQ(view.offset_id, 10);
  EXPECT_FALSE(view.batch);
  EXPECT_EQ(Records(view), std::vector<std::string>{"z"});
  // The other RPC's payloads are not taken for this one's: ephemeral field 3, a batch, is a
  // PersistentStreamRequest's ingest_record (here one whose json_record holds the batch's bytes,
  // as protobuf reads it too), and persistent field 4, a batch, is nothing of an
  // EphemeralStreamRequest's.
  const std::string ephemeral_batch = zbtest::JsonBatch(9, {"x"}).SerializeAsString();
  ASSERT_TRUE(Scan(ephemeral_batch, &view, kPersistentFields));
  EXPECT_FALSE(view.batch);
  databricks::zerobus::PersistentStreamRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(ephemeral_batch));
  EXPECT_EQ(Records(view), std::vector<std::string>{parsed.ingest_record().json_record()});
  *persistent.mutable_ingest_record_batch() =
      zbtest::JsonBatch(9, {"x", "y"}).ingest_record_batch();
  EXPECT_FALSE(Scan(persistent.SerializeAsString(), &view));
}

TEST(IngestRequestView, LeavesEveryOtherShapeToTheFullParse) {
  std::vector<EphemeralStreamRequest> others;
  others.push_back(zbtest::CreateJson("main.default.events"));
  EphemeralStreamRequest no_record = zbtest::JsonRecord(0, "{}");
  no_record.mutable_ingest_record()->clear_json_record();
  others.push_back(no_record);
  EphemeralStreamRequest record_no_offset = zbtest::JsonRecord(0, "{}");
  record_no_offset.mutable_ingest_record()->clear_offset_id();
  others.push_back(record_no_offset);
  EphemeralStreamRequest record_unknown = zbtest::JsonRecord(0, "{}");
  record_unknown.mutable_ingest_record()->mutable_unknown_fields()->AddVarint(9, 1);
  others.push_back(record_unknown);
  others.push_back(EphemeralStreamRequest());
  EphemeralStreamRequest no_offset = zbtest::ProtoBatch(0, {"a"});
  no_offset.mutable_ingest_record_batch()->clear_offset_id();
  others.push_back(no_offset);
  EphemeralStreamRequest no_records = zbtest::ProtoBatch(0, {"a"});
  no_records.mutable_ingest_record_batch()->clear_proto_encoded_batch();
  others.push_back(no_records);
  EphemeralStreamRequest unknown = zbtest::ProtoBatch(0, {"a"});
  unknown.mutable_ingest_record_batch()
      ->mutable_proto_encoded_batch()
      ->mutable_unknown_fields()
      ->AddVarint(9, 1);
  others.push_back(unknown);
  for (const EphemeralStreamRequest &request : others) {
    IngestRequestView view;
    EXPECT_FALSE(Scan(request.SerializeAsString(), &view)) << request.DebugString();
  }

  const std::string batch = zbtest::ProtoBatch(5, {"a", "b"}).SerializeAsString();
  const std::string json = zbtest::JsonBatch(6, {"c"}).SerializeAsString();
  const std::string record = zbtest::JsonRecord(7, "d").SerializeAsString();
  EphemeralStreamRequest two_members = zbtest::JsonRecord(8, "e");
  // json_record, then proto_encoded_record (field 2) written after it.
  two_members.mutable_ingest_record()->mutable_unknown_fields()->AddLengthDelimited(2, "f");
  // Protobuf merges a repeated message field and lets the last oneof member win.
  for (const std::string &merged : {batch + batch, batch + json, record + record, record + batch,
                                    two_members.SerializeAsString()}) {
    IngestRequestView view;
    EXPECT_FALSE(Scan(merged, &view));
    EphemeralStreamRequest request;
    EXPECT_TRUE(Parsed(merged, &request).has_value());
  }
}

TEST(IngestRequestView, RefusesEveryTruncation) {
  const std::string bytes = zbtest::JsonBatch(300, {"{\"a\":1}", "{}"}).SerializeAsString();
  for (size_t length = 0; length < bytes.size(); ++length) {
    IngestRequestView view;
    EXPECT_FALSE(Scan(std::string_view(bytes).substr(0, length), &view)) << length;
  }
}

// gRPC hands a request over in slices cut wherever its buffers ended: inside a tag, a varint,
// a length or a record. However the bytes are cut, the scanner reads the records protobuf reads,
// each a view of the pieces it lies in.
TEST(IngestRequestView, ReadsTheSameRecordsHoweverTheRequestIsCut) {
  // Lengths of one and two bytes, an empty record, and an offset of three varint bytes.
  const std::vector<std::string> records = {"first", "", std::string(130, 'y'), "z", "last"};
  for (const EphemeralStreamRequest &request :
       {zbtest::ProtoBatch(40000, records), zbtest::JsonBatch(-1, records),
        zbtest::AvroRecord(40000, records[2]), zbtest::JsonRecord(-1, "")}) {
    const std::string bytes = request.SerializeAsString();
    EphemeralStreamRequest parsed_request;
    const std::optional<IngestRequestView> parsed = Parsed(bytes, &parsed_request);
    ASSERT_TRUE(parsed.has_value());
    std::vector<std::vector<size_t>> cuttings;
    for (size_t first = 0; first <= bytes.size(); ++first) {
      cuttings.push_back({first});
      for (size_t second = first; second <= bytes.size(); ++second) {
        cuttings.push_back({first, second});
      }
    }
    std::vector<size_t> every_byte;  // a piece per byte, and an empty one before each
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      every_byte.push_back(cut);
      every_byte.push_back(cut);
    }
    cuttings.push_back(every_byte);
    for (const std::vector<size_t> &cuts : cuttings) {
      IngestRequestView view;
      ASSERT_TRUE(ScanIngestRequest(CutAt(bytes, cuts), &view))
          << cuts.size() << " cuts from " << cuts[0];
      EXPECT_EQ(view.offset_id, parsed->offset_id);
      EXPECT_EQ(view.batch, parsed->batch);
      EXPECT_TRUE(view.kind == parsed->kind);
      ASSERT_EQ(Records(view), Records(*parsed)) << cuts.size() << " cuts from " << cuts[0];
      EXPECT_TRUE(ViewsOnly(view, bytes)) << cuts.size() << " cuts from " << cuts[0];
    }
  }
}

TEST(IngestRequestView, ARecordInOnePieceIsViewedAndOneThatStraddlesIsPutTogetherOnDemand) {
  const std::string bytes =
      zbtest::ProtoBatch(1, {"alpha", "bravo", "charlie"}).SerializeAsString();
  const size_t bravo = bytes.find("bravo");
  IngestRequestView view;
  view.AddRecord("left over");
  // Cut inside "bravo", and between "charlie"'s tag and length.
  const size_t charlie = bytes.find("charlie");
  ASSERT_TRUE(ScanIngestRequest(CutAt(bytes, {bravo + 2, charlie - 1}), &view));
  ASSERT_EQ(view.records.size(), 3u);
  EXPECT_EQ(view.records[0].part_count, 1u);
  EXPECT_EQ(view.records[1].part_count, 2u);
  EXPECT_EQ(view.records[2].part_count, 1u);
  EXPECT_EQ(view.Contiguous(0).data(), bytes.data() + bytes.find("alpha"));
  EXPECT_EQ(view.Contiguous(2).data(), bytes.data() + charlie);
  EXPECT_TRUE(view.scratch.empty()) << "nothing is put together until asked for";
  const std::string_view straddling = view.Contiguous(1);
  EXPECT_EQ(straddling, "bravo");
  EXPECT_EQ(straddling.data(), view.scratch.data());
  EXPECT_EQ(view.Copy(1), "bravo");
}

TEST(IngestRequestView, RefusesEveryTruncationHoweverItIsCut) {
  const std::string bytes = zbtest::JsonBatch(300, {"{\"a\":1}", "{}"}).SerializeAsString();
  for (size_t length = 0; length < bytes.size(); ++length) {
    for (size_t cut = 0; cut <= length; ++cut) {
      IngestRequestView view;
      EXPECT_FALSE(
          ScanIngestRequest(CutAt(std::string_view(bytes).substr(0, length), {cut}), &view))
          << length << " bytes cut at " << cut;
    }
  }
}

// Damaged requests: whatever the scanner accepts, protobuf's parse accepts too, with the same
// meaning. (The scanner reads only inside the bytes it is given; ASan and the fuzz-like volume
// here check that.)
TEST(IngestRequestView, AgreesWithProtobufOnDamagedBytes) {
  const std::string original =
      zbtest::ProtoBatch(129, {"first", std::string(200, 'y'), "", "last"}).SerializeAsString();
  std::mt19937 random(7);
  int accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes = original;
    const int damage = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < damage; ++i) {
      bytes[random() % bytes.size()] = static_cast<char>(random());
    }
    // Owned by the heap alone, so that a read past the end is caught by ASan.
    const auto copy = std::make_unique<char[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), copy.get());
    const std::string_view whole(copy.get(), bytes.size());
    IngestRequestView view;
    const bool scanned = Scan(whole, &view);
    // Cut anywhere, the same bytes are read alike.
    IngestRequestView cut_view;
    const size_t cut = random() % (bytes.size() + 1);
    ASSERT_EQ(ScanIngestRequest(CutAt(whole, {cut}), &cut_view), scanned) << trial;
    if (!scanned) continue;
    EXPECT_EQ(Records(cut_view), Records(view)) << trial;
    ++accepted;
    EphemeralStreamRequest request;
    const std::optional<IngestRequestView> parsed = Parsed(bytes, &request);
    ASSERT_TRUE(parsed.has_value()) << trial;
    EXPECT_EQ(view.offset_id, parsed->offset_id) << trial;
    EXPECT_TRUE(view.kind == parsed->kind) << trial;
    EXPECT_EQ(Records(view), Records(*parsed)) << trial;
  }
  EXPECT_GT(accepted, 0);
}

// Bytes no client library would send, over a real call.
class RawBytesCall {
 public:
  explicit RawBytesCall(int port)
      : channel_(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials())) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stream_.reset(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel_.get(),
            grpc::internal::RpcMethod("/databricks.zerobus.Zerobus/EphemeralStream",
                                      grpc::internal::RpcMethod::BIDI_STREAMING),
            &context_));
  }

  void Write(const std::string &bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    stream_->Write(buffer);
  }

  grpc::Status Finish() {
    stream_->WritesDone();
    grpc::ByteBuffer ignored;
    while (stream_->Read(&ignored)) {
    }
    return stream_->Finish();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream_;
};

class IngestRequestBytes : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServerOptions{}); }

  void Start(ServerOptions options) {
    std::string error;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  // `table` holds `records`, each as the row of its own index, and nothing else.
  void ExpectStored(const char *table, const std::vector<std::string> &records) {
    ASSERT_EQ(server_->rows().Count(table), static_cast<int64_t>(records.size()));
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_EQ(server_->rows().Get(table, static_cast<int64_t>(i))->data, records[i]) << i;
    }
  }

  zbtest::TempDir dir_;  // for a test's storage; outlives the server
  std::unique_ptr<Server> server_;
};

constexpr char kTable[] = "main.default.events";

TEST_F(IngestRequestBytes, MalformedRequestsEndTheCallWithInvalidArgument) {
  const std::string batch = zbtest::JsonBatch(0, {"{}"}).SerializeAsString();
  const std::string create = zbtest::CreateJson(kTable).SerializeAsString();
  for (const std::string &garbage : {batch.substr(0, batch.size() - 1), std::string("\xff\xff")}) {
    RawBytesCall before_create(server_->port());
    before_create.Write(garbage);
    grpc::Status status = before_create.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "the request is not a valid EphemeralStreamRequest");

    RawBytesCall after_create(server_->port());
    after_create.Write(create);
    after_create.Write(garbage);
    status = after_create.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "the request is not a valid EphemeralStreamRequest");
  }
  EXPECT_EQ(server_->rows().Count(kTable), 0);
}

TEST_F(IngestRequestBytes, RequestsTheScannerLeavesAreStoredAsProtobufReadsThem) {
  RawBytesCall call(server_->port());
  call.Write(zbtest::CreateJson(kTable).SerializeAsString());
  // One request holding two batch fields, which protobuf merges into one batch of three
  // records; then a single record and a batch, which the scanner reads.
  call.Write(zbtest::JsonBatch(0, {"{\"id\":1}", "{\"id\":2}"}).SerializeAsString() +
             zbtest::JsonBatch(0, {"{\"id\":3}"}).SerializeAsString());
  call.Write(zbtest::JsonRecord(1, "{\"id\":4}").SerializeAsString());
  call.Write(zbtest::JsonBatch(2, {"{\"id\":5}"}).SerializeAsString());
  const grpc::Status status = call.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(server_->rows().Count(kTable), 5);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(server_->rows().Get(kTable, i)->data, "{\"id\":" + std::to_string(i + 1) + "}");
  }
}

// Records of every size from nothing to 20 KB, in a request of about a megabyte (the most a
// client puts in one): it reaches the server in many slices, cut inside records, tags and
// lengths, and the server reads it in place.
std::vector<std::string> JsonRecordsOfManySizes() {
  std::vector<std::string> records;
  size_t total = 0;
  for (int i = 0; total < 1000000; ++i) {
    const std::string text(static_cast<size_t>(i * 7919 % 20000), static_cast<char>('a' + i % 26));
    records.push_back("{\"id\":" + std::to_string(i) + ",\"text\":\"" + text + "\"}");
    total += records.back().size();
  }
  return records;
}

TEST_F(IngestRequestBytes, ABatchThatArrivesInManySlicesIsStoredRecordForRecord) {
  const std::vector<std::string> records = JsonRecordsOfManySizes();
  zbtest::RawStream stream(server_->port());
  ASSERT_FALSE(stream.Open(zbtest::CreateJson(kTable)).empty());
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, records)));
  EXPECT_EQ(stream.ReadAck(), 0);
  stream.WritesDone();
  const grpc::Status status = stream.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ExpectStored(kTable, records);
}

// A declared table's decoder needs each record in one run: one that straddles slices is put
// together for it (a single ingest_record's too), and a record that does not fit the table is
// refused naming its index.
TEST_F(IngestRequestBytes, ADeclaredTablesDecoderGetsEveryRecordWholeHoweverItWasSliced) {
  ServerOptions options;
  options.tables.resize(1);
  std::string error;
  ASSERT_TRUE(table::ParseTableDdl("main.default.texts (id BIGINT NOT NULL, text STRING NOT NULL)",
                                   &options.tables[0], &error))
      << error;
  Start(std::move(options));
  constexpr char kTexts[] = "main.default.texts";
  std::vector<std::string> records = JsonRecordsOfManySizes();
  const std::string single = "{\"id\":-1,\"text\":\"" + std::string(300000, 'q') + "\"}";
  {
    zbtest::RawStream stream(server_->port());
    ASSERT_FALSE(stream.Open(zbtest::CreateJson(kTexts)).empty());
    ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, records)));
    EXPECT_EQ(stream.ReadAck(), 0);
    ASSERT_TRUE(stream.Write(zbtest::JsonRecord(1, single)));
    EXPECT_EQ(stream.ReadAck(), 1);
    stream.WritesDone();
    const grpc::Status status = stream.Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  std::vector<std::string> stored = records;
  stored.push_back(single);
  ExpectStored(kTexts, stored);

  const size_t last = records.size() - 1;
  records[last].replace(records[last].find("\"text\""), 6, "\"txt\"");
  zbtest::RawStream stream(server_->port());
  ASSERT_FALSE(stream.Open(zbtest::CreateJson(kTexts)).empty());
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, records)));
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string where = "offset_id 0, record " + std::to_string(last) + " of the batch: ";
  EXPECT_EQ(status.error_message().substr(0, where.size()), where);
  EXPECT_EQ(server_->rows().Count(kTexts), static_cast<int64_t>(records.size() + 1));
}

// PersistentStream's batches are read in place too, by their own field number, and stored.
TEST_F(IngestRequestBytes, APersistentStreamsBatchInManySlicesIsStoredRecordForRecord) {
  ServerOptions options;
  options.data_dir = dir_.path();
  Start(std::move(options));
  const std::vector<std::string> records = JsonRecordsOfManySizes();
  zbtest::RawPersistentStream stream(server_->port());
  ASSERT_NE(stream.Create(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, records)));
  EXPECT_EQ(stream.ReadAck(), 0);
  stream.WritesDone();
  const grpc::Status status = stream.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ExpectStored(kTable, records);
}

}  // namespace
}  // namespace zerobus::server
