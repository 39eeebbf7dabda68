// Directories the commands create: the data directory, and a temporary one when none is given.
#ifndef ZEROBUS_CLI_DIRECTORIES_H
#define ZEROBUS_CLI_DIRECTORIES_H

#include <string>

namespace zerobus::cli {

// Creates `path` and its parents unless they exist; false with the reason in `*error`.
bool MakeDirectory(const std::string &path, std::string *error);

// A new empty directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory &) = delete;
  TemporaryDirectory &operator=(const TemporaryDirectory &) = delete;

  // Empty when the directory could not be created.
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_DIRECTORIES_H
