// Records turned into rows, without the network: every type of the mapping from proto and from
// JSON, and the reasons a record is refused.
#include <string>

#include <gtest/gtest.h>

#include "server/descriptor_check.h"
#include "server/record_decoder.h"
#include "table/ddl_parser.h"
#include "table/value_checks.h"
#include "zbtest_dynamic.h"

namespace {

using zerobus::server::CheckedDescriptor;
using zerobus::server::Row;
using zerobus::server::SqlValue;
using zerobus::table::TableSchema;

constexpr char kDdl[] =
    "main.default.all_types (id BIGINT NOT NULL, s STRING, vc VARCHAR(3), b BOOLEAN, "
    "t TINYINT, sm SMALLINT, i INT, f FLOAT, d DOUBLE, dec DECIMAL(5,2), day DATE, "
    "ts TIMESTAMP, ntz TIMESTAMP_NTZ, raw BINARY, v VARIANT, tags ARRAY<STRING>, "
    "attrs MAP<STRING,BIGINT>, loc STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE>, "
    "pts ARRAY<STRUCT<x: INT>>)";

// The descriptor the official generator would write for kDdl.
constexpr char kDescriptor[] = R"pb(
  name: "AllTypes"
  field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
  field { name: "s" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "vc" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "b" number: 4 label: LABEL_OPTIONAL type: TYPE_BOOL }
  field { name: "t" number: 5 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "sm" number: 6 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "i" number: 7 label: LABEL_OPTIONAL type: TYPE_SINT32 }
  field { name: "f" number: 8 label: LABEL_OPTIONAL type: TYPE_FLOAT }
  field { name: "d" number: 9 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
  field { name: "dec" number: 10 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "day" number: 11 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "ts" number: 12 label: LABEL_OPTIONAL type: TYPE_INT64 }
  field { name: "ntz" number: 13 label: LABEL_OPTIONAL type: TYPE_INT64 }
  field { name: "raw" number: 14 label: LABEL_OPTIONAL type: TYPE_BYTES }
  field { name: "v" number: 15 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "tags" number: 16 label: LABEL_REPEATED type: TYPE_STRING }
  field {
    name: "attrs"
    number: 17
    label: LABEL_REPEATED
    type: TYPE_MESSAGE
    type_name: "AttrsEntry"
  }
  field { name: "loc" number: 18 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "Loc" }
  field { name: "pts" number: 19 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "Pt" }
  nested_type {
    name: "AttrsEntry"
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 }
    options { map_entry: true }
  }
  nested_type {
    name: "Loc"
    field { name: "lat" number: 1 label: LABEL_REQUIRED type: TYPE_DOUBLE }
    field { name: "lon" number: 2 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
  }
  nested_type {
    name: "Pt"
    field { name: "x" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
  }
)pb";

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(zerobus::table::ParseTableDdl(kDdl, &table_, &error)) << error;
  }

  std::unique_ptr<zerobus::server::RecordDecoder> Proto(const zbtest::DynamicSchema &schema) {
    CheckedDescriptor checked;
    const grpc::Status status = CheckDescriptor(schema.descriptor(), &table_, &checked);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return zerobus::server::NewProtoDecoder(table_, std::move(checked));
  }

  // The error decoding `json` gives, "" when it decodes.
  std::string JsonError(const std::string &json) {
    Row row;
    return zerobus::server::NewJsonDecoder(table_)->Decode(json, &row);
  }

  TableSchema table_;
};

void ExpectInteger(const SqlValue &value, int64_t expected) {
  EXPECT_EQ(value.kind, SqlValue::Kind::kInteger);
  EXPECT_EQ(value.integer, expected);
}

void ExpectText(const SqlValue &value, const std::string &expected) {
  EXPECT_EQ(value.kind, SqlValue::Kind::kText);
  EXPECT_EQ(value.bytes, expected);
}

TEST_F(DecoderTest, ProtoRecordsOfEveryTypeBecomeRows) {
  zbtest::DynamicSchema schema(kDescriptor);
  auto decoder = Proto(schema);
  Row row;
  const std::string record = schema.Record(R"pb(
    id: 9007199254740993
    s: "héllo"
    vc: "abc"
    b: true
    t: -128
    sm: 32767
    i: -5
    f: 1.5
    d: 2.25
    dec: "-123.45"
    day: 19000
    ts: 1700000000000000
    ntz: 5
    raw: "\x00\x01\xff"
    v: "{\"a\":[1,2]}"
    tags: "x"
    tags: "y"
    attrs { key: "k" value: 7 }
    loc { lat: 1.5 }
    pts { x: 1 }
    pts {}
  )pb");
  ASSERT_EQ(decoder->Decode(record, &row), "");
  ASSERT_EQ(row.size(), 19u);
  ExpectInteger(row[0], 9007199254740993);
  ExpectText(row[1], "héllo");
  ExpectText(row[2], "abc");
  ExpectInteger(row[3], 1);
  ExpectInteger(row[4], -128);
  ExpectInteger(row[5], 32767);
  ExpectInteger(row[6], -5);
  EXPECT_EQ(row[7].real, 1.5);
  EXPECT_EQ(row[8].real, 2.25);
  ExpectText(row[9], "-123.45");
  ExpectInteger(row[10], 19000);
  ExpectInteger(row[11], 1700000000000000);
  ExpectInteger(row[12], 5);
  EXPECT_EQ(row[13].kind, SqlValue::Kind::kBlob);
  EXPECT_EQ(row[13].bytes, std::string("\x00\x01\xff", 3));
  ExpectText(row[14], "{\"a\":[1,2]}");
  ExpectText(row[15], R"(["x","y"])");
  ExpectText(row[16], R"({"k":7})");
  ExpectText(row[17], R"({"lat":1.5,"lon":null})");
  ExpectText(row[18], R"([{"x":1},{"x":null}])");
}

TEST_F(DecoderTest, ProtoRecordsAreRefusedNamingTheColumn) {
  zbtest::DynamicSchema schema(kDescriptor);
  auto decoder = Proto(schema);
  Row row;
  auto error = [&](const std::string &text) { return decoder->Decode(schema.Record(text), &row); };
  EXPECT_EQ(error("s: \"no id\""), "column 'id': is NOT NULL but the record has no value");
  EXPECT_EQ(error("id: 1 loc { lon: 2 }"),
            "column 'loc.lat': is NOT NULL but the record has no value");
  EXPECT_EQ(error("id: 1 t: 128"), "column 't': 128 is out of range for tinyint");
  EXPECT_EQ(error("id: 1 sm: -32769"), "column 'sm': -32769 is out of range for smallint");
  EXPECT_EQ(error("id: 1 vc: \"abcd\""), "column 'vc': 4 characters do not fit varchar(3)");
  // Text format will not write bad UTF-8, so these are encoded by hand: id 1, then the field.
  EXPECT_EQ(decoder->Decode(std::string("\x08\x01\x12\x01\xff", 5), &row),
            "column 's': not valid UTF-8");
  EXPECT_EQ(error("id: 1 dec: \"1234.5\""), "column 'dec': '1234.5' does not fit decimal(5,2)");
  EXPECT_EQ(error("id: 1 dec: \"1.234\""), "column 'dec': '1.234' does not fit decimal(5,2)");
  EXPECT_EQ(error("id: 1 dec: \"abc\""), "column 'dec': 'abc' is not a decimal number");
  EXPECT_EQ(
      error("id: 1 v: \"{not json\"").rfind("column 'v': the VARIANT value is not valid JSON: ", 0),
      0u);
  EXPECT_EQ(decoder->Decode(std::string("\x08\x01\x82\x01\x01\xc3", 6), &row),
            "column 'tags[0]': not valid UTF-8");
  EXPECT_EQ(decoder->Decode("\xff\xff\xff", &row), "not a valid serialized AllTypes message");
  // Field 99 is not in the descriptor: a record of some other schema.
  EXPECT_EQ(decoder->Decode(schema.Record("id: 1") + std::string("\xa0\x06\x01", 3), &row),
            "record has field number 100, which the stream's descriptor does not define");
}

TEST_F(DecoderTest, JsonRecordsOfEveryTypeBecomeRows) {
  Row row;
  auto decoder = zerobus::server::NewJsonDecoder(table_);
  ASSERT_EQ(decoder->Decode(R"({"id":"9007199254740993","S":"x","vc":"abc","b":false,"t":-1,
      "sm":2,"i":3,"f":1.5,"d":-2,"dec":"0.5","day":1,"ts":1700000000000000,"ntz":2,
      "raw":"AAH/","v":"[1]","tags":["a"],"attrs":{"k":1},"loc":{"lat":1,"LON":2.5},
      "pts":[{"x":1}]})",
                            &row),
            "");
  ASSERT_EQ(row.size(), 19u);
  ExpectInteger(row[0], 9007199254740993);
  ExpectText(row[1], "x");
  ExpectInteger(row[3], 0);
  EXPECT_EQ(row[8].kind, SqlValue::Kind::kReal);
  EXPECT_EQ(row[8].real, -2);
  EXPECT_EQ(row[13].bytes, std::string("\x00\x01\xff", 3));
  ExpectText(row[17], R"({"lat":1.0,"lon":2.5})");  // a DOUBLE stays a double
  ExpectText(row[18], R"([{"x":1}])");

  ASSERT_EQ(decoder->Decode(R"({"id":1,"s":null})", &row), "");
  EXPECT_EQ(row[1].kind, SqlValue::Kind::kNull);
  EXPECT_EQ(row[15].kind, SqlValue::Kind::kNull);
}

TEST_F(DecoderTest, JsonRecordsAreRefusedNamingTheColumn) {
  EXPECT_EQ(JsonError("{"),
            "record is not valid JSON: parse error at line 1, column 2: syntax error while "
            "parsing object key - unexpected end of input; expected string literal");
  EXPECT_EQ(JsonError("[1]"), "record is not a JSON object");
  EXPECT_EQ(JsonError(R"({"id":1,"nope":2})"),
            "record has key 'nope', which is not a column of main.default.all_types");
  EXPECT_EQ(JsonError(R"({"s":"x"})"), "column 'id': is NOT NULL but the record has no value");
  EXPECT_EQ(JsonError(R"({"id":null})"), "column 'id': is NOT NULL but the record has no value");
  EXPECT_EQ(JsonError(R"({"id":1.5})"), "column 'id': expected an integer, got number 1.5");
  EXPECT_EQ(JsonError(R"({"id":"12x"})"), "column 'id': expected an integer, got string \"12x\"");
  EXPECT_EQ(JsonError(R"({"id":1,"i":"3"})"), "column 'i': expected an integer, got string \"3\"");
  EXPECT_EQ(JsonError(R"({"id":1,"t":300})"), "column 't': 300 is out of range for tinyint");
  EXPECT_EQ(JsonError(R"({"id":1,"s":5})"), "column 's': expected a string, got number 5");
  EXPECT_EQ(JsonError(R"({"id":1,"b":1})"), "column 'b': expected true or false, got number 1");
  EXPECT_EQ(JsonError(R"({"id":1,"d":"x"})"), "column 'd': expected a number, got string \"x\"");
  EXPECT_NE(JsonError(R"({"id":1,"ts":"2024-01-01T00:00:00Z"})")
                .find("column 'ts': TIMESTAMP values are integer microseconds"),
            std::string::npos);
  EXPECT_NE(JsonError(R"({"id":1,"day":"2024-01-01"})").find("column 'day': DATE values"),
            std::string::npos);
  EXPECT_NE(JsonError(R"({"id":1,"dec":1.5})").find("column 'dec': DECIMAL values are strings"),
            std::string::npos);
  EXPECT_EQ(JsonError(R"({"id":1,"dec":"123.456"})"),
            "column 'dec': '123.456' does not fit decimal(5,2)");
  EXPECT_NE(JsonError(R"({"id":1,"raw":"not base64!"})").find("column 'raw': BINARY values"),
            std::string::npos);
  EXPECT_NE(JsonError(R"({"id":1,"v":{"a":1}})").find("column 'v': VARIANT values"),
            std::string::npos);
  EXPECT_EQ(JsonError(R"({"id":1,"tags":"a"})"),
            "column 'tags': expected an array, got string \"a\"");
  EXPECT_EQ(JsonError(R"({"id":1,"tags":["a",null]})"),
            "column 'tags[1]': array elements cannot be null");
  EXPECT_EQ(JsonError(R"({"id":1,"attrs":{"k":"v"}})"),
            "column 'attrs[\"k\"]': expected an integer, got string \"v\"");
  EXPECT_EQ(JsonError(R"({"id":1,"loc":{"lon":1}})"),
            "column 'loc.lat': is NOT NULL but the record has no value");
  EXPECT_EQ(JsonError(R"({"id":1,"loc":{"lat":1,"alt":2}})"),
            "column 'loc': has key 'alt', which is not a field of the STRUCT");
  EXPECT_EQ(JsonError(R"({"id":1,"pts":[{"x":"1"}]})"),
            "column 'pts[0].x': expected an integer, got string \"1\"");
}

TEST_F(DecoderTest, DescriptorsAreCheckedAgainstTheTable) {
  auto error = [&](const std::string &text) {
    CheckedDescriptor checked;
    return CheckDescriptor(zbtest::DynamicSchema(text).descriptor(), &table_, &checked)
        .error_message();
  };
  const std::string id = R"(field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 })";
  EXPECT_EQ(error("name: \"R\" " + id), "") << "nullable columns may be left out";
  EXPECT_EQ(error(R"(name: "R" field { name: "ID" number: 1 label: LABEL_REQUIRED
                      type: TYPE_INT64 })"),
            "")
      << "column names compare case-insensitively";
  EXPECT_EQ(
      error(R"(name: "R" field { name: "s" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING })"),
      "descriptor leaves out NOT NULL column 'id'");
  EXPECT_EQ(
      error(R"(name: "R" field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 })"),
      "descriptor field 'id' must be required: column 'id' is NOT NULL");
  EXPECT_EQ(error("name: \"R\" " + id +
                  R"(field { name: "extra" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING })"),
            "descriptor field 'extra' is not a column of the table");
  EXPECT_EQ(
      error(R"(name: "R" field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_STRING })"),
      "descriptor field 'id' is string but column 'id' is bigint, which needs int64");
  EXPECT_EQ(error("name: \"R\" " + id +
                  R"(field { name: "tags" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING })"),
            "descriptor field 'tags' is string but column 'tags' is array<string>, which needs a "
            "repeated field");
  EXPECT_EQ(error("name: \"R\" " + id + R"(
      field { name: "loc" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "L" }
      nested_type { name: "L" field { name: "lat" number: 1 label: LABEL_OPTIONAL
                                      type: TYPE_DOUBLE } })"),
            "descriptor field 'loc.lat' must be required: column 'loc.lat' is NOT NULL");
  EXPECT_EQ(error("name: \"R\" " + id + R"(
      field { name: "attrs" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "E" }
      nested_type { name: "E" field { name: "key" number: 1 label: LABEL_OPTIONAL
                                      type: TYPE_STRING }
                              field { name: "value" number: 2 label: LABEL_OPTIONAL
                                      type: TYPE_STRING } })"),
            "descriptor field 'attrs.value' is string but column 'attrs.value' is bigint, which "
            "needs int64");

  std::string wide = "name: \"W\"";
  for (int i = 1; i <= 2001; ++i) {
    wide += " field { name: \"c" + std::to_string(i) + "\" number: " + std::to_string(i) +
            " label: LABEL_OPTIONAL type: TYPE_INT32 }";
  }
  EXPECT_EQ(error(wide), "descriptor has 2001 fields; at most 2000 columns are allowed");

  CheckedDescriptor checked;
  EXPECT_EQ(CheckDescriptor("\xff\xff", &table_, &checked).error_message(),
            "descriptor_proto is not a serialized google.protobuf.DescriptorProto");
}

TEST(ValueChecks, Base64RoundTripsAndRefusesJunk) {
  std::string bytes;
  for (const std::string text : {"", "a", "ab", "abc", "abcd"}) {
    ASSERT_TRUE(zerobus::table::DecodeBase64(zerobus::table::EncodeBase64(text), &bytes));
    EXPECT_EQ(bytes, text);
  }
  EXPECT_FALSE(zerobus::table::DecodeBase64("abc", &bytes));
  EXPECT_FALSE(zerobus::table::DecodeBase64("a!c=", &bytes));
}

}  // namespace
