#include "cli/directories.h"

#include <stdlib.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace zerobus::cli {

bool MakeDirectory(const std::string &path, std::string *error) {
  std::error_code code;
  std::filesystem::create_directories(path, code);
  if (code) {
    *error = "cannot create directory " + path + ": " + code.message();
    return false;
  }
  return true;
}

TemporaryDirectory::TemporaryDirectory() {
  const char *base = getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/zerobus-serve-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
}

TemporaryDirectory::~TemporaryDirectory() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace zerobus::cli
