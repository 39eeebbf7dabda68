#include "zbtest_ready_file.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace zbtest {
namespace {

// Whether `pid` is still running: a process that ended but is not reaped yet is a zombie,
// which kill(pid, 0) does not tell apart.
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string fields;
  if (!std::getline(stat, fields)) return false;
  const size_t name_end = fields.rfind(')');
  return name_end != std::string::npos && name_end + 2 < fields.size() &&
         fields[name_end + 2] != 'Z';
}

}  // namespace

nlohmann::json ReadReadyFile(const std::string &path, pid_t pid, std::chrono::milliseconds timeout,
                             std::string *error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (std::ifstream file{path}) {
      std::stringstream text;
      text << file.rdbuf();
      nlohmann::json ready = nlohmann::json::parse(text.str(), nullptr, false);
      if (ready.is_object()) return ready;
      *error = "the ready file " + path + " is not a JSON object: " + text.str();
      return nullptr;
    }
    if (!Running(pid)) {
      *error = "zerobus serve ended before it wrote " + path;
      return nullptr;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *error =
          "zerobus serve wrote no " + path + " within " + std::to_string(timeout.count()) + " ms";
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace zbtest

bool zbtest_ready_file_grpc_url(const char *path, pid_t pid, int timeout_ms, char *url,
                                size_t url_size, char *error, size_t error_size) {
  std::string reason;
  const nlohmann::json ready =
      zbtest::ReadReadyFile(path, pid, std::chrono::milliseconds(timeout_ms), &reason);
  if (ready.is_object()) {
    const nlohmann::json::json_pointer where("/grpc/url");
    if (!ready.contains(where) || !ready.at(where).is_string()) {
      reason = "the ready file " + std::string(path) + " has no grpc.url: " + ready.dump();
    } else if (const std::string &grpc_url = ready.at(where).get_ref<const std::string &>();
               grpc_url.size() >= url_size) {
      reason = "the gRPC URL " + grpc_url + " does not fit";
    } else {
      std::snprintf(url, url_size, "%s", grpc_url.c_str());
      return true;
    }
  }
  std::snprintf(error, error_size, "%s", reason.c_str());
  return false;
}
