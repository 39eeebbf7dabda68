// Waits for `zerobus serve --ready-file PATH`: the machine-readable sign that the server
// listens, with its addresses, for tests that start the command as a process.
#ifndef ZBTEST_READY_FILE_H
#define ZBTEST_READY_FILE_H

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace zbtest {

// The ready file at `path` parsed, once the server `pid` has written it: null, with a failure
// of the current test, when `timeout` passes first, the process ends first, or the file is not
// a JSON object. Reading an absent file is cheap, so it looks every 10 ms; the server writes
// the file whole by a rename, so a file that exists is complete.
nlohmann::json WaitForReadyFile(const std::string &path, pid_t pid,
                                std::chrono::milliseconds timeout);

}  // namespace zbtest

#endif  // ZBTEST_READY_FILE_H
