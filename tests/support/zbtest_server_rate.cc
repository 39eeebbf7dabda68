// Measures how many rows per second the local server sustains: starts it in-process (SQLite in
// a temporary directory, or the null sink), opens N streams from raw gRPC clients that keep a
// window of requests in flight, sends 100-byte JSON or proto records for a while and reports
// the acknowledged rows per second.
//
//   zbtest_server_rate [--streams N] [--seconds S] [--batch RECORDS] [--window REQUESTS]
//                      [--null-sink] [--proto]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/descriptor.pb.h>

#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_raw_stream.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kTable[] = "main.default.rate";
constexpr char kDdl[] = "main.default.rate (id BIGINT NOT NULL, device STRING, payload STRING)";
constexpr size_t kRecordBytes = 100;

struct Settings {
  int streams = 1;
  double seconds = 5;
  int batch = 100;
  int window = 8;
  bool null_sink = false;
  bool proto = false;
};

// Proto: id = 1 (varint), device = 2, payload = 3 (length-delimited), written by hand so that
// the client side costs next to nothing.
std::string ProtoRecord(int64_t id) {
  std::string record;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      record.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    record.push_back(static_cast<char>(v));
  };
  auto text = [&](int field, const std::string &value) {
    varint(static_cast<uint64_t>(field) << 3 | 2);
    varint(value.size());
    record += value;
  };
  varint(1 << 3);
  varint(static_cast<uint64_t>(id));
  text(2, "device-0001");
  const size_t used = record.size() + 2;
  text(3, std::string(kRecordBytes > used ? kRecordBytes - used : 1, 'p'));
  return record;
}

std::string JsonRecord(int64_t id) {
  std::string head = "{\"id\":" + std::to_string(id) + ",\"device\":\"device-0001\",\"payload\":\"";
  const size_t used = head.size() + 2;
  return head + std::string(kRecordBytes > used ? kRecordBytes - used : 1, 'p') + "\"}";
}

std::string Descriptor() {
  google::protobuf::DescriptorProto message;
  message.set_name("Rate");
  const char *names[] = {"id", "device", "payload"};
  for (int i = 0; i < 3; ++i) {
    auto *field = message.add_field();
    field->set_name(names[i]);
    field->set_number(i + 1);
    field->set_label(i == 0 ? google::protobuf::FieldDescriptorProto::LABEL_REQUIRED
                            : google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    field->set_type(i == 0 ? google::protobuf::FieldDescriptorProto::TYPE_INT64
                           : google::protobuf::FieldDescriptorProto::TYPE_STRING);
  }
  return message.SerializeAsString();
}

// One stream: sends until `stop`, never more than `window` requests unacknowledged; returns the
// records acknowledged.
int64_t RunStream(int port, int index, const Settings &settings, const std::atomic<bool> &stop) {
  zbtest::RawStream stream(port, std::chrono::seconds(static_cast<int>(settings.seconds) + 60));
  const std::string id = stream.Open(settings.proto ? zbtest::CreateProto(kTable, Descriptor())
                                                    : zbtest::CreateJson(kTable));
  if (id.empty()) {
    std::fprintf(stderr, "stream %d: create_stream refused\n", index);
    return 0;
  }
  std::mutex mu;
  std::condition_variable acked_cv;
  int64_t acked = -1;
  std::thread reader([&] {
    while (std::optional<int64_t> ack = stream.ReadAck()) {
      std::lock_guard<std::mutex> lock(mu);
      acked = *ack;
      acked_cv.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    acked = -2;  // the call ended
    acked_cv.notify_one();
  });
  std::vector<std::string> records;
  int64_t offset = 0;
  int64_t next_id = static_cast<int64_t>(index) << 40;
  while (!stop.load()) {
    {
      std::unique_lock<std::mutex> lock(mu);
      acked_cv.wait(lock, [&] { return acked == -2 || offset - acked <= settings.window; });
      if (acked == -2) break;
    }
    records.clear();
    for (int i = 0; i < settings.batch; ++i) {
      records.push_back(settings.proto ? ProtoRecord(next_id) : JsonRecord(next_id));
      ++next_id;
    }
    if (!stream.Write(settings.proto ? zbtest::ProtoBatch(offset, records)
                                     : zbtest::JsonBatch(offset, records))) {
      break;
    }
    ++offset;
  }
  int64_t done;
  {
    std::unique_lock<std::mutex> lock(mu);
    done = acked;
  }
  stream.context().TryCancel();
  reader.join();
  return done < 0 ? 0 : (done + 1) * settings.batch;
}

bool ParseArgs(int argc, char **argv, Settings *settings) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--streams" && has_value) {
      settings->streams = std::atoi(argv[++i]);
    } else if (arg == "--seconds" && has_value) {
      settings->seconds = std::atof(argv[++i]);
    } else if (arg == "--batch" && has_value) {
      settings->batch = std::atoi(argv[++i]);
    } else if (arg == "--window" && has_value) {
      settings->window = std::atoi(argv[++i]);
    } else if (arg == "--null-sink") {
      settings->null_sink = true;
    } else if (arg == "--proto") {
      settings->proto = true;
    } else {
      return false;
    }
  }
  return settings->streams > 0 && settings->seconds > 0 && settings->batch > 0 &&
         settings->window > 0;
}

}  // namespace

int main(int argc, char **argv) {
  Settings settings;
  if (!ParseArgs(argc, argv, &settings)) {
    std::fprintf(stderr,
                 "usage: zbtest_server_rate [--streams N] [--seconds S] [--batch RECORDS] "
                 "[--window REQUESTS] [--null-sink] [--proto]\n");
    return 2;
  }
  char dir_template[] = "/tmp/zbtest-rate-XXXXXX";
  const char *dir = mkdtemp(dir_template);
  if (dir == nullptr) return 1;

  zerobus::server::ServerOptions options;
  options.null_sink = settings.null_sink;
  options.data_dir = dir;
  options.tables.resize(1);
  std::string error;
  if (!zerobus::table::ParseTableDdl(kDdl, &options.tables[0], &error)) return 1;
  std::unique_ptr<zerobus::server::Server> server =
      zerobus::server::Server::Start(std::move(options), &error);
  if (!server) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }

  std::atomic<bool> stop{false};
  std::vector<int64_t> acked(static_cast<size_t>(settings.streams), 0);
  std::vector<std::thread> streams;
  const Clock::time_point start = Clock::now();
  for (int s = 0; s < settings.streams; ++s) {
    streams.emplace_back(
        [&, s] { acked[static_cast<size_t>(s)] = RunStream(server->port(), s, settings, stop); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(settings.seconds));
  stop = true;
  for (std::thread &stream : streams) stream.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t total = 0;
  for (int64_t count : acked) total += count;
  const int64_t stored = settings.null_sink ? total : server->rows().Count(kTable);
  server->Stop();
  std::printf(
      "%s, %s records of %zu bytes, %d stream(s), %d records per request, window %d: "
      "%lld rows acknowledged in %.2f s = %.0f rows/s (%lld stored)\n",
      settings.null_sink ? "null sink" : "SQLite", settings.proto ? "proto" : "JSON", kRecordBytes,
      settings.streams, settings.batch, settings.window, static_cast<long long>(total), elapsed,
      static_cast<double>(total) / elapsed, static_cast<long long>(stored));
  std::filesystem::remove_all(dir);
  return 0;
}
