#include "core/config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace zerobus {
namespace {

TEST(Config, DefaultsMatchTheDescribedDefaults) {
  Config config;
  zb_config_property property = ZB_CONFIG_PROPERTY_INIT;
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
  EXPECT_EQ(config.Set("no.such.key", "1").code(), ZB_ERR_UNKNOWN_KEY);
  Status invalid = config.Set("recovery.retries", "-3");
  EXPECT_EQ(invalid.code(), ZB_ERR_INVALID_VALUE);
  EXPECT_NE(invalid.message().find("recovery.retries"), std::string::npos);
  EXPECT_EQ(config.Set("recovery.retries", "4x").code(), ZB_ERR_INVALID_VALUE);
  EXPECT_EQ(config.Set("recovery.retries", "").code(), ZB_ERR_INVALID_VALUE);
  EXPECT_EQ(config.Set("recovery.enable", "maybe").code(), ZB_ERR_INVALID_VALUE);
  EXPECT_EQ(config.Set("stream.max.request.bytes", "10485761").code(), ZB_ERR_INVALID_VALUE);
  EXPECT_EQ(config.Set("auth.token", "tab\there").code(), ZB_ERR_INVALID_VALUE);
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

TEST(Config, DescribeWritesOnlyWhatTheCallerHasRoomFor) {
  struct OldProperty {
    uint32_t struct_size;
    const char *name;
    const char *type;
  };
  OldProperty old = {sizeof(OldProperty), nullptr, nullptr};
  const char *sentinel = "untouched";
  struct {
    OldProperty property;
    const char *after;
  } guarded = {old, sentinel};
  ASSERT_TRUE(Config::Describe(0, reinterpret_cast<zb_config_property *>(&guarded.property)));
  EXPECT_NE(guarded.property.name, nullptr);
  EXPECT_EQ(guarded.after, sentinel);
}

}  // namespace
}  // namespace zerobus
