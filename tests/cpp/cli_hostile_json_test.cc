// The zerobus command given JSON nested 100,000 levels deep (issue 17, point 1): it used to
// overflow the stack while a message quoted the value. `zerobus ingest` dead-letters such a JSON
// line or CSV field with a short message and delivers the records around it; `zerobus schema
// --table-json` refuses such a description; `zerobus rows` prints such a stored record.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "zbtest_child.h"
#include "zbtest_temp_dir.h"

namespace {

using nlohmann::json;
using zbtest::Child;
using namespace std::chrono_literals;

constexpr char kEventsDdl[] = "main.default.events (id BIGINT NOT NULL, tags ARRAY<STRING>)";
constexpr size_t kLevels = 100000;
constexpr size_t kMessageBound = 400;

std::string DeepArray(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

void WriteFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::vector<json> ReadJsonLines(const std::string &path) {
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

// Runs `zerobus ingest` of `input` into kEventsDdl's table and checks what it says of the one
// bad record, on line `line` between two good ones.
void ExpectDeadLettered(const std::string &input, const std::string &dir, int line) {
  const std::string dead = dir + "/dead.jsonl";
  Child ingest({ZEROBUS_CLI, "ingest", "--quiet", "--table-ddl", kEventsDdl, "--data-dir", dir,
                "--dead-letter", dead, input});
  ASSERT_EQ(ingest.Wait(30s), 3) << ingest.Stderr() << ingest.Stdout();
  EXPECT_NE(ingest.Stdout().find("acknowledged   2"), std::string::npos) << ingest.Stdout();
  const std::vector<json> letters = ReadJsonLines(dead);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0]["line"], line);
  EXPECT_EQ(letters[0]["code"], "ZB_ERR_INVALID_RECORD");
  const std::string message = letters[0]["message"];
  EXPECT_NE(message.find("deeper than 512 levels"), std::string::npos) << message;
  EXPECT_LE(message.size(), kMessageBound) << message;
}

TEST(Cli, IngestDeadLettersAJsonLineNestedTooDeep) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/deep.jsonl";
  WriteFile(input, "{\"id\":1}\n{\"id\":2,\"tags\":" + DeepArray(kLevels) + "}\n{\"id\":3}\n");
  ExpectDeadLettered(input, dir.path(), 2);
}

TEST(Cli, IngestDeadLettersACsvFieldNestedTooDeep) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/deep.csv";
  WriteFile(input, "id,tags\n1,[]\n2," + DeepArray(kLevels) + "\n3,\n");
  ExpectDeadLettered(input, dir.path(), 3);
}

TEST(Cli, SchemaRefusesATableDescriptionNestedTooDeep) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/table.json";
  // type_json is JSON text in a JSON string: the message quoted it as it found no type in it.
  WriteFile(input, R"({"full_name":"a.b.c","columns":[{"name":"x","type_json":")" +
                       DeepArray(kLevels) + "\"}]}");
  Child schema({ZEROBUS_CLI, "schema", "--table-json", input});
  EXPECT_EQ(schema.Wait(30s), 1) << schema.Stderr();
  const std::string error = schema.Stderr();
  EXPECT_NE(error.find("column 'x': type_json nests arrays and objects deeper than 512 levels"),
            std::string::npos)
      << error;
  EXPECT_LE(error.size(), kMessageBound) << error;
}

TEST(Cli, RowsPrintsAStoredRecordNestedTooDeepAsItsText) {
  // A table without a schema keeps JSON records as they arrive, unchecked.
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/deep.jsonl";
  const std::string deep = "{\"v\":" + DeepArray(kLevels) + "}";
  WriteFile(input, "{\"v\":[[1]]}\n" + deep + "\n");
  Child ingest({ZEROBUS_CLI, "ingest", "--quiet", "--table", "main.default.raw", "--data-dir",
                dir.path(), input});
  ASSERT_EQ(ingest.Wait(30s), 0) << ingest.Stderr() << ingest.Stdout();
  Child rows({ZEROBUS_CLI, "rows", "main.default.raw", "--data-dir", dir.path()});
  // Read as it comes: the second line is larger than a pipe holds.
  EXPECT_EQ(json::parse(rows.ReadLine(30s)), json::parse(R"({"json":{"v":[[1]]}})"));
  const std::string second = rows.ReadLine(30s);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(json::parse(second), json({{"json", deep}}));
  EXPECT_EQ(rows.Wait(30s), 0) << rows.Stderr();
}

}  // namespace
