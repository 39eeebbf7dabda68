#include "core/config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace zerobus {
namespace {

TEST(Config, DefaultsMatchTheDescribedDefaults) {
  Config config;
  PropertyInfo property;
  std::set<std::string> names;
  for (size_t i = 0; Config::Describe(i, &property); ++i) {
    EXPECT_TRUE(names.insert(property.name).second) << property.name;
    std::string value;
    ASSERT_TRUE(config.Get(property.name, &value).ok());
    EXPECT_EQ(value, property.default_value) << property.name;
    EXPECT_TRUE(std::string(property.scope) == "sdk" || std::string(property.scope) == "stream");
    EXPECT_GT(std::string(property.description).size(), 20u);
  }
  EXPECT_GE(names.size(), 10u);
}

TEST(Config, UnknownKeyAndInvalidValueAreDistinct) {
  Config config;
  EXPECT_EQ(config.Set("no.such.key", "1").code(), StatusCode::kUnknownKey);
  Status invalid = config.Set("recovery.retries", "-3");
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidValue);
  EXPECT_NE(invalid.message().find("recovery.retries"), std::string::npos);
  EXPECT_EQ(config.Set("recovery.retries", "4x").code(), StatusCode::kInvalidValue);
  EXPECT_EQ(config.Set("recovery.retries", "").code(), StatusCode::kInvalidValue);
  EXPECT_EQ(config.Set("recovery.enable", "maybe").code(), StatusCode::kInvalidValue);
  EXPECT_EQ(config.Set("stream.max.request.bytes", "10485761").code(), StatusCode::kInvalidValue);
  EXPECT_EQ(config.Set("auth.token", "tab\there").code(), StatusCode::kInvalidValue);
  EXPECT_EQ(config.settings().recovery_retries, 4);
}

TEST(Config, SetValuesReadBackAndTokensStayHidden) {
  Config config;
  ASSERT_TRUE(config.Set("stream.ingest.timeout.ms", "-1").ok());
  ASSERT_TRUE(config.Set("recovery.enable", "false").ok());
  ASSERT_TRUE(config.Set("auth.token", "s3cret").ok());
  EXPECT_EQ(config.settings().ingest_timeout_ms, -1);
  EXPECT_FALSE(config.settings().recovery);
  EXPECT_EQ(config.settings().auth_token, "s3cret");
  std::string value;
  ASSERT_TRUE(config.Get("auth.token", &value).ok());
  EXPECT_EQ(value, "[hidden]");
  ASSERT_TRUE(config.Get("recovery.enable", &value).ok());
  EXPECT_EQ(value, "false");
}

}  // namespace
}  // namespace zerobus
