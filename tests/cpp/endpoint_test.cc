#include "endpoint.h"

#include <gtest/gtest.h>

namespace zerobus {
namespace {

TEST(Endpoint, AcceptsHostsAndUrls) {
  Endpoint endpoint;
  ASSERT_TRUE(ParseEndpoint("1234.zerobus.us-west-2.cloud.databricks.com", &endpoint).ok());
  EXPECT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.target(), "1234.zerobus.us-west-2.cloud.databricks.com:443");
  ASSERT_TRUE(ParseEndpoint("https://example.com:8443/", &endpoint).ok());
  EXPECT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.target(), "example.com:8443");
  ASSERT_TRUE(ParseEndpoint("http://127.0.0.1:50051", &endpoint).ok());
  EXPECT_FALSE(endpoint.tls);
  EXPECT_EQ(endpoint.target(), "127.0.0.1:50051");
  ASSERT_TRUE(ParseEndpoint("http://[::1]:7000", &endpoint).ok());
  EXPECT_EQ(endpoint.target(), "[::1]:7000");
}

TEST(Endpoint, RejectsMalformedEndpoints) {
  Endpoint endpoint;
  for (const char *bad : {"", "https://", "http://:80", "host:", "host:0", "host:65536",
                          "host:12ab", "https://host/path", "user@host", "ho st", "[::1"}) {
    EXPECT_EQ(ParseEndpoint(bad, &endpoint).code(), ZB_ERR_INVALID_TARGET) << bad;
  }
}

TEST(Endpoint, TableNamesHaveThreeParts) {
  EXPECT_TRUE(CheckTableName("main.default.events").ok());
  EXPECT_TRUE(CheckTableName("c_1.s_2.T3").ok());
  for (const char *bad : {"", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a.b-x.c", "a.b.c d"}) {
    EXPECT_EQ(CheckTableName(bad).code(), ZB_ERR_INVALID_TARGET) << bad;
  }
}

}  // namespace
}  // namespace zerobus
