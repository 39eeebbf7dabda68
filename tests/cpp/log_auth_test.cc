// Logging with OAuth against a TLS server that demands tokens (secure_server.h), through the
// public C API: tokens obtained, kept and replaced are logged, and neither the client secret
// nor any token ever appears in a message, whatever the level.
#include <gtest/gtest.h>

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "secure_server.h"
#include "server/faults.h"
#include "server/http_listener.h"
#include "table/value_checks.h"

namespace zbtest {
namespace {

struct Message {
  zb_log_level level;
  std::string component;
  std::string text;
};

struct Log {
  std::mutex mu;
  std::vector<Message> messages;

  static void Receive(zb_log_level level, const char *component, const char *message,
                      void *user_data) {
    auto *log = static_cast<Log *>(user_data);
    std::lock_guard<std::mutex> lock(log->mu);
    log->messages.push_back({level, component, message});
  }

  bool Has(zb_log_level level, const std::string &component, const std::string &part) {
    std::lock_guard<std::mutex> lock(mu);
    for (const Message &message : messages) {
      if (message.level == level && message.component == component &&
          message.text.find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
};

// An SDK for `secure` logging every message into `log`.
zerobus::Sdk LoggingSdk(SecureServer &secure, Log *log) {
  zerobus::Config config = MakeConfig(secure.SdkOptions());
  EXPECT_EQ(zb_config_set(config.get(), "log.level", "debug", nullptr), ZB_OK);
  EXPECT_EQ(zb_config_set_log_callback(config.get(), Log::Receive, log, nullptr, nullptr), ZB_OK);
  zb_sdk *sdk = nullptr;
  EXPECT_EQ(zb_sdk_new(secure.server().endpoint().c_str(), config.get(), &sdk, nullptr), ZB_OK);
  return zerobus::Sdk::adopt(sdk);
}

Options WithFastRetries(Options options) {
  options.emplace_back("recovery.backoff.ms", "10");
  return options;
}

TEST(LogAuth, TokensAreLoggedButNeverTheirValueNorTheSecret) {
  SecureServer secure;
  Log log;
  {
    zerobus::Sdk sdk = LoggingSdk(secure, &log);
    Opened opened = OpenJson(sdk.get(), kTable, WithFastRetries(SecureServer::ClientOptions()));
    ASSERT_EQ(opened.status, ZB_OK) << opened.message();
    zb_stream *stream = opened.stream.get();
    IngestJson(stream, 0, 10);
    ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);

    // Broken once (the kept token serves the reconnection), then broken with the kept token
    // refused (a new one replaces it).
    zerobus::server::FaultPlan plan;
    plan.fail_after_records = 5;
    secure.server().faults().Set(kTable, plan);
    IngestJson(stream, 10, 10);
    ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
    plan.refuse_streams = 1;
    plan.refuse_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token revoked");
    secure.server().faults().Set(kTable, plan);
    IngestJson(stream, 20, 10);
    ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
    ASSERT_EQ(zb_stream_close(stream, 30000, nullptr), ZB_OK);
    EXPECT_EQ(secure.server().tokens().issued(), 2);

    // A wrong secret: the refusal is logged, without the secret.
    Options wrong = {{"auth.client.id", kClientId},
                     {"auth.client.secret", "wrong-secret-0815"},
                     {"recovery.retries", "0"}};
    Opened refused = OpenJson(sdk.get(), kTable, wrong);
    EXPECT_EQ(refused.status, ZB_ERR_AUTH);
  }

  EXPECT_TRUE(log.Has(ZB_LOG_INFO, "auth", "obtained an OAuth token"));
  EXPECT_TRUE(log.Has(ZB_LOG_DEBUG, "auth", "presenting the OAuth token obtained earlier"));
  EXPECT_TRUE(log.Has(ZB_LOG_WARN, "auth", "UNAUTHENTICATED"));
  EXPECT_TRUE(log.Has(ZB_LOG_WARN, "auth", "with a new OAuth token"));
  EXPECT_TRUE(log.Has(ZB_LOG_INFO, "auth", "obtained a new OAuth token, as the server refused"));
  EXPECT_TRUE(log.Has(ZB_LOG_WARN, "auth", "ZB_ERR_AUTH"));
  std::lock_guard<std::mutex> lock(log.mu);
  ASSERT_GT(log.messages.size(), 10u);
  for (const Message &message : log.messages) {
    EXPECT_EQ(message.text.find(kClientSecret), std::string::npos) << message.text;
    EXPECT_EQ(message.text.find("wrong-secret-0815"), std::string::npos) << message.text;
    // Every token the local server issues starts so.
    EXPECT_EQ(message.text.find("zbl_"), std::string::npos) << message.text;
  }
}

TEST(LogAuth, ATokenEndpointEchoingTheAuthorizationHeaderSeesItCutOut) {
  // This secret's base64 holds a '/', which the JSON reply escapes as "\/".
  constexpr char kEchoedSecret[] = "s3cr3t-~?-echo";
  const std::string basic =
      zerobus::table::EncodeBase64(std::string(kClientId) + ":" + kEchoedSecret);
  ASSERT_NE(basic.find('/'), std::string::npos) << basic;
  // The endpoint answers 401 with the Authorization header it received: as text, as text cut
  // by the client in the middle of the credentials, and in JSON.
  enum Echo { kText, kLongText, kJson };
  std::atomic<int> echo{kText};
  auto http = std::make_unique<httplib::Server>();
  http->Post(
      "/oidc/v1/token", [&echo](const httplib::Request &request, httplib::Response &response) {
        const std::string header = request.get_header_value("Authorization");
        std::string escaped;
        for (char c : header) escaped += c == '/' ? std::string("\\/") : std::string(1, c);
        response.status = 401;
        switch (echo.load()) {
          case kText:
            response.set_content("you sent " + header, "text/plain");
            break;
          case kLongText:
            response.set_content(std::string(490, '.') + header, "text/plain");
            break;
          default:
            response.set_content(
                R"({"error":"invalid_client","error_description":"you sent )" + escaped + "\"}",
                "application/json");
        }
      });
  std::string error;
  const std::unique_ptr<zerobus::server::HttpListener> listener =
      zerobus::server::HttpListener::Start(std::move(http), "127.0.0.1", 0, &error);
  ASSERT_NE(listener, nullptr) << error;

  Log log;
  {
    // The token request fails first: the gRPC endpoint is never reached.
    zerobus::Config config =
        MakeConfig({{"transport.plaintext", "true"},
                    {"workspace.url", "http://127.0.0.1:" + std::to_string(listener->port())},
                    {"log.level", "debug"}});
    ASSERT_EQ(zb_config_set_log_callback(config.get(), Log::Receive, &log, nullptr, nullptr),
              ZB_OK);
    zb_sdk *made = nullptr;
    ASSERT_EQ(zb_sdk_new("http://127.0.0.1:1", config.get(), &made, nullptr), ZB_OK);
    const zerobus::Sdk sdk = zerobus::Sdk::adopt(made);
    for (int variant : {kText, kLongText, kJson}) {
      echo = variant;
      Opened refused = OpenJson(sdk.get(), kTable,
                                {{"auth.client.id", kClientId},
                                 {"auth.client.secret", kEchoedSecret},
                                 {"recovery.retries", "0"}});
      ASSERT_EQ(refused.status, ZB_ERR_AUTH) << variant;
      const std::string message = refused.message();
      EXPECT_NE(
          message.find(variant == kLongText ? "....Basic [hidden]" : "you sent Basic [hidden]"),
          std::string::npos)
          << message;
      EXPECT_EQ(message.find(kEchoedSecret), std::string::npos) << message;
      EXPECT_EQ(message.find(basic.substr(16, 8)), std::string::npos) << message;
    }
  }
  std::lock_guard<std::mutex> lock(log.mu);
  ASSERT_FALSE(log.messages.empty());
  for (const Message &message : log.messages) {
    EXPECT_EQ(message.text.find(kEchoedSecret), std::string::npos) << message.text;
    // The credentials past the client id ("producer-sp:", 12 bytes, 16 base64 characters).
    EXPECT_EQ(message.text.find(basic.substr(16, 8)), std::string::npos) << message.text;
  }
}

}  // namespace
}  // namespace zbtest
