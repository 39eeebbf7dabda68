// Table definitions in Delta DDL: every type of the service's mapping, the name rules, the
// service's limits, and schema files.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "table/ddl_parser.h"

namespace {

using zerobus::table::DeltaKind;
using zerobus::table::ParseSchemaText;
using zerobus::table::ParseTableDdl;
using zerobus::table::TableSchema;
using zerobus::table::TypeName;
using zerobus::table::TypeText;

TableSchema Parse(const std::string &ddl) {
  TableSchema table;
  std::string error;
  EXPECT_TRUE(ParseTableDdl(ddl, &table, &error)) << ddl << ": " << error;
  return table;
}

std::string ErrorOf(const std::string &ddl) {
  TableSchema table;
  std::string error;
  EXPECT_FALSE(ParseTableDdl(ddl, &table, &error)) << ddl;
  return error;
}

TEST(Ddl, ParsesTheIssueExample) {
  const TableSchema table = Parse(
      "main.default.events (id BIGINT NOT NULL, device STRING, temp DOUBLE, ts TIMESTAMP, "
      "tags ARRAY<STRING>, attrs MAP<STRING,STRING>, loc STRUCT<lat: DOUBLE, lon: DOUBLE>)");
  EXPECT_EQ(table.full_name, "main.default.events");
  ASSERT_EQ(table.columns.size(), 7u);
  EXPECT_EQ(table.columns[0].name, "id");
  EXPECT_EQ(table.columns[0].type.kind, DeltaKind::kBigint);
  EXPECT_FALSE(table.columns[0].nullable);
  EXPECT_TRUE(table.columns[1].nullable);
  EXPECT_EQ(TypeText(table.columns[4].type), "array<string>");
  EXPECT_EQ(TypeText(table.columns[5].type), "map<string,string>");
  EXPECT_EQ(TypeText(table.columns[6].type), "struct<lat:double,lon:double>");
  EXPECT_EQ(table.columns[6].type.fields[1].name, "lon");
}

TEST(Ddl, EveryTypeOfTheMappingWithItsCatalogSpellings) {
  struct Case {
    const char *ddl_type;
    const char *type_text;
    const char *type_name;
  };
  const std::vector<Case> cases = {
      {"STRING", "string", "STRING"},
      {"varchar(20)", "varchar(20)", "STRING"},
      {"CHAR(3)", "char(3)", "CHAR"},
      {"BOOLEAN", "boolean", "BOOLEAN"},
      {"TINYINT", "tinyint", "BYTE"},
      {"byte", "tinyint", "BYTE"},
      {"SMALLINT", "smallint", "SHORT"},
      {"SHORT", "smallint", "SHORT"},
      {"INT", "int", "INT"},
      {"Integer", "int", "INT"},
      {"BIGINT", "bigint", "LONG"},
      {"LONG", "bigint", "LONG"},
      {"FLOAT", "float", "FLOAT"},
      {"DOUBLE", "double", "DOUBLE"},
      {"DECIMAL", "decimal(10,0)", "DECIMAL"},
      {"DECIMAL(38)", "decimal(38,0)", "DECIMAL"},
      {"decimal(10, 2)", "decimal(10,2)", "DECIMAL"},
      {"DATE", "date", "DATE"},
      {"TIMESTAMP", "timestamp", "TIMESTAMP"},
      {"TIMESTAMP_NTZ", "timestamp_ntz", "TIMESTAMP_NTZ"},
      {"BINARY", "binary", "BINARY"},
      {"VARIANT", "variant", "VARIANT"},
      {"ARRAY<INT>", "array<int>", "ARRAY"},
      {"ARRAY<STRUCT<a: INT, b: ARRAY<STRING>>>", "array<struct<a:int,b:array<string>>>", "ARRAY"},
      {"MAP<BIGINT, STRUCT<x DOUBLE>>", "map<bigint,struct<x:double>>", "MAP"},
      {"MAP<BOOLEAN,DECIMAL(5,1)>", "map<boolean,decimal(5,1)>", "MAP"},
      {"STRUCT<a:STRUCT<b:STRUCT<c:INT NOT NULL COMMENT 'deep'>>>",
       "struct<a:struct<b:struct<c:int>>>", "STRUCT"},
  };
  for (const Case &c : cases) {
    const TableSchema table = Parse(std::string("c.s.t (v ") + c.ddl_type + ")");
    ASSERT_EQ(table.columns.size(), 1u) << c.ddl_type;
    EXPECT_EQ(TypeText(table.columns[0].type), c.type_text) << c.ddl_type;
    EXPECT_STREQ(TypeName(table.columns[0].type), c.type_name) << c.ddl_type;
  }
}

TEST(Ddl, AcceptsCreateTableCommentsQuotesAndUsingDelta) {
  const TableSchema table = Parse(
      "CREATE TABLE IF NOT EXISTS `main`.default.`t_1` (\n"
      "  `id` INT NOT NULL COMMENT 'it''s the key',\n"
      "  s STRUCT<n: INT NOT NULL> NOT NULL COMMENT \"nested\"\n"
      ") USING DELTA;");
  EXPECT_EQ(table.full_name, "main.default.t_1");
  EXPECT_EQ(table.columns[0].comment, "it's the key");
  EXPECT_FALSE(table.columns[1].nullable);
  EXPECT_FALSE(table.columns[1].type.fields[0].nullable);
  EXPECT_EQ(table.columns[1].comment, "nested");
}

TEST(Ddl, RejectsBadNamesWithAReason) {
  EXPECT_NE(ErrorOf("main.default (id INT)").find("three-part"), std::string::npos);
  EXPECT_NE(ErrorOf("a.b.c.d (id INT)").find("exactly three parts"), std::string::npos);
  EXPECT_NE(ErrorOf("main.`my-schema`.t (id INT)").find("ASCII letters"), std::string::npos);
  EXPECT_NE(ErrorOf("main.default.t (`bad name` INT)").find("ASCII letters"), std::string::npos);
  EXPECT_NE(ErrorOf("main.default.t (1abc INT)").find("not start with a digit"), std::string::npos);
  EXPECT_NE(ErrorOf("main.default.t (`1abc` INT)").find("not start with a digit"),
            std::string::npos);
  EXPECT_NE(ErrorOf("main.default.t (id INT, ID BIGINT)").find("defined twice"), std::string::npos);
  EXPECT_NE(ErrorOf("main.default.t (s STRUCT<a INT, A INT>)").find("defined twice"),
            std::string::npos);
}

TEST(Ddl, RejectsTypesTheServiceCannotMap) {
  EXPECT_NE(ErrorOf("c.s.t (v INTERVAL)").find("unsupported type"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v GEOGRAPHY)").find("unsupported type"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v ARRAY<ARRAY<INT>>)").find("wrap the inner type"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v ARRAY<MAP<INT,INT>>)").find("wrap the inner type"),
            std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v MAP<DOUBLE,INT>)").find("MAP keys"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v MAP<BINARY,INT>)").find("MAP keys"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v MAP<STRING,ARRAY<INT>>)").find("MAP values"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v MAP<STRING,MAP<INT,INT>>)").find("MAP values"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v DECIMAL(39,0))").find("precision"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v DECIMAL(5,6))").find("scale"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v STRUCT<>)").find("at least one field"), std::string::npos);
  EXPECT_NE(ErrorOf("c.s.t (v VARCHAR)").find("expected '('"), std::string::npos);
}

TEST(Ddl, RejectsMalformedStatements) {
  EXPECT_FALSE(ErrorOf("").empty());
  EXPECT_FALSE(ErrorOf("c.s.t ()").empty());
  EXPECT_FALSE(ErrorOf("c.s.t (id INT").empty());
  EXPECT_FALSE(ErrorOf("c.s.t (id INT NOT)").empty());
  EXPECT_FALSE(ErrorOf("c.s.t (id INT) extra").empty());
  EXPECT_FALSE(ErrorOf("c.s.t (id INT) USING PARQUET").empty());
  EXPECT_FALSE(ErrorOf("c.s.t (id INT COMMENT 'open)").empty());
  EXPECT_FALSE(ErrorOf("c.s.t (id INT, s STRUCT<a INT)").empty());
}

TEST(Ddl, AllowsTwoThousandColumnsAndNoMore) {
  auto ddl = [](int columns) {
    std::string text = "c.s.wide (";
    for (int i = 0; i < columns; ++i) text += (i ? ", c" : "c") + std::to_string(i) + " INT";
    return text + ")";
  };
  EXPECT_EQ(Parse(ddl(2000)).columns.size(), 2000u);
  EXPECT_NE(ErrorOf(ddl(2001)).find("at most 2000"), std::string::npos);
}

TEST(Ddl, LimitsNestingDepthToOneHundred) {
  auto nested = [](int depth) {
    std::string type = "INT";
    for (int i = 1; i < depth; ++i) type = "STRUCT<f: " + type + ">";
    return "c.s.t (v " + type + ")";
  };
  Parse(nested(100));
  EXPECT_NE(ErrorOf(nested(101)).find("nest deeper"), std::string::npos);
}

TEST(Ddl, SchemaFilesTakeOneStatementPerLineOrSemicolons) {
  std::vector<TableSchema> tables;
  std::string error;
  ASSERT_TRUE(
      ParseSchemaText("-- sensors\n"
                      "main.default.a (id INT)\n"
                      "\n"
                      "main.default.b (id INT, -- the key\n"
                      "  name STRING);  main.default.c (x DOUBLE);\n"
                      "CREATE TABLE main.default.d (\n"
                      "  s STRING COMMENT 'a -- not a comment; nor this'\n"
                      ")\n",
                      &tables, &error))
      << error;
  ASSERT_EQ(tables.size(), 4u);
  EXPECT_EQ(tables[1].full_name, "main.default.b");
  EXPECT_EQ(tables[1].columns.size(), 2u);
  EXPECT_EQ(tables[2].full_name, "main.default.c");
  EXPECT_EQ(tables[3].columns[0].comment, "a -- not a comment; nor this");
}

TEST(Ddl, SchemaFileErrorsNameTheLine) {
  std::vector<TableSchema> tables;
  std::string error;
  EXPECT_FALSE(ParseSchemaText("main.default.a (id INT)\n\nmain.default.b (id NUMBERWANG)\n",
                               &tables, &error));
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  tables.clear();
  EXPECT_FALSE(
      ParseSchemaText("main.default.a (id INT)\nMAIN.default.A (x INT)\n", &tables, &error));
  EXPECT_NE(error.find("line 2: table MAIN.default.A is defined twice"), std::string::npos)
      << error;
}

}  // namespace
