// The SDK's token cache (issue 21) as the streams use it, through TokenSource, against the
// token endpoint of a local server that counts the tokens it issues: a refused token is
// dropped and replaced once, and only that token; a proactive refresh that fails keeps the
// token that is still good.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/oauth.h"
#include "core/token_cache.h"
#include "server/server.h"

namespace zerobus {
namespace {

using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";

std::unique_ptr<server::Server> StartServer(std::chrono::seconds token_lifetime) {
  server::ServerOptions options;
  options.auth = server::ClientCredentials{"producer", "s3cret"};
  options.http_port = 0;
  options.token_lifetime = token_lifetime;
  std::string error;
  std::unique_ptr<server::Server> server = server::Server::Start(std::move(options), &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

OAuthClient Client(const server::Server &server, std::chrono::milliseconds refresh_margin) {
  OAuthClient client;
  client.workspace_url = server.workspace_url();
  client.workspace_id = "1";
  client.client_id = "producer";
  client.client_secret = "s3cret";
  client.refresh_margin = refresh_margin;
  return client;
}

// The lines a Logger wrote.
class Lines : public LogCallback {
 public:
  void Log(LogLevel, const char *, const char *message) const override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(message);
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::vector<std::string> lines_;
};

// What Get() gave.
struct Got {
  std::string token;
  bool fetched = false;
};

Got Get(TokenSource &source, bool refused) {
  Got got;
  const Status status = source.Get(refused, &got.token, &got.fetched);
  EXPECT_TRUE(status.ok()) << status.message();
  return got;
}

TEST(TokenCache, StreamsOfOneTableAndClientShareOneToken) {
  const std::unique_ptr<server::Server> server = StartServer(3600s);
  TokenCache cache;
  TokenSource a(Client(*server, 5min), kTable, {}, cache, Logger());
  TokenSource b(Client(*server, 5min), kTable, {}, cache, Logger());
  const Got first = Get(a, false);
  EXPECT_TRUE(first.fetched);
  const Got shared = Get(b, false);
  EXPECT_FALSE(shared.fetched);
  EXPECT_EQ(shared.token, first.token);
  EXPECT_EQ(server->tokens().issued(), 1);

  // Another table, another secret and another cache each have their own token.
  TokenSource other_table(Client(*server, 5min), "main.default.other", {}, cache, Logger());
  OAuthClient other_secret = Client(*server, 5min);
  other_secret.client_secret = "wrong";
  TokenSource wrong(std::move(other_secret), kTable, {}, cache, Logger());
  TokenCache other_cache;
  TokenSource other_sdk(Client(*server, 5min), kTable, {}, other_cache, Logger());
  EXPECT_TRUE(Get(other_table, false).fetched);
  std::string token;
  bool fetched = false;
  EXPECT_FALSE(wrong.Get(false, &token, &fetched).ok());
  EXPECT_TRUE(Get(other_sdk, false).fetched);
  EXPECT_EQ(server->tokens().issued(), 3);
  EXPECT_EQ(Get(b, false).token, first.token);
}

TEST(TokenCache, ARefusedTokenIsDroppedOnceAndANewerOneStays) {
  const std::unique_ptr<server::Server> server = StartServer(3600s);
  TokenCache cache;
  TokenSource a(Client(*server, 5min), kTable, {}, cache, Logger());
  TokenSource b(Client(*server, 5min), kTable, {}, cache, Logger());
  const Got first = Get(a, false);
  EXPECT_EQ(Get(b, false).token, first.token);

  // The server refused a's token: it is dropped and replaced.
  const Got second = Get(a, /*refused=*/true);
  EXPECT_TRUE(second.fetched);
  EXPECT_NE(second.token, first.token);
  EXPECT_EQ(server->tokens().issued(), 2);
  // b was refused the same first token: the newer one stays, without a request.
  const Got replaced = Get(b, /*refused=*/true);
  EXPECT_FALSE(replaced.fetched);
  EXPECT_EQ(replaced.token, second.token);
  EXPECT_EQ(server->tokens().issued(), 2);
  // Refused that one too: now it goes.
  const Got third = Get(b, /*refused=*/true);
  EXPECT_TRUE(third.fetched);
  EXPECT_NE(third.token, second.token);
  EXPECT_EQ(Get(a, false).token, third.token);
  EXPECT_EQ(server->tokens().issued(), 3);
}

TEST(TokenCache, AFailedProactiveRefreshKeepsTheTokenUntilItExpires) {
  // Tokens live 2 s; a margin of minutes is capped at half that: refreshed after 1 s.
  const std::unique_ptr<server::Server> server = StartServer(2s);
  TokenCache cache;
  const auto lines = std::make_shared<Lines>();
  TokenSource a(Client(*server, 10min), kTable, {}, cache, Logger(lines, LogLevel::kWarn));
  TokenSource b(Client(*server, 10min), kTable, {}, cache, Logger());
  const auto start = std::chrono::steady_clock::now();
  const Got first = Get(a, false);
  EXPECT_EQ(Get(b, false).token, first.token);

  // Within the margin: refreshed once, for both.
  std::this_thread::sleep_until(start + 1100ms);
  const auto refreshed_at = std::chrono::steady_clock::now();
  const Got second = Get(b, false);
  EXPECT_TRUE(second.fetched);
  EXPECT_NE(second.token, first.token);
  EXPECT_EQ(Get(a, false).token, second.token);
  EXPECT_EQ(server->tokens().issued(), 2);

  // Within the margin again, and the workspace is gone: the token is still good, and used.
  std::this_thread::sleep_until(refreshed_at + 1100ms);
  server->Stop();
  EXPECT_TRUE(lines->lines().empty());
  const Got kept = Get(a, false);
  EXPECT_FALSE(kept.fetched);
  EXPECT_EQ(kept.token, second.token);
  ASSERT_EQ(lines->lines().size(), 1u);
  EXPECT_NE(lines->lines()[0].find("could not renew the OAuth token for main.default.events"),
            std::string::npos)
      << lines->lines()[0];
  EXPECT_EQ(Get(b, false).token, second.token);

  // Once it has expired, nothing is left to give.
  std::this_thread::sleep_until(refreshed_at + 2100ms);
  std::string token;
  bool fetched = false;
  EXPECT_FALSE(a.Get(false, &token, &fetched).ok());
}

}  // namespace
}  // namespace zerobus
