// zb_schema_fetch() against a local server run as a workspace runs it (TLS, OAuth): the table's
// description read from Unity Catalog with a workspace token, a stream opened from it that
// ingests JSON, and each refusal reported with its code and the server's message.
#include <zerobus/zerobus.h>

#include <string>

#include <gtest/gtest.h>

#include "secure_server.h"

namespace {

using zbtest::kTable;
using zbtest::Options;
using zbtest::SecureServer;

// What zb_schema_fetch() returned.
struct Fetched {
  zb_status status = ZB_OK;
  zerobus::Schema schema = zerobus::Schema::adopt(nullptr);
  zerobus::Error error = zbtest::TakeError(nullptr);
  const std::string &message() const { return error.message(); }
};

Fetched Fetch(zb_sdk *sdk, const char *table, const Options &options) {
  zerobus::Config config = zbtest::MakeConfig(options);
  zb_schema *schema = nullptr;
  zb_error *error = nullptr;
  Fetched fetched;
  fetched.status = zb_schema_fetch(sdk, table, config.get(), &schema, &error);
  fetched.schema = zerobus::Schema::adopt(schema);
  fetched.error = zbtest::TakeError(error);
  return fetched;
}

TEST(SchemaFetch, ClientCredentialsReadTheTableAndItsStreamIngestsJson) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Fetched fetched = Fetch(sdk.get(), kTable, SecureServer::ClientOptions());
  ASSERT_EQ(fetched.status, ZB_OK) << fetched.message();
  const std::string source = zb_schema_proto_source(fetched.schema.get());
  EXPECT_NE(source.find("optional int64 id = 1;"), std::string::npos) << source;
  EXPECT_NE(source.find("optional string msg = 2;"), std::string::npos) << source;

  zerobus::Config config = zbtest::MakeConfig(SecureServer::ClientOptions());
  zb_stream *raw_stream = nullptr;
  zb_error *error = nullptr;
  ASSERT_EQ(
      zb_stream_new_from_schema(sdk.get(), fetched.schema.get(), config.get(), &raw_stream, &error),
      ZB_OK)
      << zbtest::TakeError(error).message();
  const zerobus::Stream stream = zerobus::Stream::adopt(raw_stream);
  for (int id = 0; id < 3; ++id) {
    const std::string record = "{\"id\": " + std::to_string(id) + ", \"msg\": \"fetched\"}";
    ASSERT_EQ(zb_stream_ingest_json(stream.get(), record.data(), record.size(), nullptr, nullptr),
              ZB_OK);
  }
  EXPECT_EQ(zb_stream_close(stream.get(), 30000, nullptr), ZB_OK);
  EXPECT_EQ(secure.StoredIds(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(SchemaFetch, RefusalsCarryTheirCodesAndTheServersMessage) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Fetched missing = Fetch(sdk.get(), "main.default.missing", SecureServer::ClientOptions());
  EXPECT_EQ(missing.status, ZB_ERR_INVALID_TARGET) << missing.message();
  EXPECT_NE(missing.message().find("HTTP 404"), std::string::npos) << missing.message();

  Fetched anonymous = Fetch(sdk.get(), kTable, {});
  EXPECT_EQ(anonymous.status, ZB_ERR_AUTH) << anonymous.message();

  Fetched wrong = Fetch(sdk.get(), kTable,
                        {{"auth.client.id", zbtest::kClientId}, {"auth.client.secret", "wrong"}});
  EXPECT_EQ(wrong.status, ZB_ERR_AUTH) << wrong.message();
  EXPECT_FALSE(wrong.error.retryable());
  EXPECT_EQ(wrong.message().find("wrong"), std::string::npos) << "the secret leaked";

  Fetched malformed = Fetch(sdk.get(), "not-a-table", SecureServer::ClientOptions());
  EXPECT_EQ(malformed.status, ZB_ERR_INVALID_TARGET) << malformed.message();

  // Without workspace.url there is nowhere to ask.
  zerobus::Sdk bare = secure.NewSdk({{"tls.ca.file", secure.ca_file()}});
  Fetched nowhere = Fetch(bare.get(), kTable, SecureServer::ClientOptions());
  EXPECT_EQ(nowhere.status, ZB_ERR_INVALID_ARG) << nowhere.message();
  EXPECT_NE(nowhere.message().find("workspace.url"), std::string::npos);
}

}  // namespace
