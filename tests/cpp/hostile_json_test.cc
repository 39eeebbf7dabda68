// JSON built to hurt, read by the client's encoder and by the server alike (issue 17, points 1
// and 12): nesting far past any table's (it used to overflow the stack while an error message
// quoted the value), values past the service's ranges, a key given twice, a NUL with garbage
// after it. Each is refused with a short message naming the column, and a server that refused
// one over real gRPC keeps serving.
#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/record_decoder.h"
#include "server/server.h"
#include "table/ddl_parser.h"
#include "table/json_encoder.h"
#include "table/json_value.h"
#include "table/table_info.h"
#include "zbtest_raw_stream.h"

namespace {

using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using zerobus::table::JsonEncoder;
using zerobus::table::TableSchema;

constexpr char kDdl[] =
    "main.default.hostile (id BIGINT NOT NULL, name STRING, f FLOAT, ts TIMESTAMP, "
    "ntz TIMESTAMP_NTZ, day DATE, v VARIANT, attrs MAP<STRING, BIGINT>, "
    "loc STRUCT<lat: DOUBLE, lon: DOUBLE>)";

// No message about a record may grow with the record.
constexpr size_t kMessageBound = 400;

// `levels` arrays, one inside the other.
std::string DeepArray(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

// `levels` objects, one inside the other: {"a":{"a":...{}}}.
std::string DeepObject(size_t levels) {
  std::string text;
  for (size_t i = 0; i < levels; ++i) text += "{\"a\":";
  text += "{}";
  return text + std::string(levels, '}');
}

TableSchema Table() {
  TableSchema table;
  std::string error;
  EXPECT_TRUE(zerobus::table::ParseTableDdl(kDdl, &table, &error)) << error;
  return table;
}

// What the client's encoder and the server's decoder say of `record`: "" when they take it.
struct Verdicts {
  std::string client;
  std::string server;
};

Verdicts Judge(const std::string &record) {
  static const TableSchema table = Table();
  Verdicts verdicts;
  std::string bytes;
  if (JsonEncoder(&table).Encode(record, &bytes, &verdicts.client)) verdicts.client.clear();
  zerobus::server::Row row;
  verdicts.server = zerobus::server::NewJsonDecoder(table)->Decode(record, &row);
  return verdicts;
}

// Both refuse `record`, each saying `says` in a short message.
void ExpectBothRefuse(const std::string &record, const std::string &says) {
  const Verdicts verdicts = Judge(record);
  const std::string shown = record.substr(0, 80);
  for (const std::string &message : {verdicts.client, verdicts.server}) {
    EXPECT_NE(message.find(says), std::string::npos) << shown << " gave: " << message;
    EXPECT_LE(message.size(), kMessageBound) << shown;
  }
}

TEST(HostileJson, DeepNestingIsRefusedAtTheLimit) {
  const size_t deep = 100000;
  ExpectBothRefuse(R"({"id":1,"name":)" + DeepArray(deep) + "}", "deeper than 512 levels");
  ExpectBothRefuse(R"({"id":1,"v":)" + DeepObject(deep) + "}", "deeper than 512 levels");
  ExpectBothRefuse(DeepArray(deep), "deeper than 512 levels");
  // The limit and no lower: 512 levels in all parse, and meet the column's type instead.
  const std::string at_limit = R"({"id":1,"name":)" + DeepArray(511) + "}";
  ExpectBothRefuse(at_limit, "column 'name': expected a string, got array of 1 element");
  ExpectBothRefuse(R"({"id":1,"name":)" + DeepArray(512) + "}", "deeper than 512 levels");
}

TEST(HostileJson, WideAndLongValuesGiveShortMessages) {
  const std::string long_text(1 << 20, 'x');
  ExpectBothRefuse(R"({"id":1,")" + long_text + R"(":1})", "record has key 'xxxx");
  ExpectBothRefuse(R"({"id":1,"f":")" + long_text + R"("})", "column 'f': expected a number");
  ExpectBothRefuse(R"({"id":1,"attrs":{")" + long_text + R"(":"v"}})", "column 'attrs[\"xxx");
  ExpectBothRefuse(R"({"id":1,"name":")" + long_text, "is not valid JSON");
  std::string wide = R"({"id":1,"name":[)";
  for (int i = 0; i < 200000; ++i) wide += "1,";
  wide += "1]}";
  ExpectBothRefuse(wide, "column 'name': expected a string, got array of 200001 elements");
}

TEST(HostileJson, ValuesTheServiceWouldNotTakeAreRefusedNamingTheColumn) {
  // Keys given twice: nlohmann kept the last.
  ExpectBothRefuse(R"({"id":1,"name":"a","name":"b"})", "has the key 'name' twice");
  ExpectBothRefuse(R"({"id":1,"loc":{"lat":1,"lat":2}})", "has the key 'loc.lat' twice");
  // Delta names compare ignoring case: "NAME" and "name" are one column.
  ExpectBothRefuse(R"({"id":1,"NAME":"a","name":"b"})",
                   "column 'name': the record gives it twice, as 'NAME' and 'name'");
  ExpectBothRefuse(R"({"id":1,"loc":{"Lat":1,"lat":2}})",
                   "column 'loc.lat': the record gives it twice");
  // A NUL ended nlohmann's reading: what followed it was never looked at.
  ExpectBothRefuse(std::string(R"({"id":1})") + '\0' + R"({"id":"garbage")",
                   "record has a NUL byte at offset 8");
  // 1e39 became an infinite float through an undefined cast.
  ExpectBothRefuse(R"({"id":1,"f":1e39})", "column 'f': 1e+39 is out of range for FLOAT");
  ExpectBothRefuse(R"({"id":1,"f":-3.5e38})", "column 'f': -3.5e+38 is out of range for FLOAT");
  // Years past 9999 (99999-01-01T00:00:00Z here) and before 0001.
  ExpectBothRefuse(R"({"id":1,"ts":3093496444800000000})",
                   "column 'ts': 3093496444800000000 microseconds is out of range for timestamp");
  ExpectBothRefuse(R"({"id":1,"ntz":-62135596800000001})", "column 'ntz':");
  ExpectBothRefuse(R"({"id":1,"day":2932897})", "column 'day': 2932897 days is out of range");
  // The edges themselves are taken: FLT_MAX as printed, and the first and last microsecond.
  for (const char *record : {R"({"id":1,"f":3.4028235e38})", R"({"id":1,"f":-3.4028235e38})",
                             R"({"id":1,"ts":-62135596800000000,"ntz":253402300799999999})",
                             R"({"id":1,"day":-719162})", R"({"id":1,"day":2932896})"}) {
    const Verdicts verdicts = Judge(record);
    EXPECT_EQ(verdicts.client, "") << record;
    EXPECT_EQ(verdicts.server, "") << record;
  }
}

TEST(HostileJson, TheClientRefusesTimestampTextPastYear9999) {
  const TableSchema table = Table();
  std::string bytes;
  std::string error;
  EXPECT_FALSE(
      JsonEncoder(&table).Encode(R"({"id":1,"ts":"99999-01-01T00:00:00Z"})", &bytes, &error));
  EXPECT_NE(error.find("column 'ts':"), std::string::npos) << error;
  EXPECT_FALSE(JsonEncoder(&table).Encode(R"({"id":1,"day":"10000-01-01"})", &bytes, &error));
  EXPECT_NE(error.find("column 'day':"), std::string::npos) << error;
}

TEST(HostileJson, TableDescriptionsNestedDeepAreRefused) {
  TableSchema table;
  std::string error;
  const std::string outer =
      R"({"full_name":"a.b.c","columns":[{"name":"x","type_text":)" + DeepArray(100000) + "}]}";
  EXPECT_FALSE(zerobus::table::ParseTableInfo(outer, &table, &error));
  EXPECT_NE(error.find("deeper than 512 levels"), std::string::npos) << error;
  EXPECT_LE(error.size(), kMessageBound);

  // type_json is JSON inside a JSON string: nested deep inside, it meets the same limit. A bare
  // array there was quoted whole in "malformed type".
  const std::string arrays =
      R"({"full_name":"a.b.c","columns":[{"name":"x","type_json":")" + DeepArray(100000) + "\"}]}";
  EXPECT_FALSE(zerobus::table::ParseTableInfo(arrays, &table, &error));
  EXPECT_EQ(error, "column 'x': type_json nests arrays and objects deeper than 512 levels");
  std::string type_json;
  for (int i = 0; i < 100000; ++i) type_json += R"({\"type\":\"array\",\"elementType\":)";
  type_json += R"(\"int\")" + std::string(100000, '}');
  const std::string nested =
      R"({"full_name":"a.b.c","columns":[{"name":"x","type_json":")" + type_json + R"("}]})";
  EXPECT_FALSE(zerobus::table::ParseTableInfo(nested, &table, &error));
  EXPECT_NE(error.find("column 'x': type_json nests arrays and objects deeper than 512 levels"),
            std::string::npos)
      << error;
}

class HostileJsonServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.tables = {Table()};
    options.accept_undeclared_tables = false;
    options.admin_port = 0;
    std::string error;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  // The status that ends a JSON stream whose one record is `record`.
  grpc::Status Send(const std::string &record) {
    RawStream stream(server_->port());
    if (stream.Open(zbtest::CreateJson("main.default.hostile")).empty()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "create_stream was refused");
    }
    stream.Write(zbtest::JsonRecord(0, record));
    stream.WritesDone();
    return stream.Finish();
  }

  std::unique_ptr<Server> server_;
};

TEST_F(HostileJsonServer, ADeepRecordFailsItsStreamAndTheServerKeepsServing) {
  const grpc::Status deep = Send(R"({"id":1,"name":)" + DeepArray(100000) + "}");
  EXPECT_EQ(deep.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(deep.error_message(),
            "offset_id 0: record nests arrays and objects deeper than 512 levels");

  RawStream stream(server_->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson("main.default.hostile")), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":7,"loc":{"lat":1.5}})")));
  EXPECT_EQ(stream.ReadAck(), 0);
  stream.WritesDone();
  EXPECT_TRUE(stream.Finish().ok());
  EXPECT_EQ(server_->rows().Count("main.default.hostile"), 1);
}

TEST_F(HostileJsonServer, RecordsTheServiceWouldNotTakeFailTheirStreamNamingTheColumn) {
  const struct {
    std::string record;
    const char *message;
  } cases[] = {
      {R"({"id":1,"name":"a","name":"b"})", "offset_id 0: record has the key 'name' twice"},
      {R"({"id":1,"Name":"a","name":"b"})",
       "offset_id 0: column 'name': the record gives it twice, as 'Name' and 'name'"},
      {std::string(R"({"id":1})") + '\0' + "garbage",
       "offset_id 0: record has a NUL byte at offset 8, which JSON does not allow"},
      {R"({"id":1,"f":1e39})", "offset_id 0: column 'f': 1e+39 is out of range for FLOAT"},
      {R"({"id":1,"ts":3093496444800000000})",
       "offset_id 0: column 'ts': 3093496444800000000 microseconds is out of range for timestamp "
       "(0001-01-01 to 9999-12-31)"},
  };
  for (const auto &c : cases) {
    const grpc::Status status = Send(c.record);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_EQ(status.error_message(), c.message);
  }
  EXPECT_EQ(server_->rows().Count("main.default.hostile"), 0);
}

TEST_F(HostileJsonServer, TheAdminEndpointRefusesADeepFaultPlan) {
  httplib::Client admin("127.0.0.1", server_->admin_port());
  admin.set_read_timeout(10, 0);
  const auto deep =
      admin.Put("/admin/faults/*", R"({"stall":)" + DeepObject(100000) + "}", "application/json");
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->status, 400);
  EXPECT_NE(deep->body.find("the fault plan nests arrays and objects deeper than 512 levels"),
            std::string::npos)
      << deep->body;
  const auto shallow = admin.Put("/admin/faults/*", R"({"stall":[[1]]})", "application/json");
  ASSERT_TRUE(shallow);
  EXPECT_EQ(shallow->status, 400);
  EXPECT_NE(shallow->body.find("bad value for fault 'stall', got array of 1 element"),
            std::string::npos)
      << shallow->body;
  EXPECT_TRUE(admin.Get("/admin/faults"));
}

}  // namespace
