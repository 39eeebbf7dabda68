#include "core/endpoint.h"

#include <gtest/gtest.h>

namespace zerobus {
namespace {

TEST(Endpoint, AHostOrAnHttpsUrlMeansTls) {
  Endpoint endpoint;
  ASSERT_TRUE(
      ResolveEndpoint("1234.zerobus.us-west-2.cloud.databricks.com", "endpoint", false, &endpoint)
          .ok());
  EXPECT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.target(), "1234.zerobus.us-west-2.cloud.databricks.com:443");
  EXPECT_EQ(endpoint.workspace_id, "1234");
  ASSERT_TRUE(ResolveEndpoint("https://example.com:8443/", "endpoint", false, &endpoint).ok());
  EXPECT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.target(), "example.com:8443");
  EXPECT_EQ(endpoint.base_url(), "https://example.com:8443");
  EXPECT_EQ(endpoint.workspace_id, "example");
  ASSERT_TRUE(ResolveEndpoint("[::1]:7000", "endpoint", false, &endpoint).ok());
  EXPECT_EQ(endpoint.target(), "[::1]:7000");
}

TEST(Endpoint, PlaintextOnlyWhenAskedFor) {
  Endpoint endpoint;
  Status refused = ResolveEndpoint("http://127.0.0.1:50051", "endpoint", false, &endpoint);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidTarget);
  EXPECT_NE(refused.message().find("transport.plaintext=true"), std::string::npos)
      << refused.message();
  ASSERT_TRUE(ResolveEndpoint("http://127.0.0.1:50051", "endpoint", true, &endpoint).ok());
  EXPECT_FALSE(endpoint.tls);
  EXPECT_EQ(endpoint.target(), "127.0.0.1:50051");
  EXPECT_EQ(endpoint.base_url(), "http://127.0.0.1:50051");
  ASSERT_TRUE(ResolveEndpoint("localhost", "endpoint", true, &endpoint).ok());
  EXPECT_FALSE(endpoint.tls);
  EXPECT_EQ(endpoint.port, 80);
  Status contradiction = ResolveEndpoint("https://host", "workspace.url", true, &endpoint);
  EXPECT_EQ(contradiction.code(), StatusCode::kInvalidTarget);
  EXPECT_NE(contradiction.message().find("workspace.url"), std::string::npos);
}

TEST(Endpoint, RejectsMalformedEndpoints) {
  Endpoint endpoint;
  for (const char *bad : {"", "https://", "http://:80", "host:", "host:0", "host:65536",
                          "host:12ab", "https://host/path", "user@host", "ho st", "[::1", "a..b",
                          ".host", "host.", "https://host?x=1"}) {
    EXPECT_EQ(ResolveEndpoint(bad, "endpoint", true, &endpoint).code(), StatusCode::kInvalidTarget)
        << bad;
  }
}

TEST(Endpoint, TableNamesHaveThreeParts) {
  EXPECT_TRUE(CheckTableName("main.default.events").ok());
  EXPECT_TRUE(CheckTableName("c_1.s_2.T3").ok());
  for (const char *bad : {"", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a.b-x.c", "a.b.c d"}) {
    EXPECT_EQ(CheckTableName(bad).code(), StatusCode::kInvalidTarget) << bad;
  }
}

}  // namespace
}  // namespace zerobus
