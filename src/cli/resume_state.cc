#include "cli/resume_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

namespace zerobus::cli {
namespace {

std::string SystemError(const std::string &what, const std::string &path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Writes all of `bytes` to `fd`.
bool WriteAll(int fd, const std::string &bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string ResumeStatePath(const std::string &input) {
  return input + ".zerobus-resume";
}

bool LoadResumeState(const std::string &path, ResumeState *state, std::string *error) {
  error->clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT) *error = SystemError("cannot read", path);
    return false;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("stream_id") || !parsed["stream_id"].is_string() ||
      !parsed.contains("table") || !parsed["table"].is_string() ||
      !parsed.contains("input_bytes") || !parsed["input_bytes"].is_number_unsigned()) {
    *error = path + " is not a resume state written by zerobus ingest --exactly-once";
    return false;
  }
  state->stream_id = parsed["stream_id"].get<std::string>();
  state->table = parsed["table"].get<std::string>();
  state->input_bytes = parsed["input_bytes"].get<uint64_t>();
  return true;
}

bool SaveResumeState(const std::string &path, const ResumeState &state, std::string *error) {
  const std::string text = nlohmann::json{{"stream_id", state.stream_id},
                                          {"table", state.table},
                                          {"input_bytes", state.input_bytes}}
                               .dump() +
                           "\n";
  const std::string partial = path + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = SystemError("cannot write", partial);
    return false;
  }
  const bool written = WriteAll(fd, text) && ::fsync(fd) == 0;
  if (!written) *error = SystemError("cannot write", partial);
  if (::close(fd) != 0 && written) *error = SystemError("cannot write", partial);
  if (!error->empty()) return false;
  if (::rename(partial.c_str(), path.c_str()) != 0) {
    *error = SystemError("cannot rename to", path);
    return false;
  }
  // The rename is durable once the directory is.
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    *error = SystemError("cannot sync the directory", directory);
    if (dir_fd >= 0) ::close(dir_fd);
    return false;
  }
  ::close(dir_fd);
  return true;
}

}  // namespace zerobus::cli
