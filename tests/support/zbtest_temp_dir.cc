#include "zbtest_temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace zbtest {

TempDir::TempDir() {
  const std::string pattern = testing::TempDir() + "/zbtest-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  EXPECT_NE(mkdtemp(buffer.data()), nullptr) << pattern;
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace zbtest
