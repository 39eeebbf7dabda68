#include "zbtest_serve.h"

#include <utility>

#include <gtest/gtest.h>

#include "zbtest_ready_file.h"

namespace zbtest {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> WithReadyFile(std::vector<std::string> argv, const std::string &path) {
  argv.push_back("--ready-file");
  argv.push_back(path);
  return argv;
}

}  // namespace

nlohmann::json WaitForReadyFile(const std::string &path, pid_t pid,
                                std::chrono::milliseconds timeout) {
  std::string error;
  nlohmann::json ready = ReadReadyFile(path, pid, timeout, &error);
  if (ready.is_null()) ADD_FAILURE() << error;
  return ready;
}

Serve::Serve(std::vector<std::string> argv)
    : child_(WithReadyFile(std::move(argv), dir_.path() + "/ready.json")),
      ready_(WaitForReadyFile(dir_.path() + "/ready.json", child_.pid(), 10s)) {}

int Serve::port(const std::string &side) const {
  const nlohmann::json::json_pointer where("/" + side + "/port");
  return ready_.contains(where) && ready_.at(where).is_number_integer()
             ? ready_.at(where).get<int>()
             : 0;
}

std::string Serve::url(const std::string &side) const {
  const nlohmann::json::json_pointer where("/" + side + "/url");
  return ready_.contains(where) && ready_.at(where).is_string()
             ? ready_.at(where).get<std::string>()
             : "";
}

}  // namespace zbtest
