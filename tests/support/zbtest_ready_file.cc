#include "zbtest_ready_file.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

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

nlohmann::json WaitForReadyFile(const std::string &path, pid_t pid,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (std::ifstream file{path}) {
      std::stringstream text;
      text << file.rdbuf();
      nlohmann::json ready = nlohmann::json::parse(text.str(), nullptr, false);
      if (!ready.is_object()) {
        ADD_FAILURE() << "the ready file " << path << " is not a JSON object: " << text.str();
        return nullptr;
      }
      return ready;
    }
    if (!Running(pid)) {
      ADD_FAILURE() << "zerobus serve ended before it wrote " << path;
      return nullptr;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "zerobus serve wrote no " << path << " within " << timeout.count() << " ms";
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace zbtest
