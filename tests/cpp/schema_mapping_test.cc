// The schema library: Unity Catalog table descriptions parsed, every Delta type and nesting
// shape mapped to a descriptor and .proto source (compared with golden files), the descriptor
// accepted by the local server, and JSON records encoded to protobuf stored exactly as the same
// records sent as JSON.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/uc_table_json.h"
#include "table/ddl_parser.h"
#include "table/json_encoder.h"
#include "table/proto_schema.h"
#include "table/table_info.h"
#include "zbtest_raw_stream.h"
#include "zbtest_server.h"
#include "zbtest_temp_dir.h"

namespace {

using zerobus::table::BuildDescriptor;
using zerobus::table::JsonEncoder;
using zerobus::table::ParseTableDdl;
using zerobus::table::ParseTableInfo;
using zerobus::table::ProtoSource;
using zerobus::table::TableSchema;
using zerobus::table::TypeText;

// Every Delta type, and every nesting shape the service can map.
constexpr char kEverything[] = R"(main.default.everything (
  s STRING NOT NULL, vc VARCHAR(10), c CHAR(3), b BOOLEAN, ti TINYINT, si SMALLINT, i INT,
  bi BIGINT NOT NULL, f FLOAT, d DOUBLE, dec DECIMAL(10,2), dt DATE, ts TIMESTAMP,
  tsn TIMESTAMP_NTZ, bin BINARY, v VARIANT,
  tags ARRAY<STRING>, points ARRAY<STRUCT<x: DOUBLE, y: DOUBLE NOT NULL>>,
  attrs MAP<STRING, BIGINT>, by_id MAP<INT, STRUCT<name: STRING, seen: TIMESTAMP>>,
  flags MAP<BOOLEAN, STRING>,
  geo STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE,
             place: STRUCT<city: STRING, codes: ARRAY<INT>, extra: MAP<STRING, STRING>>>
))";

std::string ReadFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The golden file `name`. With ZB_UPDATE_GOLDEN=1 in the environment, `actual` first replaces
// it (review the diff before committing it).
std::string Golden(const std::string &name, const std::string &actual) {
  const std::string path = std::string(ZB_GOLDEN_DIR) + "/" + name;
  if (const char *update = std::getenv("ZB_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
  }
  return ReadFile(path);
}

TableSchema FromDdl(const std::string &ddl) {
  TableSchema table;
  std::string error;
  EXPECT_TRUE(ParseTableDdl(ddl, &table, &error)) << error;
  return table;
}

// The table as the local server's Unity Catalog API describes it, parsed back.
TableSchema ThroughTableInfo(const TableSchema &declared) {
  const std::string info =
      zerobus::server::TableInfoJson(declared, "s3://bucket/table", 1700000000000).dump();
  TableSchema parsed;
  std::string error;
  EXPECT_TRUE(ParseTableInfo(info, &parsed, &error)) << error;
  return parsed;
}

std::string Descriptor(const TableSchema &table) {
  google::protobuf::DescriptorProto message;
  std::string error;
  EXPECT_TRUE(BuildDescriptor(table, &message, &error)) << error;
  return message.SerializeAsString();
}

TEST(Schema, TableInfoOfEveryTypeParsesBackToTheDeclaredTable) {
  const TableSchema declared = FromDdl(kEverything);
  const TableSchema parsed = ThroughTableInfo(declared);
  EXPECT_EQ(parsed.full_name, declared.full_name);
  ASSERT_EQ(parsed.columns.size(), declared.columns.size());
  for (size_t i = 0; i < declared.columns.size(); ++i) {
    EXPECT_EQ(parsed.columns[i].name, declared.columns[i].name);
    EXPECT_EQ(parsed.columns[i].nullable, declared.columns[i].nullable) << parsed.columns[i].name;
    EXPECT_EQ(TypeText(parsed.columns[i].type), TypeText(declared.columns[i].type));
  }
}

TEST(Schema, EveryTypeMapsToTheGoldenProto) {
  const TableSchema table = ThroughTableInfo(FromDdl(kEverything));
  google::protobuf::DescriptorProto message;
  std::string error;
  ASSERT_TRUE(BuildDescriptor(table, &message, &error)) << error;
  std::string source;
  ASSERT_TRUE(ProtoSource(message, &source, &error)) << error;
  EXPECT_EQ(source, Golden("everything.proto", source));
  EXPECT_EQ(message.DebugString(), Golden("everything.descriptor.txt", message.DebugString()));
}

// The shapes of TableInfo that Unity Catalog sends and that the server does not produce: the
// bare type without its StructField, VARCHAR kept in the field's metadata, type_text only,
// columns out of position order.
TEST(Schema, TableInfoVariantsParse) {
  const std::string info = R"json({
    "catalog_name": "main", "schema_name": "sales", "name": "orders",
    "data_source_format": "DELTA",
    "columns": [
      {"name": "note", "position": 2, "type_name": "STRING", "type_text": "varchar(20)",
       "type_json": "{\"name\":\"note\",\"type\":\"string\",\"nullable\":true,\"metadata\":{\"__CHAR_VARCHAR_TYPE_STRING\":\"varchar(20)\"}}"},
      {"name": "id", "position": 0, "nullable": false, "type_name": "LONG",
       "type_text": "bigint"},
      {"name": "lines", "position": 1, "type_name": "ARRAY",
       "type_json": "{\"type\":\"array\",\"elementType\":{\"type\":\"struct\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},{\"name\":\"qty\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}}]},\"containsNull\":true}"}
    ]})json";
  TableSchema table;
  std::string error;
  ASSERT_TRUE(ParseTableInfo(info, &table, &error)) << error;
  EXPECT_EQ(table.full_name, "main.sales.orders");
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_EQ(table.columns[0].name, "id");
  EXPECT_FALSE(table.columns[0].nullable);
  EXPECT_EQ(TypeText(table.columns[0].type), "bigint");
  EXPECT_EQ(TypeText(table.columns[1].type), "array<struct<sku:string,qty:int>>");
  EXPECT_FALSE(table.columns[1].type.children[0].fields[0].nullable);
  EXPECT_EQ(TypeText(table.columns[2].type), "varchar(20)");
}

TEST(Schema, TableInfoRefusalsSayWhy) {
  const struct {
    const char *info;
    const char *says;
  } cases[] = {
      {"[]", "not a JSON object"},
      {R"({"full_name":"a.b.c","data_source_format":"PARQUET","columns":[]})", "not a Delta table"},
      {R"({"columns":[{"name":"x","type_text":"int"}]})", "no full_name"},
      {R"({"full_name":"a.b","columns":[{"name":"x","type_text":"int"}]})",
       "not catalog.schema.table"},
      {R"({"full_name":"a.b.c-d","columns":[{"name":"x","type_text":"int"}]})",
       "not catalog.schema.table"},
      {R"({"full_name":"a.b.c","columns":[]})", "has no columns"},
      {R"({"full_name":"a.b.c","columns":[{"name":"1x","type_text":"int"}]})", "may only hold"},
      {R"({"full_name":"a.b.c","columns":[{"name":"x"}]})", "neither type_json nor type_text"},
      {R"({"full_name":"a.b.c","columns":[{"name":"x","type_text":"interval day"}]})",
       "column 'x': type 'interval day'"},
      {R"({"full_name":"a.b.c","columns":[{"name":"x","type_text":"int"},{"name":"X","type_text":"int"}]})",
       "'X' is defined twice"},
      {R"({"full_name":"a.b.c","columns":[{"name":"m","type_json":"{\"type\":\"map\",\"keyType\":\"double\",\"valueType\":\"string\"}"}]})",
       "column 'm': MAP keys must be"},
      {R"({"full_name":"a.b.c","columns":[{"name":"a","type_json":"{\"type\":\"array\",\"elementType\":{\"type\":\"array\",\"elementType\":\"int\"}}"}]})",
       "ARRAY of ARRAY or MAP"},
      {R"({"full_name":"a.b.c","columns":[{"name":"s","type_json":"{\"type\":\"struct\",\"fields\":[{\"name\":\"in\",\"type\":\"geography\"}]}"}]})",
       "column 's.in': type 'geography'"},
  };
  for (const auto &c : cases) {
    TableSchema table;
    std::string error;
    EXPECT_FALSE(ParseTableInfo(c.info, &table, &error)) << c.info;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.info << " gave: " << error;
  }
}

TEST(Schema, FieldNumbersSkipTheReservedRange) {
  EXPECT_EQ(zerobus::table::FieldNumber(0), 1);
  EXPECT_EQ(zerobus::table::FieldNumber(18998), 18999);
  EXPECT_EQ(zerobus::table::FieldNumber(18999), 20000);
}

// Records of every type, in the canonical JSON encoding that the server takes as JSON too.
// Every ARRAY and MAP column is given: protobuf's repeated fields have no presence, so an
// absent one arrives as empty where JSON would store NULL.
const std::vector<std::string> kRecords = {
    R"({"s":"first","bi":1,"vc":"short","c":"abc","b":true,"ti":-128,"si":32767,"i":-5,
        "f":1.5,"d":-2.25,"dec":"12.30","dt":19000,"ts":1700000000123456,"tsn":-1,
        "bin":"AAEC/w==","v":"{\"k\":[1,2]}","tags":["a","b"],
        "points":[{"x":1.0,"y":2.0},{"y":3.0}],"attrs":{"one":1,"two":2},
        "by_id":{"7":{"name":"seven","seen":5}},"flags":{"true":"yes","false":"no"},
        "geo":{"lat":52.5,"lon":13.4,"place":{"city":"Berlin","codes":[10115],
               "extra":{"k":"v"}}}})",
    R"({"s":"second","bi":"9007199254740993","geo":{"lat":0},"tags":[],"points":[],"attrs":{},
        "by_id":{},"flags":{}})",
    R"({"S":"third","BI":-9223372036854775808,"tags":[],"attrs":{},"points":[{"y":-0.5}],
        "by_id":{"-1":{}},"flags":{"false":""}})",
};

TEST(Schema, EncodedRecordsAreStoredAsTheSameRecordsSentAsJson) {
  zbtest::TempDir dir;
  const std::string ddl = std::string(kEverything) + ";\n" +
                          std::string(kEverything).replace(13, 10, "everything_json") + ";";
  zbtest_server_options options{};
  options.schema = ddl.c_str();
  options.data_dir = dir.path().c_str();
  options.reject_undeclared_tables = true;
  std::unique_ptr<zbtest_server, decltype(&zbtest_server_stop)> server(
      zbtest_server_start(&options), zbtest_server_stop);
  ASSERT_NE(server, nullptr);
  const int port = std::atoi(std::strrchr(zbtest_server_endpoint(server.get()), ':') + 1);

  const TableSchema table = ThroughTableInfo(FromDdl(kEverything));
  const JsonEncoder encoder(&table);
  std::vector<std::string> encoded;
  for (const std::string &record : kRecords) {
    std::string bytes, error;
    ASSERT_TRUE(encoder.Encode(record, &bytes, &error)) << error;
    encoded.push_back(bytes);
  }
  {
    zbtest::RawStream proto(port);
    ASSERT_FALSE(proto.Open(zbtest::CreateProto(table.full_name, Descriptor(table))).empty());
    ASSERT_TRUE(proto.Write(zbtest::ProtoBatch(0, encoded)));
    EXPECT_EQ(proto.ReadAck(), 0);
    proto.WritesDone();
    EXPECT_TRUE(proto.Finish().ok());
  }
  {
    zbtest::RawStream json(port);
    ASSERT_FALSE(json.Open(zbtest::CreateJson("main.default.everything_json")).empty());
    ASSERT_TRUE(json.Write(zbtest::JsonBatch(0, kRecords)));
    EXPECT_EQ(json.ReadAck(), 0);
    json.WritesDone();
    EXPECT_TRUE(json.Finish().ok());
  }
  ASSERT_EQ(zbtest_server_record_count(server.get(), "main.default.everything"), 3);
  ASSERT_EQ(zbtest_server_record_count(server.get(), "main.default.everything_json"), 3);
  for (int64_t i = 0; i < 3; ++i) {
    const uint8_t *proto_row, *json_row;
    size_t proto_len, json_len;
    ASSERT_TRUE(zbtest_server_record(server.get(), "main.default.everything", i, &proto_row,
                                     &proto_len, nullptr));
    ASSERT_TRUE(zbtest_server_record(server.get(), "main.default.everything_json", i, &json_row,
                                     &json_len, nullptr));
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(proto_row), proto_len),
              std::string(reinterpret_cast<const char *>(json_row), json_len))
        << "record " << i;
  }
}

// The forms beyond the canonical encoding encode to the same bytes as their canonical twins.
TEST(Schema, EncoderTakesTextForTimesAndNumbers) {
  const TableSchema table = FromDdl(
      "a.b.t (dt DATE, ts TIMESTAMP, tsn TIMESTAMP_NTZ, bi BIGINT, d DOUBLE, dec DECIMAL(5,2), "
      "v VARIANT)");
  const JsonEncoder encoder(&table);
  const struct {
    const char *text;
    const char *canonical;
  } pairs[] = {
      {R"({"dt":"2024-02-29"})", R"({"dt":19782})"},
      {R"({"dt":"1969-12-31"})", R"({"dt":-1})"},
      {R"({"ts":"2023-11-14T22:13:20.123456Z"})", R"({"ts":1700000000123456})"},
      {R"({"ts":"2023-11-14 23:13:20.5+01:00"})", R"({"ts":1700000000500000})"},
      {R"({"tsn":"2023-11-14T22:13:20"})", R"({"tsn":1700000000000000})"},
      {R"({"bi":"-42"})", R"({"bi":-42})"},
      {R"({"dec":12.5})", R"({"dec":"12.5"})"},
      {R"({"v":{"k":[1,true]}})", R"({"v":"{\"k\":[1,true]}"})"},
  };
  for (const auto &pair : pairs) {
    std::string a, b, error;
    ASSERT_TRUE(encoder.Encode(pair.text, &a, &error)) << pair.text << ": " << error;
    ASSERT_TRUE(encoder.Encode(pair.canonical, &b, &error)) << pair.canonical << ": " << error;
    EXPECT_EQ(a, b) << pair.text;
  }
  std::string nan, error;
  EXPECT_TRUE(encoder.Encode(R"({"d":"NaN"})", &nan, &error)) << error;
}

TEST(Schema, EncoderErrorsNameTheColumnAndLeaveTheOutputAlone) {
  const TableSchema table = FromDdl(kEverything);
  const JsonEncoder encoder(&table);
  const struct {
    const char *record;
    const char *says;
  } cases[] = {
      {"{", "not valid JSON"},
      {"[1]", "not a JSON object"},
      {R"({"bi":1})", "column 's': is NOT NULL"},
      {R"({"s":"x","bi":1,"nope":1})", "key 'nope', which is not a column"},
      {R"({"s":"x","bi":1.5})", "column 'bi': expected an integer"},
      {R"({"s":"x","bi":1,"ti":128})", "column 'ti': 128 is out of range for tinyint"},
      {R"({"s":"x","bi":1,"vc":"eleven char"})", "column 'vc':"},
      {R"({"s":"x","bi":1,"dec":"123456789.1"})", "column 'dec':"},
      {R"({"s":"x","bi":1,"ts":"2024-01-01T00:00:00"})", "column 'ts': '2024-01-01T00:00:00'"},
      {R"({"s":"x","bi":1,"tsn":"2024-01-01T00:00:00Z"})", "column 'tsn':"},
      {R"({"s":"x","bi":1,"dt":"01/02/2024"})", "column 'dt':"},
      {R"({"s":"x","bi":1,"bin":"***"})", "column 'bin': BINARY values are base64"},
      {R"({"s":"x","bi":1,"v":"{not json"})", "column 'v':"},
      {R"({"s":"x","bi":1,"tags":["a",null]})", "column 'tags[1]': array elements cannot"},
      {R"({"s":"x","bi":1,"by_id":{"x":{}}})", "column 'by_id[\"x\"]':"},
      {R"({"s":"x","bi":1,"flags":{"yes":"y"}})", "BOOLEAN map key"},
      {R"({"s":"x","bi":1,"attrs":{"k":null}})", "a map value cannot be null"},
      {R"({"s":"x","bi":1,"geo":{"lon":1}})", "column 'geo.lat': is NOT NULL"},
      {R"({"s":"x","bi":1,"geo":{"lat":1,"place":{"town":"x"}}})",
       "column 'geo.place': has key 'town'"},
      {R"({"s":"x","bi":1,"points":[{"x":1}]})", "column 'points[0].y': is NOT NULL"},
  };
  for (const auto &c : cases) {
    std::string out = "kept", error;
    EXPECT_FALSE(encoder.Encode(c.record, &out, &error)) << c.record;
    EXPECT_EQ(out, "kept");
    EXPECT_NE(error.find(c.says), std::string::npos) << c.record << " gave: " << error;
  }
}

}  // namespace
