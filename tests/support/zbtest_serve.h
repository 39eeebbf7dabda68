// `zerobus serve` as a process in GoogleTest programs, found by its ready file
// (--ready-file) and never by its log: WaitForReadyFile for a test that names the file itself,
// and Serve for one that only wants a server and its addresses.
#ifndef ZBTEST_SERVE_H
#define ZBTEST_SERVE_H

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "zbtest_child.h"
#include "zbtest_temp_dir.h"

namespace zbtest {

// The ready file at `path` parsed, once the server `pid` has written it: null, with a failure
// of the current test, when `timeout` passes first, the process ends first, or the file is not
// a JSON object (see zbtest_ready_file.h).
nlohmann::json WaitForReadyFile(const std::string &path, pid_t pid,
                                std::chrono::milliseconds timeout);

class Serve {
 public:
  // Runs `argv`, a `zerobus serve` command line (possibly behind env(1), which keeps the
  // process), with a --ready-file of its own appended, and waits up to 10 s for that file;
  // when it does not come the current test fails, ready() is null and every port 0.
  explicit Serve(std::vector<std::string> argv);

  Child &child() { return child_; }
  // The ready file's object: {"pid", "grpc", "http", "admin", "data_dir"}.
  const nlohmann::json &ready() const { return ready_; }
  // The port and URL of `side` ("grpc", "http" or "admin"); 0 and "" when not ready.
  int port(const std::string &side) const;
  std::string url(const std::string &side) const;

 private:
  TempDir dir_;  // holds the ready file; outlives the child
  Child child_;
  nlohmann::json ready_;
};

}  // namespace zbtest

#endif  // ZBTEST_SERVE_H
