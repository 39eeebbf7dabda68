// `zerobus ingest` as a process: JSON Lines, CSV and length-prefixed protobuf into the embedded
// local server, read back from its data directory; records refused locally and by a `zerobus
// serve` with a fault, in the dead-letter file with exit status 3; a stream the server refuses,
// exit status 1; progress lines on a pipe; and the --help of every subcommand.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/row_reader.h"
#include "table/value_checks.h"
#include "zbtest_child.h"
#include "zbtest_serve.h"
#include "zbtest_temp_dir.h"

namespace {

using nlohmann::json;
using zbtest::Child;
using namespace std::chrono_literals;

constexpr char kEventsDdl[] = "main.default.events (id BIGINT NOT NULL, payload STRING)";

// Every row stored for `table` under `data_dir`, oldest first, as `zerobus rows` prints them.
std::vector<json> StoredRows(const std::string &data_dir, const std::string &table) {
  std::string error;
  const std::unique_ptr<zerobus::server::RowReader> reader =
      zerobus::server::RowReader::Open(data_dir, &error);
  std::vector<json> rows;
  EXPECT_TRUE(reader && reader->Read(table, 0, -1, &rows, &error)) << error;
  return rows;
}

std::vector<json> ReadJsonLines(const std::string &path) {
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

void WriteFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The figure after `label` in the summary ("  acknowledged   100000"), or -1.
long long SummaryFigure(const std::string &summary, const std::string &label) {
  const size_t at = summary.find("\n  " + label + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(summary.substr(summary.find_first_not_of(' ', at + 3 + label.size())));
}

TEST(Cli, IngestJsonLinesIntoTheEmbeddedServer) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/events.jsonl";
  constexpr int kRecords = 100000;
  {
    std::ofstream out(input);
    for (int i = 0; i < kRecords; ++i) {
      out << R"({"id":)" << i << R"(,"payload":"event )" << i << "\"}\n";
    }
  }
  Child ingest({ZEROBUS_CLI, "ingest", "--table-ddl", kEventsDdl, "--data-dir", dir.path(), input});
  ASSERT_EQ(ingest.Wait(50s), 0) << ingest.Stderr();
  const std::string summary = ingest.Stdout();
  EXPECT_EQ(summary.rfind("zerobus ingest: main.default.events\n", 0), 0u) << summary;
  EXPECT_EQ(SummaryFigure(summary, "records read"), kRecords) << summary;
  EXPECT_EQ(SummaryFigure(summary, "accepted"), kRecords) << summary;
  EXPECT_EQ(SummaryFigure(summary, "acknowledged"), kRecords) << summary;
  EXPECT_EQ(SummaryFigure(summary, "dead-lettered"), 0) << summary;
  EXPECT_EQ(SummaryFigure(summary, "streams"), 1) << summary;
  EXPECT_NE(summary.find("records/s"), std::string::npos) << summary;

  const std::vector<json> rows = StoredRows(dir.path(), "main.default.events");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(rows[i], json({{"id", i}, {"payload", "event " + std::to_string(i)}})) << i;
  }
}

// --exactly-once: a second run of the same input resumes the persistent stream the first one
// created and skips every record it committed; a malformed line is dead-lettered on each run
// and takes no offset. The input changed since is refused, and so are standard input and Avro.
TEST(Cli, IngestExactlyOnceSkipsWhatAnEarlierRunCommitted) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/events.jsonl";
  constexpr int kRecords = 1000;
  {
    std::ofstream out(input);
    for (int i = 0; i < kRecords; ++i) {
      out << (i == 500 ? std::string("{not json\n")
                       : R"({"id":)" + std::to_string(i) + R"(,"payload":"once"})" + "\n");
    }
  }
  const std::vector<std::string> argv = {
      ZEROBUS_CLI, "ingest",     "--table",  "main.default.once", "--exactly-once",
      "--quiet",   "--data-dir", dir.path(), "--dead-letter",     dir.path() + "/dead.jsonl",
      input};
  Child first(argv);
  ASSERT_EQ(first.Wait(50s), 3) << first.Stderr();
  std::string summary = first.Stdout();
  EXPECT_EQ(SummaryFigure(summary, "acknowledged"), kRecords - 1) << summary;
  EXPECT_EQ(SummaryFigure(summary, "dead-lettered"), 1) << summary;
  EXPECT_EQ(SummaryFigure(summary, "skipped"), 0) << summary;
  const std::string state = input + ".zerobus-resume";
  const json saved = json::parse(std::ifstream(state));
  EXPECT_EQ(saved["table"], "main.default.once");
  EXPECT_FALSE(saved["stream_id"].get<std::string>().empty());

  Child second(argv);
  ASSERT_EQ(second.Wait(50s), 3) << second.Stderr();
  summary = second.Stdout();
  EXPECT_EQ(SummaryFigure(summary, "accepted"), 0) << summary;
  EXPECT_EQ(SummaryFigure(summary, "skipped"), kRecords - 1) << summary;
  EXPECT_EQ(StoredRows(dir.path(), "main.default.once").size(), static_cast<size_t>(kRecords - 1));

  std::ofstream(input, std::ios::app) << R"({"id":1000,"payload":"late"})"
                                      << "\n";
  Child changed(argv);
  EXPECT_EQ(changed.Wait(50s), 1);
  EXPECT_NE(changed.Stderr().find("would not be the committed ones"), std::string::npos);

  Child piped({ZEROBUS_CLI, "ingest", "--table", "main.default.once", "--exactly-once"});
  EXPECT_EQ(piped.Wait(50s), 2);

  // Avro container files are not taken yet, named by extension or by --format.
  Child avro({ZEROBUS_CLI, "ingest", "--table", "main.default.once", "--exactly-once",
              dir.path() + "/events.avro"});
  EXPECT_EQ(avro.Wait(50s), 2);
  EXPECT_NE(avro.Stderr().find("nor Avro or Arrow files (not yet)"), std::string::npos)
      << avro.Stderr();
}

TEST(Cli, IngestCsvTypedByTheTablesSchema) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/people.csv";
  WriteFile(input,
            "id,name,score,active,seen,tags\r\n"
            "1,Ada,9.5,true,2026-01-02T03:04:05Z,\"[\"\"a\"\",\"\"b\"\"]\"\r\n"
            "2,\"Smith, \"\"J\"\"\nsecond line\",,FALSE,1700000000000000,[]\r\n"
            "\r\n"
            "3,\"\",-1e3,True,,\n");
  Child ingest({ZEROBUS_CLI, "ingest", "--data-dir", dir.path(), "--table-ddl",
                "main.default.people (id BIGINT NOT NULL, name STRING, score DOUBLE, "
                "active BOOLEAN, seen TIMESTAMP, tags ARRAY<STRING>)",
                input});
  ASSERT_EQ(ingest.Wait(30s), 0) << ingest.Stderr() << ingest.Stdout();
  EXPECT_EQ(SummaryFigure(ingest.Stdout(), "acknowledged"), 3);

  const std::vector<json> rows = StoredRows(dir.path(), "main.default.people");
  ASSERT_EQ(rows.size(), 3u);
  // 2026-01-02T03:04:05Z is 1767323045 s after the epoch; TIMESTAMP is stored in microseconds.
  EXPECT_EQ(rows[0], json::parse(R"({"id":1,"name":"Ada","score":9.5,"active":true,
                                     "seen":1767323045000000,"tags":["a","b"]})"));
  EXPECT_EQ(rows[1], json::parse(R"({"id":2,"name":"Smith, \"J\"\nsecond line","score":null,
                                     "active":false,"seen":1700000000000000,"tags":[]})"));
  EXPECT_EQ(rows[2], json::parse(R"({"id":3,"name":"","score":-1000.0,"active":true,
                                     "seen":null,"tags":[]})"));
}

// Appends `value` as a base-128 varint.
void PutVarint(uint64_t value, std::string *out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// An Event record of kEventsDdl (id = field 1, payload = field 2), encoded by hand.
std::string EventRecord(uint64_t id, const std::string &payload) {
  std::string record = "\x08";
  PutVarint(id, &record);
  record.push_back('\x12');
  PutVarint(payload.size(), &record);
  return record + payload;
}

TEST(Cli, IngestLengthPrefixedProtobuf) {
  zbtest::TempDir dir;
  std::string framed;
  constexpr int kRecords = 1000;
  for (int i = 0; i < kRecords; ++i) {
    // Every tenth payload is long enough for a two-byte length prefix.
    const std::string record = EventRecord(i, std::string(i % 10 == 0 ? 300 : 5, 'a' + i % 26));
    PutVarint(record.size(), &framed);
    framed += record;
  }
  const std::string input = dir.path() + "/events.pb";
  WriteFile(input, framed);
  Child ingest({ZEROBUS_CLI, "ingest", "--table-ddl", kEventsDdl, "--data-dir", dir.path(), input});
  ASSERT_EQ(ingest.Wait(30s), 0) << ingest.Stderr();
  EXPECT_EQ(SummaryFigure(ingest.Stdout(), "acknowledged"), kRecords);
  std::vector<json> rows = StoredRows(dir.path(), "main.default.events");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(rows[10], json({{"id", 10}, {"payload", std::string(300, 'k')}}));
  EXPECT_EQ(rows[11], json({{"id", 11}, {"payload", "lllll"}}));

  // The same framing through --descriptor (as `zerobus schema` writes it), into a table that
  // only the descriptor describes; a file cut short ends in the dead-letter file.
  const std::string descriptor = dir.path() + "/events.desc";
  Child schema({ZEROBUS_CLI, "schema", "--ddl", kEventsDdl, "--descriptor", descriptor});
  ASSERT_EQ(schema.Wait(10s), 0) << schema.Stderr();
  // Two whole records, then a length prefix announcing 5 + 2 bytes and only 3 of them.
  std::string cut_framed;
  for (int i = 0; i < 2; ++i) {
    const std::string record = EventRecord(100 + i, "ok");
    PutVarint(record.size(), &cut_framed);
    cut_framed += record;
  }
  const uint64_t broken_at = cut_framed.size();
  const std::string last = EventRecord(7, "seven");
  PutVarint(last.size(), &cut_framed);
  cut_framed += last.substr(0, 3);
  const std::string cut = dir.path() + "/cut.bin";
  WriteFile(cut, cut_framed);
  const std::string dead = dir.path() + "/dead.jsonl";
  Child partial({ZEROBUS_CLI, "ingest", "--format", "proto", "--descriptor", descriptor, "--table",
                 "main.default.events", "--data-dir", dir.path() + "/other", "--dead-letter", dead,
                 cut});
  EXPECT_EQ(partial.Wait(30s), 3) << partial.Stderr();
  EXPECT_EQ(SummaryFigure(partial.Stdout(), "acknowledged"), 2);
  const std::vector<json> letters = ReadJsonLines(dead);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0]["file"], cut);
  EXPECT_EQ(letters[0]["record_number"], 3);
  EXPECT_EQ(letters[0]["byte_offset"], broken_at);
  EXPECT_EQ(letters[0]["code"], "ZB_ERR_INVALID_RECORD");
  EXPECT_NE(letters[0]["message"].get<std::string>().find("file ends after 3"), std::string::npos)
      << letters[0];
  EXPECT_EQ(letters[0]["record_base64"], "CAcS");  // the three bytes read: 08 07 12
}

TEST(Cli, IngestDeadLettersRecordsItCannotEncode) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/mixed.jsonl";
  WriteFile(input,
            "{\"id\":1,\"payload\":\"fine\"}\n"
            "not json at all\n"
            "{\"id\":\"two\",\"payload\":\"bad id\"}\n"
            "{\"id\":3,\"colour\":\"red\"}\n"
            "{\"id\":4}\n");
  const std::string dead = dir.path() + "/dead.jsonl";
  Child ingest({ZEROBUS_CLI, "ingest", "--table-ddl", kEventsDdl, "--data-dir", dir.path(),
                "--dead-letter", dead, input});
  ASSERT_EQ(ingest.Wait(30s), 3) << ingest.Stderr();
  const std::string summary = ingest.Stdout();
  EXPECT_EQ(SummaryFigure(summary, "records read"), 5) << summary;
  EXPECT_EQ(SummaryFigure(summary, "acknowledged"), 2) << summary;
  EXPECT_EQ(SummaryFigure(summary, "dead-lettered"), 3) << summary;
  EXPECT_NE(summary.find("dead-lettered  3 to " + dead), std::string::npos) << summary;

  const std::vector<json> letters = ReadJsonLines(dead);
  ASSERT_EQ(letters.size(), 3u);
  const int lines[] = {2, 3, 4};
  const char *records[] = {"not json at all", R"({"id":"two","payload":"bad id"})",
                           R"({"id":3,"colour":"red"})"};
  const char *columns[] = {"", "'id'", "colour"};
  for (size_t i = 0; i < letters.size(); ++i) {
    EXPECT_EQ(letters[i]["file"], input);
    EXPECT_EQ(letters[i]["line"], lines[i]);
    EXPECT_EQ(letters[i]["code"], "ZB_ERR_INVALID_RECORD");
    EXPECT_EQ(letters[i]["record"], records[i]);
    EXPECT_NE(letters[i]["message"].get<std::string>().find(columns[i]), std::string::npos)
        << letters[i];
  }
  const std::vector<json> rows = StoredRows(dir.path(), "main.default.events");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], json::parse(R"({"id":4,"payload":null})"));
}

TEST(Cli, IngestDeadLettersWhatTheServerRefusesAndGoesOn) {
  zbtest::TempDir dir;
  // The request that takes the table past 3000 records ends its stream with INVALID_ARGUMENT,
  // which no retry can mend: that stream's unacknowledged records are dead-lettered, and the
  // rest of the file goes to a new stream.
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path(),
                       "--table", kEventsDdl, "--fault",
                       "main.default.events:fail_after_records=3000,fail_status=INVALID_ARGUMENT,"
                       "fail_message=refused by the test"});
  ASSERT_GT(serve.port("grpc"), 0);
  const std::string input = dir.path() + "/events.jsonl";
  constexpr int kRecords = 20000;
  {
    std::ofstream out(input);
    for (int i = 0; i < kRecords; ++i) out << R"({"id":)" << i << "}\n";
  }
  const std::string dead = dir.path() + "/dead.jsonl";
  Child ingest({ZEROBUS_CLI, "ingest", "--endpoint", serve.url("grpc"), "--table",
                "main.default.events", "--dead-letter", dead,
                // A window far smaller than the file makes the failure meet records still
                // unread, however fast the machine.
                "--config", "stream.max.inflight.records=1000", input});
  ASSERT_EQ(ingest.Wait(50s), 3) << ingest.Stderr() << ingest.Stdout();
  const std::string summary = ingest.Stdout();
  EXPECT_EQ(SummaryFigure(summary, "streams"), 2) << summary;

  const std::vector<json> letters = ReadJsonLines(dead);
  ASSERT_FALSE(letters.empty());
  std::set<int64_t> dead_ids;
  for (const json &letter : letters) {
    EXPECT_EQ(letter["code"], "ZB_ERR_TRANSPORT") << letter;
    EXPECT_NE(letter["message"].get<std::string>().find("refused by the test"), std::string::npos)
        << letter;
    const int64_t id = json::parse(letter["record"].get<std::string>())["id"].get<int64_t>();
    EXPECT_EQ(letter["line"].get<int64_t>(), id + 1);
    EXPECT_TRUE(dead_ids.insert(id).second) << letter;
  }
  EXPECT_EQ(SummaryFigure(summary, "dead-lettered"), static_cast<long long>(letters.size()));
  EXPECT_EQ(SummaryFigure(summary, "acknowledged") + SummaryFigure(summary, "dead-lettered"),
            kRecords)
      << summary;
  // Every record is stored or dead-lettered. Delivery is at least once: the server may have
  // stored records of the failed stream without acknowledging them, which are then in both.
  std::set<int64_t> stored_ids;
  for (const json &row : StoredRows(dir.path(), "main.default.events")) {
    EXPECT_TRUE(stored_ids.insert(row["id"].get<int64_t>()).second) << row;
  }
  EXPECT_GE(static_cast<long long>(stored_ids.size()), SummaryFigure(summary, "acknowledged"));
  for (int64_t id = 0; id < kRecords; ++id) {
    ASSERT_TRUE(stored_ids.count(id) + dead_ids.count(id) > 0) << "record " << id << " is lost";
  }
}

// A JSON Lines record {"id":ID,"payload":"xxx..."} of exactly `length` bytes.
std::string LineOfLength(int id, size_t length) {
  const std::string head = R"({"id":)" + std::to_string(id) + R"(,"payload":")";
  return head + std::string(length - head.size() - 2, 'x') + "\"}";
}

// Writes all of `bytes` to `fd`.
void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = write(fd, bytes.data(), bytes.size());
    ASSERT_GT(written, 0) << std::strerror(errno);
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}

// The peak resident memory of process `pid` in bytes (VmHWM), or -1.
long long PeakMemory(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

TEST(Cli, IngestDeadLettersLinesOverTheRecordLimitAndReadsOn) {
  zbtest::TempDir dir;
  constexpr size_t kLimit = 10 * 1024 * 1024;
  constexpr size_t kHuge = 64 * 1024 * 1024;
  // Through a pipe, which also shows that records are delivered as their lines come, before
  // the input ends; and that the command's memory can be read while it waits for more.
  const std::string input = dir.path() + "/lines.jsonl";
  ASSERT_EQ(mkfifo(input.c_str(), 0600), 0);
  const std::string dead = dir.path() + "/dead.jsonl";
  Child ingest({ZEROBUS_CLI, "ingest", "--quiet", "--table-ddl", kEventsDdl, "--data-dir",
                dir.path(), "--dead-letter", dead, input});
  const int pipe = open(input.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(pipe, 0) << std::strerror(errno);
  // Waits until the table has `count` rows: the records before them were all read.
  const auto rows_reach = [&dir](size_t count) {
    std::vector<json> rows;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (rows.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);  // polls the table: its rows come with no signal
      rows = StoredRows(dir.path(), "main.default.events");
    }
    return rows;
  };
  WriteAll(pipe, "{\"id\":1}\n" + LineOfLength(2, kLimit + 1) + "\n{\"id\":3}\n");
  ASSERT_EQ(rows_reach(2).size(), 2u);
  const long long peak_before = PeakMemory(ingest.pid());
  ASSERT_GT(peak_before, 0);

  // 64 MiB in pieces, so that this process does not hold it either. A line over the limit
  // ending in "\r\n" counts without its "\r".
  const std::string huge_head = R"({"id":4,"payload":")";
  WriteAll(pipe, huge_head);
  const std::string piece(1 << 20, 'x');
  size_t left = kHuge - huge_head.size() - 2;
  for (; left > piece.size(); left -= piece.size()) WriteAll(pipe, piece);
  WriteAll(pipe, piece.substr(0, left) + "\"}\r\n{\"id\":5}\r\n");

  // The records after the long lines are delivered.
  const std::vector<json> rows = rows_reach(3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["id"], 1);
  EXPECT_EQ(rows[1]["id"], 3);
  EXPECT_EQ(rows[2]["id"], 5);
  // The 64 MiB line was not held: the command's peak memory hardly moved while it was read
  // (getline's buffer would have grown to 128 MiB).
  const long long peak_after = PeakMemory(ingest.pid());
  EXPECT_LT(peak_after - peak_before, static_cast<long long>(kHuge / 4))
      << peak_before << " -> " << peak_after;
  close(pipe);

  ASSERT_EQ(ingest.Wait(60s), 3) << ingest.Stderr() << ingest.Stdout();
  const std::string summary = ingest.Stdout();
  EXPECT_EQ(SummaryFigure(summary, "records read"), 5) << summary;
  EXPECT_EQ(SummaryFigure(summary, "acknowledged"), 3) << summary;
  EXPECT_EQ(SummaryFigure(summary, "dead-lettered"), 2) << summary;

  // Each long line is a dead letter with its position, its length and its first KiB only.
  const std::vector<json> letters = ReadJsonLines(dead);
  ASSERT_EQ(letters.size(), 2u);
  const int lines[] = {2, 4};
  const size_t lengths[] = {kLimit + 1, kHuge};
  for (size_t i = 0; i < letters.size(); ++i) {
    EXPECT_EQ(letters[i]["file"], input);
    EXPECT_EQ(letters[i]["line"], lines[i]);
    EXPECT_EQ(letters[i]["code"], "ZB_ERR_RECORD_TOO_LARGE");
    EXPECT_EQ(letters[i]["record_bytes"], lengths[i]);
    EXPECT_EQ(letters[i]["record_prefix"], LineOfLength(lines[i], 1500).substr(0, 1024));
    EXPECT_FALSE(letters[i].contains("record")) << "a prefix must not pass for the record";
    EXPECT_NE(letters[i]["message"].get<std::string>().find(std::to_string(lengths[i])),
              std::string::npos)
        << letters[i]["message"];
  }
  // The dead letters hold raw records: their file is its owner's alone.
  struct stat info;
  ASSERT_EQ(stat(dead.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(Cli, IngestDeadLettersCsvRowsAndProtobufRecordsOverTheLimit) {
  zbtest::TempDir dir;
  constexpr size_t kLimit = 10 * 1024 * 1024;
  // A quoted field with line breaks and doubled quotes carries the row past the limit; the
  // row after it is read as usual.
  const std::string csv = dir.path() + "/long.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << "id,payload\n1,one\n2,\"";
    for (size_t written = 0; written <= kLimit; written += 8) out << "a\"\",b\nc,";
    out << "\"\n3,three\n";
  }
  const std::string dead = dir.path() + "/dead.jsonl";
  Child ingest_csv({ZEROBUS_CLI, "ingest", "--quiet", "--table-ddl", kEventsDdl, "--data-dir",
                    dir.path(), "--dead-letter", dead, csv});
  ASSERT_EQ(ingest_csv.Wait(60s), 3) << ingest_csv.Stderr() << ingest_csv.Stdout();
  std::vector<json> rows = StoredRows(dir.path(), "main.default.events");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], json({{"id", 3}, {"payload", "three"}}));
  std::vector<json> letters = ReadJsonLines(dead);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0]["line"], 3);
  EXPECT_EQ(letters[0]["code"], "ZB_ERR_RECORD_TOO_LARGE");
  EXPECT_GT(letters[0]["record_bytes"].get<uint64_t>(), kLimit);
  EXPECT_EQ(letters[0]["record_prefix"].get<std::string>().substr(0, 9), "2,\"a\"\",b\n");

  // A protobuf record over the limit is read past; the framing holds, so the next one counts.
  std::string framed;
  const std::string first = EventRecord(1, "one");
  PutVarint(first.size(), &framed);
  framed += first;
  const uint64_t long_at = framed.size();
  const std::string long_record = EventRecord(2, std::string(kLimit, 'p'));
  PutVarint(long_record.size(), &framed);
  framed += long_record;
  const std::string last = EventRecord(3, "three");
  PutVarint(last.size(), &framed);
  framed += last;
  const std::string pb = dir.path() + "/long.pb";
  WriteFile(pb, framed);
  const std::string proto_dead = dir.path() + "/proto-dead.jsonl";
  Child ingest_pb({ZEROBUS_CLI, "ingest", "--quiet", "--table-ddl", kEventsDdl, "--data-dir",
                   dir.path() + "/pb", "--dead-letter", proto_dead, pb});
  ASSERT_EQ(ingest_pb.Wait(60s), 3) << ingest_pb.Stderr() << ingest_pb.Stdout();
  rows = StoredRows(dir.path() + "/pb", "main.default.events");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], json({{"id", 3}, {"payload", "three"}}));
  letters = ReadJsonLines(proto_dead);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0]["record_number"], 2);
  EXPECT_EQ(letters[0]["byte_offset"], long_at);
  EXPECT_EQ(letters[0]["record_bytes"], long_record.size());
  std::string prefix;
  ASSERT_TRUE(
      zerobus::table::DecodeBase64(letters[0]["record_prefix_base64"].get<std::string>(), &prefix));
  EXPECT_EQ(prefix, long_record.substr(0, 1024));
}

TEST(Cli, IngestFailsWhenAnInputCannotBeReadToItsEnd) {
  zbtest::TempDir dir;
  const std::string good = dir.path() + "/good.jsonl";
  WriteFile(good, "{\"id\":1}\n");
  // A directory opens, and its first read fails (EISDIR); /proc/self/mem fails its first read
  // too (EIO). Neither is an empty input.
  const std::pair<std::string, std::string> unreadable[] = {
      {dir.path(), "Is a directory"}, {"/proc/self/mem", "Input/output error"}};
  for (const std::string format : {"jsonl", "csv", "proto"}) {
    for (const auto &[input, reason] : unreadable) {
      std::vector<std::string> args = {ZEROBUS_CLI, "ingest",     "--quiet",
                                       "--format",  format,       "--table-ddl",
                                       kEventsDdl,  "--data-dir", dir.path() + "/data"};
      // After a good file, for the format whose records it holds.
      if (format == "jsonl") args.push_back(good);
      args.push_back(input);
      Child ingest(args);
      EXPECT_EQ(ingest.Wait(30s), 1) << format << " " << input << ingest.Stdout();
      const std::string error = ingest.Stderr();
      EXPECT_NE(error.find("cannot read " + input + ": " + reason), std::string::npos)
          << format << " " << error;
    }
  }
}

TEST(Cli, IngestRefusesASymbolicLinkAsItsDeadLetterFile) {
  zbtest::TempDir dir;
  const std::string input = dir.path() + "/bad.jsonl";
  WriteFile(input, "{\"id\":1}\nnot json\n");
  const std::string target = dir.path() + "/elsewhere";
  WriteFile(target, "untouched\n");
  const std::string dead = dir.path() + "/dead.jsonl";
  ASSERT_EQ(symlink(target.c_str(), dead.c_str()), 0);
  Child ingest({ZEROBUS_CLI, "ingest", "--quiet", "--table-ddl", kEventsDdl, "--data-dir",
                dir.path(), "--dead-letter", dead, input});
  EXPECT_EQ(ingest.Wait(30s), 1) << ingest.Stdout();
  EXPECT_NE(ingest.Stderr().find("symbolic link"), std::string::npos) << ingest.Stderr();
  std::ifstream in(target);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "untouched\n");
}

TEST(Cli, IngestFailsWhenTheServerRefusesTheStream) {
  zbtest::TempDir dir;
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--table", kEventsDdl});
  ASSERT_GT(serve.port("grpc"), 0);
  const std::string input = dir.path() + "/events.jsonl";
  WriteFile(input, "{\"id\":1}\n");
  Child ingest({ZEROBUS_CLI, "ingest", "--endpoint", serve.url("grpc"), "--table",
                "main.default.undeclared", input});
  EXPECT_EQ(ingest.Wait(30s), 1);
  const std::string error = ingest.Stderr();
  EXPECT_NE(error.find("zerobus ingest: main.default.undeclared: cannot open a stream: "
                       "ZB_ERR_TRANSPORT"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("main.default.undeclared"), std::string::npos) << error;
  EXPECT_EQ(ingest.Stdout(), "");
}

TEST(Cli, IngestPrintsPlainProgressLinesOnAPipe) {
  zbtest::TempDir dir;
  // Acks 500 ms late keep the run going for several 100 ms progress intervals.
  zbtest::Serve serve(
      {ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--fault", "*:ack_delay_ms=500"});
  ASSERT_GT(serve.port("grpc"), 0);
  const std::string input = dir.path() + "/events.jsonl";
  WriteFile(input, "{\"id\":1}\n{\"id\":2}\n");
  Child ingest({ZEROBUS_CLI, "ingest", "--endpoint", serve.url("grpc"), "--table",
                "main.default.events", "--progress-interval", "100ms", input});
  ASSERT_EQ(ingest.Wait(30s), 0) << ingest.Stderr();
  const std::string progress = ingest.Stderr();
  EXPECT_NE(progress.find("zerobus ingest: 2 read, "), std::string::npos) << progress;
  EXPECT_NE(progress.find(" MB/s | 0 acked, 0 records/s | 2 in flight | 0 recoveries | "
                          "0 dead-lettered\n"),
            std::string::npos)
      << progress;
  EXPECT_EQ(progress.find('\r'), std::string::npos) << progress;
  // The command names itself to the server, after the library (then comes the HTTP/2 client's
  // name, which identity_test checks on each engine).
  ASSERT_EQ(kill(serve.child().pid(), SIGTERM), 0);
  ASSERT_EQ(serve.child().Wait(10s), 0);
  const std::string served = serve.child().Stderr();
  EXPECT_TRUE(std::regex_search(
      served, std::regex(R"( user_agent=libzerobus/(\d+\.\d+\.\d+) zerobus-ingest/\1 \S)")))
      << served;
}

TEST(Cli, EverySubcommandHasHelpWithOptionsAndExamples) {
  for (const char *command : {"ingest", "serve", "rows", "schema", "bench"}) {
    Child help({ZEROBUS_CLI, command, "--help"});
    ASSERT_EQ(help.Wait(10s), 0) << command;
    const std::string text = help.Stdout();
    EXPECT_EQ(text.rfind(std::string("usage: zerobus ") + command, 0), 0u) << text;
    EXPECT_NE(text.find("\nOptions:\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nExamples:\n  zerobus " + std::string(command)), std::string::npos)
        << text;
  }
  Child top({ZEROBUS_CLI, "--help"});
  ASSERT_EQ(top.Wait(10s), 0);
  EXPECT_NE(top.Stdout().find("  ingest "), std::string::npos) << top.Stdout();
  Child mistake({ZEROBUS_CLI, "ingest", "--format", "xml"});
  EXPECT_EQ(mistake.Wait(10s), 2);
  EXPECT_NE(mistake.Stderr().find("--format wants jsonl, csv, proto, avro or arrow"),
            std::string::npos);
}

}  // namespace
