// A fresh directory per test, removed with its contents when the test is done.
#ifndef ZBTEST_TEMP_DIR_H
#define ZBTEST_TEMP_DIR_H

#include <string>

namespace zbtest {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zbtest

#endif  // ZBTEST_TEMP_DIR_H
