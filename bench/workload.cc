#include "bench/workload.h"

#include <sys/resource.h>

#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace zerobus::bench {

std::string EventDescriptor() {
  google::protobuf::DescriptorProto message;
  message.set_name("Event");
  auto add_field = [&](const char *name, int number,
                       google::protobuf::FieldDescriptorProto::Type type) {
    google::protobuf::FieldDescriptorProto *field = message.add_field();
    field->set_name(name);
    field->set_number(number);
    field->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    field->set_type(type);
  };
  add_field("id", 1, google::protobuf::FieldDescriptorProto::TYPE_INT64);
  add_field("payload", 2, google::protobuf::FieldDescriptorProto::TYPE_STRING);
  return message.SerializeAsString();
}

std::string EventRecord(long size) {
  std::string record;
  record.push_back(0x08);  // id, varint, always 9 bytes long
  record.append("\x81\x80\x80\x80\x80\x80\x80\x80\x01", 9);
  // The payload's length always takes a 2-byte varint (a padded one below 128, which parsers
  // accept), so every size in kMinRecordSize..kMaxRecordSize comes out exact.
  const long payload = size - static_cast<long>(record.size()) - 3;
  record.push_back(0x12);  // payload, length-delimited
  record.push_back(static_cast<char>(0x80 | (payload & 0x7f)));
  record.push_back(static_cast<char>(payload >> 7));
  record.append(static_cast<size_t>(payload), 'p');
  return record;
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

LatencyPercentiles PercentilesOf(std::vector<double> latencies_us) {
  if (latencies_us.empty()) return {};
  std::sort(latencies_us.begin(), latencies_us.end());
  auto at = [&](double quantile) {
    return latencies_us[static_cast<size_t>(quantile *
                                            static_cast<double>(latencies_us.size() - 1))];
  };
  return {at(0.50), at(0.99), at(0.999)};
}

std::string ToJsonLine(const BenchResult &result) {
  nlohmann::json line = {{"client", result.client},
                         {"version", result.version},
                         {"mode", result.mode},
                         {"records", result.records},
                         {"size", result.size},
                         {"batch", result.batch},
                         {"threads", result.threads},
                         {"streams", result.streams},
                         {"lanes", result.lanes},
                         {"seconds", result.seconds},
                         {"cpu_seconds", result.cpu_seconds},
                         {"peak_rss_mib", result.peak_rss_mib}};
  if (result.rate > 0) {
    line["rate"] = result.rate;
    line["p50_us"] = result.latency.p50_us;
    line["p99_us"] = result.latency.p99_us;
    line["p999_us"] = result.latency.p999_us;
  }
  return line.dump();
}

long CountFlagOrExit(const char *program, const char *flag, const char *text, long least) {
  char *end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < least) {
    std::fprintf(stderr, "%s: %s expects a whole number of at least %ld\n", program, flag, least);
    std::exit(1);
  }
  return value;
}

}  // namespace zerobus::bench
