// Avro without the network: the binary encoding's values, the writer schema a table takes,
// writer schemas checked against a table, and datums of every type read into the same rows
// the proto and JSON decoders make (server_decoder_test's table and values).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/record_decoder.h"
#include "table/avro_binary.h"
#include "table/avro_datum.h"
#include "table/avro_encoder.h"
#include "table/avro_schema.h"
#include "table/ddl_parser.h"

namespace {

using zerobus::server::Row;
using zerobus::server::SqlValue;
using zerobus::table::AvroDatumWalker;
using zerobus::table::AvroPlan;
using zerobus::table::AvroReader;
using zerobus::table::PutAvroBytes;
using zerobus::table::PutAvroDouble;
using zerobus::table::PutAvroFloat;
using zerobus::table::PutAvroLong;
using zerobus::table::TableSchema;

constexpr char kDdl[] =
    "main.default.all_types (id BIGINT NOT NULL, s STRING, vc VARCHAR(3), b BOOLEAN, "
    "t TINYINT, sm SMALLINT, i INT, f FLOAT, d DOUBLE, dec DECIMAL(5,2), day DATE, "
    "ts TIMESTAMP, ntz TIMESTAMP_NTZ, raw BINARY, v VARIANT, tags ARRAY<STRING>, "
    "attrs MAP<STRING,BIGINT>, loc STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE>, "
    "pts ARRAY<STRUCT<x: INT>>)";

TableSchema Table(const char *ddl) {
  TableSchema table;
  std::string error;
  EXPECT_TRUE(zerobus::table::ParseTableDdl(ddl, &table, &error)) << error;
  return table;
}

std::string Long(int64_t value) {
  std::string out;
  PutAvroLong(value, &out);
  return out;
}

std::string Text(std::string_view text) {
  std::string out;
  PutAvroBytes(text, &out);
  return out;
}

std::string Present() {
  return Long(1);
}  // the branch of ["null", T] that holds T
std::string Absent() {
  return Long(0);
}

TEST(AvroBinary, LongsRoundTripAtEveryWidth) {
  for (int64_t value : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{63}, int64_t{-64}, int64_t{64},
                        int64_t{1} << 40, std::numeric_limits<int64_t>::max(),
                        std::numeric_limits<int64_t>::min()}) {
    const std::string bytes = Long(value);
    AvroReader reader(bytes);
    int64_t read = 0;
    ASSERT_TRUE(reader.ReadLong(&read)) << value;
    EXPECT_EQ(read, value);
    EXPECT_TRUE(reader.done());
  }
  EXPECT_EQ(Long(-1), "\x01");  // zig-zag, as the specification's table has it
  EXPECT_EQ(Long(64), "\x80\x01");
}

TEST(AvroBinary, MalformedValuesAreRefused) {
  // Each reader views bytes that outlive it.
  int64_t value = 0;
  AvroReader truncated("\x80");
  EXPECT_FALSE(truncated.ReadLong(&value));
  AvroReader eleven("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f");  // a tenth byte past bit 64
  EXPECT_FALSE(eleven.ReadLong(&value));
  std::string_view bytes;
  const std::string negative_length = Long(-2) + "ab";
  AvroReader negative(negative_length);
  EXPECT_FALSE(negative.ReadBytes(&bytes));
  const std::string past_the_end = Long(5) + "ab";
  AvroReader longer(past_the_end);
  EXPECT_FALSE(longer.ReadBytes(&bytes));
  const std::string many = Long(1000) + "abc";
  AvroReader huge_count(many);
  EXPECT_FALSE(huge_count.ReadBlockCount(&value));
  const std::string sized = Long(-2) + Long(3) + "abc";
  AvroReader sized_block(sized);
  ASSERT_TRUE(sized_block.ReadBlockCount(&value));
  EXPECT_EQ(value, 2);
  const std::string lying = Long(-2) + Long(100) + "abc";
  AvroReader lying_size(lying);
  EXPECT_FALSE(lying_size.ReadBlockCount(&value));
  bool flag = false;
  const std::string two_byte("\x02", 1);
  AvroReader two(two_byte);
  EXPECT_FALSE(two.ReadBoolean(&flag));
  int32_t narrow = 0;
  const std::string wide_long = Long(int64_t{1} << 33);
  AvroReader wide(wide_long);
  EXPECT_FALSE(wide.ReadInt(&narrow));
}

TEST(AvroBinary, DecimalsRoundTripThroughTheirUnscaledBytes) {
  struct Case {
    const char *text;
    int scale;
    std::string bytes;
    const char *back;
  };
  for (const Case &c : {Case{"-123.45", 2, std::string("\xcf\xc7", 2), "-123.45"},
                        Case{"0.5", 2, std::string("\x32", 1), "0.50"},
                        Case{"127", 0, std::string("\x7f", 1), "127"},
                        Case{"128", 0, std::string("\x00\x80", 2), "128"},
                        Case{"-128", 0, std::string("\x80", 1), "-128"},
                        Case{"-0.01", 2, std::string("\xff", 1), "-0.01"}}) {
    std::string bytes, text;
    ASSERT_TRUE(zerobus::table::DecimalToAvro(c.text, c.scale, &bytes)) << c.text;
    EXPECT_EQ(bytes, c.bytes) << c.text;
    ASSERT_TRUE(zerobus::table::DecimalFromAvro(bytes, c.scale, &text));
    EXPECT_EQ(text, c.back);
  }
  std::string bytes, text;
  EXPECT_FALSE(zerobus::table::DecimalToAvro("1.234", 2, &bytes));  // more digits than scale
  EXPECT_FALSE(zerobus::table::DecimalToAvro("1e5", 0, &bytes));
  EXPECT_FALSE(zerobus::table::DecimalToAvro(std::string(39, '9'), 0, &bytes));
  ASSERT_TRUE(zerobus::table::DecimalToAvro(std::string(38, '9'), 0, &bytes));
  EXPECT_EQ(bytes.size(), 16u);
  EXPECT_FALSE(zerobus::table::DecimalFromAvro(std::string(17, '\x01'), 0, &text));
  EXPECT_FALSE(zerobus::table::DecimalFromAvro("", 0, &text));
}

// How many datums of `schema` `bytes` holds end to end, or -1 when one does not walk.
int DatumsIn(const std::string &schema, const std::string &bytes) {
  AvroDatumWalker walker;
  std::string error;
  EXPECT_TRUE(walker.Parse(schema, &error)) << error;
  AvroReader reader(bytes);
  int count = 0;
  while (!reader.done()) {
    if (!walker.Skip(&reader)) return -1;
    ++count;
  }
  return count;
}

TEST(AvroDatumWalker, WalksNamedRecursiveAndNamespacedTypes) {
  // A linked list of records in a namespace, its next a union referring to itself, an enum
  // referred to by its full name and a fixed by its short one.
  const std::string schema = R"({"type": "record", "name": "Node", "namespace": "a.b", "fields": [
      {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["X", "Y"]}},
      {"name": "id", "type": {"type": "fixed", "name": "Id", "size": 2}},
      {"name": "kinds", "type": {"type": "array", "items": "a.b.Kind"}},
      {"name": "ids", "type": {"type": "map", "values": "Id"}},
      {"name": "next", "type": ["null", "Node"]}]})";
  std::string datum;
  // kind Y, id "ab", kinds [X], ids {"k": "cd"}, next: a node (kind X, id "ef", [], {}, null).
  PutAvroLong(1, &datum);
  datum += "ab";
  PutAvroLong(1, &datum);
  PutAvroLong(0, &datum);
  PutAvroLong(0, &datum);
  PutAvroLong(1, &datum);
  PutAvroBytes("k", &datum);
  datum += "cd";
  PutAvroLong(0, &datum);
  PutAvroLong(1, &datum);  // next: the union's Node branch
  PutAvroLong(0, &datum);
  datum += "ef";
  PutAvroLong(0, &datum);
  PutAvroLong(0, &datum);
  PutAvroLong(0, &datum);  // next: null
  EXPECT_EQ(DatumsIn(schema, datum + datum), 2);
  EXPECT_EQ(DatumsIn(schema, datum.substr(0, datum.size() - 1)), -1);
  std::string bad_enum = datum;
  bad_enum[0] = 4;  // index 2 of 2 symbols
  EXPECT_EQ(DatumsIn(schema, bad_enum), -1);
}

TEST(AvroDatumWalker, BlocksOfItemsThatTakeNoBytesAreNotLoopedOver) {
  // Block counts as large as the bytes left allow, of nulls, block after block: walked item by
  // item, 100,000 such blocks would take about 10^10 steps (ctest's timeout fails it).
  std::vector<std::string> counts;  // the last block's count first
  std::string end;
  PutAvroLong(0, &end);
  size_t left = end.size();
  for (int i = 0; i < 100000; ++i) {
    std::string count;
    PutAvroLong(static_cast<int64_t>(left), &count);
    left += count.size();
    counts.push_back(std::move(count));
  }
  std::string datum;
  for (auto count = counts.rbegin(); count != counts.rend(); ++count) datum += *count;
  datum += end;
  EXPECT_EQ(DatumsIn(R"({"type": "array", "items": "null"})", datum), 1);
}

TEST(AvroDatumWalker, RefusesSchemasItCannotWalkAndDatumsNestedTooDeeply) {
  AvroDatumWalker walker;
  std::string error;
  EXPECT_FALSE(walker.Parse(R"({"type": "record", "name": "R", "fields": [
      {"name": "x", "type": "Undefined"}]})",
                            &error));
  EXPECT_EQ(error, "the type \"Undefined\" is not defined");
  EXPECT_FALSE(walker.Parse("[]", &error));
  EXPECT_FALSE(walker.Parse("{", &error));
  // Unions nested one in another past the depth the walk allows.
  const std::string nested = R"({"type": "record", "name": "R", "fields": [
      {"name": "r", "type": ["null", "R"]}]})";
  std::string deep;
  for (int i = 0; i < AvroDatumWalker::kMaxDepth; ++i) PutAvroLong(1, &deep);
  PutAvroLong(0, &deep);
  EXPECT_EQ(DatumsIn(nested, deep), -1);
  // Each level is a record and a union: a quarter of the depth in levels walks.
  EXPECT_EQ(DatumsIn(nested, deep.substr(AvroDatumWalker::kMaxDepth * 3 / 4)), 1);
}

TEST(AvroSchema, ATableGivesTheWriterSchemaOfTheMapping) {
  std::string schema, error;
  ASSERT_TRUE(zerobus::table::AvroSchemaFor(
      Table("main.default.events (id BIGINT NOT NULL, amount DECIMAL(10,2), day DATE, "
            "at TIMESTAMP, local TIMESTAMP_NTZ, tags ARRAY<STRING>, m MAP<STRING, INT>, "
            "loc STRUCT<lat: DOUBLE NOT NULL>)"),
      &schema, &error))
      << error;
  EXPECT_EQ(schema,
            R"({"type":"record","name":"events","fields":[)"
            R"({"name":"id","type":"long"},)"
            R"({"name":"amount","type":["null",{"type":"bytes","logicalType":"decimal",)"
            R"("precision":10,"scale":2}],"default":null},)"
            R"({"name":"day","type":["null",{"type":"int","logicalType":"date"}],"default":null},)"
            R"({"name":"at","type":["null",{"type":"long","logicalType":"timestamp-micros"}],)"
            R"("default":null},)"
            R"({"name":"local","type":["null",{"type":"long",)"
            R"("logicalType":"local-timestamp-micros"}],"default":null},)"
            R"({"name":"tags","type":["null",{"type":"array","items":"string"}],"default":null},)"
            R"({"name":"m","type":["null",{"type":"map","values":"int"}],"default":null},)"
            R"({"name":"loc","type":["null",{"type":"record","name":"events_loc","fields":[)"
            R"({"name":"lat","type":"double"}]}],"default":null}]})");
  EXPECT_FALSE(
      zerobus::table::AvroSchemaFor(Table("main.default.t (m MAP<INT, STRING>)"), &schema, &error));
  EXPECT_EQ(error, "column 'm': map<int,string> has no Avro form: Avro's map keys are strings");
}

class AvroDecoderTest : public ::testing::Test {
 protected:
  AvroDecoderTest() : table_(Table(kDdl)) {}

  std::string ResolveError(const std::string &writer) {
    AvroPlan plan;
    std::string error;
    EXPECT_FALSE(zerobus::table::ResolveAvroSchema(table_, writer, &plan, &error)) << writer;
    return error;
  }

  std::unique_ptr<zerobus::server::RecordDecoder> Decoder(const std::string &writer) {
    AvroPlan plan;
    std::string error;
    EXPECT_TRUE(zerobus::table::ResolveAvroSchema(table_, writer, &plan, &error)) << error;
    return zerobus::server::NewAvroDecoder(table_, std::move(plan));
  }

  std::string TableSchemaText() {
    std::string schema, error;
    EXPECT_TRUE(zerobus::table::AvroSchemaFor(table_, &schema, &error)) << error;
    return schema;
  }

  TableSchema table_;
};

// The values of server_decoder_test's ProtoRecordsOfEveryTypeBecomeRows, as one datum of the
// table's own writer schema.
std::string EveryTypeDatum() {
  std::string datum = Long(9007199254740993);
  datum += Present() + Text("héllo");
  datum += Present() + Text("abc");
  datum += Present() + "\x01";
  datum += Present() + Long(-128);
  datum += Present() + Long(32767);
  datum += Present() + Long(-5);
  datum += Present();
  PutAvroFloat(1.5f, &datum);
  datum += Present();
  PutAvroDouble(2.25, &datum);
  std::string decimal;
  EXPECT_TRUE(zerobus::table::DecimalToAvro("-123.45", 2, &decimal));
  datum += Present() + Text(decimal);
  datum += Present() + Long(19000);
  datum += Present() + Long(1700000000000000);
  datum += Present() + Long(5);
  datum += Present() + Text(std::string("\x00\x01\xff", 3));
  datum += Present() + Text("{\"a\":[1,2]}");
  datum += Present() + Long(2) + Text("x") + Text("y") + Long(0);
  datum += Present() + Long(1) + Text("k") + Long(7) + Long(0);
  std::string loc;
  PutAvroDouble(1.5, &loc);
  datum += Present() + loc + Absent();
  datum += Present() + Long(-2) + Long(3) + Present() + Long(1) + Absent() + Long(0);
  return datum;
}

TEST_F(AvroDecoderTest, DatumsOfEveryTypeBecomeTheRowsProtoAndJsonMake) {
  auto decoder = Decoder(TableSchemaText());
  Row row;
  ASSERT_EQ(decoder->Decode(EveryTypeDatum(), &row), "");
  ASSERT_EQ(row.size(), 19u);
  EXPECT_EQ(row[0].integer, 9007199254740993);
  EXPECT_EQ(row[1].bytes, "héllo");
  EXPECT_EQ(row[2].bytes, "abc");
  EXPECT_EQ(row[3].integer, 1);
  EXPECT_EQ(row[4].integer, -128);
  EXPECT_EQ(row[5].integer, 32767);
  EXPECT_EQ(row[6].integer, -5);
  EXPECT_EQ(row[7].real, 1.5);
  EXPECT_EQ(row[8].real, 2.25);
  EXPECT_EQ(row[9].kind, SqlValue::Kind::kText);
  EXPECT_EQ(row[9].bytes, "-123.45");
  EXPECT_EQ(row[10].integer, 19000);
  EXPECT_EQ(row[11].integer, 1700000000000000);
  EXPECT_EQ(row[12].integer, 5);
  EXPECT_EQ(row[13].kind, SqlValue::Kind::kBlob);
  EXPECT_EQ(row[13].bytes, std::string("\x00\x01\xff", 3));
  EXPECT_EQ(row[14].bytes, "{\"a\":[1,2]}");
  EXPECT_EQ(row[15].bytes, R"(["x","y"])");
  EXPECT_EQ(row[16].bytes, R"({"k":7})");
  EXPECT_EQ(row[17].bytes, R"({"lat":1.5,"lon":null})");
  EXPECT_EQ(row[18].bytes, R"([{"x":1},{"x":null}])");

  // Every nullable column null.
  ASSERT_EQ(decoder->Decode(Long(1) + std::string(18, '\0'), &row), "");
  for (size_t i = 1; i < row.size(); ++i) EXPECT_EQ(row[i].kind, SqlValue::Kind::kNull) << i;
}

TEST_F(AvroDecoderTest, AWriterSchemaMayDifferWhereReadingIsUnambiguous) {
  // Fields in another order, nullable columns left out, null second in a union, int for
  // BIGINT, float for DOUBLE, millis, fixed decimals, an enum for a STRING, named types
  // referenced with and without their namespace.
  auto decoder = Decoder(R"({"type": "record", "name": "e", "namespace": "a.b", "fields": [
      {"name": "ts", "type": [{"type": "long", "logicalType": "timestamp-millis"}, "null"]},
      {"name": "ID", "type": "int"},
      {"name": "d", "type": "float"},
      {"name": "dec", "type": {"type": "fixed", "name": "Money", "size": 3,
                               "logicalType": "decimal", "precision": 5, "scale": 2}},
      {"name": "s", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
      {"name": "loc", "type": {"type": "record", "name": "P", "fields": [
          {"name": "lat", "type": "double"}]}},
      {"name": "pts", "type": {"type": "array", "items": {"type": "record", "name": "Q",
          "fields": [{"name": "x", "type": "int"}]}}},
      {"name": "raw", "type": {"type": "fixed", "name": "Raw", "size": 3}},
      {"name": "vc", "type": ["null", "a.b.Kind"]}]})");
  std::string datum = Long(0) + Long(1700000000000) + Long(7);  // null is branch 1 here
  PutAvroFloat(0.5f, &datum);
  datum += std::string("\xff\xcf\xc7", 3) + Long(1);
  PutAvroDouble(2, &datum);
  datum += Long(1) + Long(3) + Long(0) + std::string("xyz") + Present() + Long(0);
  Row row;
  ASSERT_EQ(decoder->Decode(datum, &row), "");
  EXPECT_EQ(row[0].integer, 7);
  EXPECT_EQ(row[8].real, 0.5);
  EXPECT_EQ(row[9].bytes, "-123.45");
  EXPECT_EQ(row[11].integer, 1700000000000000);
  EXPECT_EQ(row[1].bytes, "B");
  EXPECT_EQ(row[17].bytes, R"({"lat":2.0,"lon":null})");
  EXPECT_EQ(row[18].bytes, R"([{"x":3}])");
  EXPECT_EQ(row[13].bytes, "xyz");
  EXPECT_EQ(row[2].bytes, "A");                   // the enum named by its full name
  EXPECT_EQ(row[3].kind, SqlValue::Kind::kNull);  // not in the writer schema
}

TEST_F(AvroDecoderTest, WriterSchemasThatDoNotFitAreRefusedNamingTheColumn) {
  EXPECT_EQ(ResolveError(R"("string")"), "the Avro writer schema must be a record, not string");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": []})"),
            "the Avro writer schema: a record needs an array of one field or more");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "s", "type": "string"}]})"),
            "column 'id': is NOT NULL but the writer schema has no field for it");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "nope", "type": "int"}]})"),
            "the Avro writer schema: the writer's field 'nope' is not a column of "
            "main.default.all_types");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "string"}]})"),
            "column 'id': the writer's type is string, the column is bigint");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "i", "type": "long"}]})"),
            "column 'i': the writer's type is long, the column is int");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "s", "type": ["null", "int", "string"]}]})"),
            "column 's': the writer's type is a union of 3 types; only a union of null and one "
            "type can be read");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "dec", "type": {"type": "bytes",
                 "logicalType": "decimal", "precision": 5, "scale": 3}}]})"),
            "column 'dec': the writer's decimal scale is 3, the column's is 2");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "loc", "type": "Nowhere"}]})"),
            "the Avro writer schema: the type Nowhere is not defined");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "ID", "type": "long"}]})"),
            "column 'ID': the writer has two fields for it");
  EXPECT_EQ(ResolveError(R"({"type": "record", "name": "e", "fields": [
                {"name": "id", "type": "long"}, {"name": "loc", "type": {"type": "record",
                 "name": "P", "fields": [{"name": "alt", "type": "double"}]}}]})"),
            "column 'loc': the writer's field 'alt' is not a field of the STRUCT");
  EXPECT_EQ(ResolveError("{not json").rfind("the Avro writer schema is not valid JSON", 0), 0u);
}

TEST_F(AvroDecoderTest, BadDatumsAreRefusedNamingTheColumn) {
  auto decoder = Decoder(TableSchemaText());
  Row row;
  const std::string nulls(18, '\0');
  EXPECT_EQ(decoder->Decode("", &row),
            "column 'id': the record ends inside the value, or the value is malformed");
  EXPECT_EQ(decoder->Decode(Long(1) + nulls + "x", &row),
            "record has 1 bytes after the datum of the writer schema");
  EXPECT_EQ(decoder->Decode(Long(1) + Long(2) + nulls.substr(1), &row),
            "column 's': union branch 2 of a union of 2");
  EXPECT_EQ(
      decoder->Decode(Long(1) + nulls.substr(0, 3) + Present() + Long(128) + nulls.substr(4), &row),
      "column 't': 128 is out of range for tinyint");
  EXPECT_EQ(decoder->Decode(Long(1) + Absent() + Present() + Text("abcd") + nulls.substr(2), &row),
            "column 'vc': 4 characters do not fit varchar(3)");
  EXPECT_EQ(decoder->Decode(Long(1) + nulls.substr(0, 14) + Present() + Long(1000) + "xx", &row),
            "column 'tags': a block count that the record's bytes cannot hold");
  std::string decimal;
  ASSERT_TRUE(zerobus::table::DecimalToAvro("1234.5", 2, &decimal));
  EXPECT_EQ(decoder->Decode(
                Long(1) + nulls.substr(0, 8) + Present() + Text(decimal) + nulls.substr(9), &row),
            "column 'dec': '1234.50' does not fit decimal(5,2)");
  // A writer that lets a NOT NULL field be null: its datums must not be.
  auto lenient = Decoder(R"({"type": "record", "name": "e", "fields": [
      {"name": "id", "type": "long"}, {"name": "loc", "type": {"type": "record", "name": "P",
       "fields": [{"name": "lat", "type": ["null", "double"]}]}}]})");
  EXPECT_EQ(lenient->Decode(Long(1) + Absent(), &row),
            "column 'loc.lat': is NOT NULL but the record has null");
}

TEST_F(AvroDecoderTest, JsonRecordsEncodedToAvroReadBackAsTheRowsTheJsonDecoderMakes) {
  const zerobus::table::AvroJsonEncoder encoder(&table_);
  auto avro = Decoder(TableSchemaText());
  auto json = zerobus::server::NewJsonDecoder(table_);
  // Records in the forms both the client's encoders and serve's JSON decoder take.
  for (const char *record : {
           R"({"id":"9007199254740993","S":"x","vc":"abc","b":false,"t":-1,"sm":2,"i":3,
               "f":1.5,"d":-2,"dec":"0.5","day":19782,"ts":1795512600250000,
               "ntz":2,"raw":"AAH/","v":"{\"a\":[1]}","tags":["a",""],"attrs":{"k":1,"j":-2},
               "loc":{"lat":1,"LON":2.5},"pts":[{"x":1},{}]})",
           R"({"id":1,"s":null,"tags":[],"attrs":{}})",
           R"({"id":-1,"dec":"-999.99","f":0.25,"d":-1e300})",
       }) {
    std::string datum, error;
    ASSERT_TRUE(encoder.Encode(record, &datum, &error)) << error;
    Row from_avro, from_json;
    ASSERT_EQ(avro->Decode(datum, &from_avro), "") << record;
    ASSERT_EQ(json->Decode(record, &from_json), "") << record;
    ASSERT_EQ(from_avro.size(), from_json.size());
    for (size_t i = 0; i < from_avro.size(); ++i) {
      EXPECT_EQ(from_avro[i].kind, from_json[i].kind) << record << " column " << i;
      EXPECT_EQ(from_avro[i].integer, from_json[i].integer) << record << " column " << i;
      if (i == 9 && from_json[i].kind == SqlValue::Kind::kText) {
        // A decimal read from Avro is written at the column's scale: "0.50", not "0.5".
        EXPECT_EQ(std::stod(from_avro[i].bytes), std::stod(from_json[i].bytes)) << record;
      } else {
        EXPECT_EQ(from_avro[i].bytes, from_json[i].bytes) << record << " column " << i;
      }
      if (!std::isnan(from_json[i].real)) {
        EXPECT_EQ(from_avro[i].real, from_json[i].real) << record << " column " << i;
      }
    }
  }
  std::string datum = "kept", error;
  EXPECT_FALSE(encoder.Encode(R"({"id":1,"t":300})", &datum, &error));
  EXPECT_EQ(error, "column 't': 300 is out of range for tinyint");
  EXPECT_EQ(datum, "kept");
}

}  // namespace
