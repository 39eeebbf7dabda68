/* Reads `zerobus serve --ready-file PATH`: the machine-readable sign that the server listens,
 * with its addresses, for tests that start the command as a process. C tests get the gRPC URL;
 * C++ tests the whole object (GoogleTest programs: zbtest_serve.h). Both look for the file
 * every 10 ms until it exists, the process ends, or the time runs out: reading an absent file
 * is cheap, and the server writes the file whole by a rename, so a file that exists is
 * complete. Every function is thread-safe. */
#ifndef ZBTEST_READY_FILE_H
#define ZBTEST_READY_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace zbtest {

// The ready file at `path` parsed, once the server `pid` has written it; null, with the
// reason in `*error`, when `timeout` passes first, the process ends first, or the file is not
// a JSON object.
nlohmann::json ReadReadyFile(const std::string &path, pid_t pid, std::chrono::milliseconds timeout,
                             std::string *error);

}  // namespace zbtest

extern "C" {
#endif

/* Waits up to `timeout_ms` for the ready file at `path` of the server `pid` and copies its gRPC
 * URL ("http://HOST:PORT") into `url` (`url_size` bytes with the terminating NUL). Returns
 * false, with the reason in `error` (`error_size` bytes, truncated to fit), when the file does
 * not come, is malformed or has no gRPC URL, or the URL does not fit. */
bool zbtest_ready_file_grpc_url(const char *path, pid_t pid, int timeout_ms, char *url,
                                size_t url_size, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* ZBTEST_READY_FILE_H */
