// The C test API (zbtest_server.h, zbtest_event.h) that cmocka tests build on.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <gtest/gtest.h>

#include "zbtest_event.h"
#include "zbtest_raw_stream.h"
#include "zbtest_server.h"

namespace {

using zbtest::RawStream;

constexpr char kTable[] = "main.default.events";

int PortOf(const zbtest_server *server) {
  const std::string endpoint = zbtest_server_endpoint(server);
  const std::string prefix = "http://127.0.0.1:";
  EXPECT_EQ(endpoint.rfind(prefix, 0), 0u) << endpoint;
  return std::atoi(endpoint.c_str() + prefix.size());
}

struct ServerDeleter {
  void operator()(zbtest_server *server) const { zbtest_server_stop(server); }
};
using ServerHandle = std::unique_ptr<zbtest_server, ServerDeleter>;

// Decodes Event records with nothing but the bytes zbtest_descriptor() hands out.
class EventDecoder {
 public:
  EventDecoder() {
    const uint8_t *data;
    size_t len;
    zbtest_descriptor(&data, &len);
    google::protobuf::FileDescriptorProto file;
    file.set_name("decoder.proto");
    EXPECT_TRUE(file.add_message_type()->ParseFromArray(data, static_cast<int>(len)));
    const google::protobuf::FileDescriptor *built = pool_.BuildFile(file);
    EXPECT_NE(built, nullptr);
    event_ = built->FindMessageTypeByName("Event");
  }

  // "id/payload", with "-" for an unset payload.
  std::string Decode(const uint8_t *data, size_t len) {
    std::unique_ptr<google::protobuf::Message> message(factory_.GetPrototype(event_)->New());
    if (!message->ParseFromArray(data, static_cast<int>(len))) return "<unparsable>";
    const google::protobuf::Reflection *reflection = message->GetReflection();
    const auto *payload = event_->FindFieldByName("payload");
    return std::to_string(reflection->GetInt64(*message, event_->FindFieldByName("id"))) + "/" +
           (reflection->HasField(*message, payload) ? reflection->GetString(*message, payload)
                                                    : "-");
  }

  const google::protobuf::Descriptor *event() const { return event_; }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  const google::protobuf::Descriptor *event_ = nullptr;
};

TEST(ZbtestEvent, DescribesEventWithOptionalIdAndPayload) {
  EventDecoder decoder;
  ASSERT_NE(decoder.event(), nullptr);
  EXPECT_EQ(decoder.event()->field_count(), 2);
  const auto *id = decoder.event()->FindFieldByNumber(1);
  const auto *payload = decoder.event()->FindFieldByNumber(2);
  ASSERT_NE(id, nullptr);
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(id->name(), "id");
  EXPECT_EQ(id->type(), google::protobuf::FieldDescriptor::TYPE_INT64);
  EXPECT_EQ(payload->name(), "payload");
  EXPECT_EQ(payload->type(), google::protobuf::FieldDescriptor::TYPE_STRING);
  EXPECT_TRUE(id->is_optional());
  EXPECT_TRUE(payload->is_optional());
}

TEST(ZbtestEvent, EncodesRecordsThatDecodeWithTheDescriptor) {
  EventDecoder decoder;
  uint8_t buf[64];
  size_t len = zbtest_encode_event(-42, "hello", buf, sizeof buf);
  ASSERT_LE(len, sizeof buf);
  EXPECT_EQ(decoder.Decode(buf, len), "-42/hello");

  len = zbtest_encode_event(7, nullptr, buf, sizeof buf);
  EXPECT_EQ(decoder.Decode(buf, len), "7/-");
}

TEST(ZbtestEvent, ReportsTheLengthNeededWhenTheBufferIsTooSmall) {
  uint8_t buf[4] = {0xAA, 0xAA, 0xAA, 0xAA};
  const size_t needed = zbtest_encode_event(1, "a payload longer than the buffer", buf, sizeof buf);
  EXPECT_GT(needed, sizeof buf);
  for (uint8_t byte : buf) EXPECT_EQ(byte, 0xAA) << "nothing written";
  std::string full(needed, '\0');
  EXPECT_EQ(zbtest_encode_event(1, "a payload longer than the buffer",
                                reinterpret_cast<uint8_t *>(full.data()), full.size()),
            needed);
}

TEST(ZbtestServer, StoresWhatAProtoStreamSendsAndHandsItBack) {
  ServerHandle server(zbtest_server_start(nullptr));
  ASSERT_NE(server, nullptr);
  RawStream stream(PortOf(server.get()));
  ASSERT_NE(stream.Open(zbtest::CreateProto(kTable, zbtest::EventDescriptor())), "");
  ASSERT_TRUE(stream.Write(zbtest::ProtoRecord(0, zbtest::EncodeEvent(1, "one"))));
  EXPECT_EQ(stream.ReadAck(), 0);
  ASSERT_TRUE(stream.Write(
      zbtest::ProtoBatch(1, {zbtest::EncodeEvent(2, "two"), zbtest::EncodeEvent(3, "three")})));
  EXPECT_EQ(stream.ReadAck(), 1);

  EXPECT_EQ(zbtest_server_record_count(server.get(), kTable), 3);
  EXPECT_EQ(zbtest_server_record_count(server.get(), "other.table.name"), 0);
  EXPECT_EQ(zbtest_server_requests(server.get()), 2);
  EXPECT_EQ(zbtest_server_records(server.get()), 3);
  EXPECT_EQ(zbtest_server_streams_opened(server.get()), 1);
  EXPECT_EQ(zbtest_server_streams_open(server.get()), 1);

  EventDecoder decoder;
  const uint8_t *data = nullptr;
  size_t len = 0;
  bool is_json = true;
  ASSERT_TRUE(zbtest_server_record(server.get(), kTable, 0, &data, &len, &is_json));
  EXPECT_EQ(decoder.Decode(data, len), "1/one");
  EXPECT_FALSE(is_json);
  const uint8_t *first = data;
  ASSERT_TRUE(zbtest_server_record(server.get(), kTable, 2, &data, &len, nullptr));
  EXPECT_EQ(decoder.Decode(data, len), "3/three");
  EXPECT_EQ(decoder.Decode(first, zbtest_encode_event(1, "one", nullptr, 0)), "1/one")
      << "earlier pointers stay valid";
  EXPECT_FALSE(zbtest_server_record(server.get(), kTable, 3, &data, &len, nullptr));

  stream.context().TryCancel();
  EXPECT_TRUE(zbtest_server_wait_streams_open(server.get(), 0, 5000));
}

TEST(ZbtestServer, FaultsAndWaitsWorkThroughTheCApi) {
  ServerHandle server(zbtest_server_start(nullptr));
  ASSERT_NE(server, nullptr);
  const int port = PortOf(server.get());

  zbtest_server_refuse_streams(server.get(), 14 /* UNAVAILABLE */, "not now", 1);
  {
    RawStream refused(port);
    refused.Write(zbtest::CreateJson(kTable));
    grpc::Status status = refused.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(status.error_message(), "not now");
  }

  RawStream stream(port);
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  zbtest_server_withhold_acks(server.get(), true);
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, "{}")));
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(1, "{}")));
  ASSERT_TRUE(zbtest_server_wait_records(server.get(), kTable, 2, 5000));
  EXPECT_FALSE(zbtest_server_wait_records(server.get(), kTable, 3, 50));
  zbtest_server_withhold_acks(server.get(), false);
  EXPECT_EQ(stream.ReadAck(), 1);

  zbtest_server_delay_acks(server.get(), 3600 * 1000);
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(2, "{}")));
  ASSERT_TRUE(zbtest_server_wait_records(server.get(), kTable, 3, 5000));
  zbtest_server_clear_faults(server.get());
  EXPECT_EQ(stream.ReadAck(), 2);

  zbtest_server_fail_after(server.get(), 0, 13 /* INTERNAL */, "broken");
  stream.Write(zbtest::JsonRecord(3, "{}"));
  grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "broken");
  EXPECT_EQ(zbtest_server_record_count(server.get(), kTable), 3);
}

TEST(ZbtestServer, NullSinkCountsWithoutStoring) {
  zbtest_server_options options = {};
  options.null_sink = true;
  ServerHandle server(zbtest_server_start(&options));
  ASSERT_NE(server, nullptr);
  RawStream stream(PortOf(server.get()));
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, {"{}", "{}"})));
  EXPECT_EQ(stream.ReadAck(), 0);
  EXPECT_EQ(zbtest_server_records(server.get()), 2);
  EXPECT_EQ(zbtest_server_record_count(server.get(), kTable), 0);
}

TEST(ZbtestServer, ABusyPortFailsToStart) {
  ServerHandle first(zbtest_server_start(nullptr));
  ASSERT_NE(first, nullptr);
  zbtest_server_options options = {};
  options.port = PortOf(first.get());
  ServerHandle second(zbtest_server_start(&options));
  EXPECT_EQ(second, nullptr);
}

}  // namespace

namespace {

TEST(ZbtestServer, FaultPlansAndStallsGoThroughTheSameMechanism) {
  zbtest_server_options options = {};
  options.seed = 5;
  ServerHandle server(zbtest_server_start(&options));
  ASSERT_NE(server, nullptr);
  EXPECT_FALSE(zbtest_server_set_fault_plan(server.get(), "*", R"({"nonsense":1})"));
  ASSERT_TRUE(zbtest_server_set_fault_plan(
      server.get(), kTable, R"({"refuse_streams":1,"refuse_status":"RESOURCE_EXHAUSTED"})"));
  {
    RawStream stream(PortOf(server.get()));
    stream.Write(zbtest::CreateJson(kTable));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  zbtest_server_stall(server.get(), true);
  RawStream stream(PortOf(server.get()));
  ASSERT_TRUE(stream.Write(zbtest::CreateJson(kTable)));
  ASSERT_TRUE(zbtest_server_wait_streams_open(server.get(), 1, 5000));
  zbtest_server_stall(server.get(), false);
  EXPECT_TRUE(stream.Read().has_value());
}

}  // namespace
