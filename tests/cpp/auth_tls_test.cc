// Authentication and TLS against a local server that speaks TLS with a self-signed authority
// and demands OAuth tokens (secure_server.h), through the public C API: client credentials,
// their failures, token renewal, tokens for another table, trust, and plaintext.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "secure_server.h"

namespace zbtest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool Contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

Options Join(Options a, const Options &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<int64_t> Ids(int64_t count) {
  std::vector<int64_t> ids(count);
  for (int64_t i = 0; i < count; ++i) ids[i] = i;
  return ids;
}

// Every id below `count` is stored and no other: a replay after a broken call may store a
// record twice (at-least-once), but none is lost.
void ExpectAllStored(const std::vector<int64_t> &stored, int64_t count) {
  std::vector<bool> seen(count, false);
  for (int64_t id : stored) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, count);
    seen[id] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), false), 0);
}

// Fail at once rather than after recovery's default backoff.
const Options kNoRetry = {{"recovery.retries", "0"}};

TEST(AuthTls, ClientCredentialsAuthenticateAndIngest) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Opened opened = OpenJson(sdk.get(), kTable, SecureServer::ClientOptions());
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 200);
  FlushAndClose(opened.stream.get());
  EXPECT_EQ(secure.StoredIds(), Ids(200));
  EXPECT_EQ(secure.server().tokens().issued(), 1);
  // The library names itself to the server.
  const std::vector<std::string> log = secure.log();
  ASSERT_FALSE(log.empty());
  EXPECT_TRUE(
      Contains(log[0], " user_agent=libzerobus/" + std::string(zb_version_str()) + StackName()))
      << log[0];
}

// The lanes of one stream share its token: 64 lanes, one token request (issue 21).
TEST(AuthTls, SixtyFourLanesMakeOneTokenRequest) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Opened opened =
      OpenJson(sdk.get(), kTable, Join(SecureServer::ClientOptions(), {{"stream.lanes", "64"}}));
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 640);
  FlushAndClose(opened.stream.get());
  ExpectAllStored(secure.StoredIds(), 640);
  EXPECT_EQ(secure.server().tokens().issued(), 1);
  EXPECT_EQ(secure.server().token_requests().size(), 1u);
}

// What the service expects of the token request now (reference/official-3x.md §5), field by
// field, as the server received it over HTTPS; and the user-agent of the stream that followed.
TEST(AuthTls, TheTokenRequestCarriesExactlyWhatTheServiceExpects) {
  SecureServer secure;
  zerobus::Sdk sdk =
      secure.NewSdk(Join(secure.SdkOptions(), {{"sdk.application.name", "loader/3.2"}}));
  Opened opened = OpenJson(sdk.get(), kTable, SecureServer::ClientOptions());
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  const std::string user_agent = "libzerobus/" + std::string(zb_version_str()) + " loader/3.2";

  const auto requests = secure.server().token_requests();
  ASSERT_EQ(requests.size(), 1u);
  const zerobus::server::TokenRequest &request = requests[0].request;
  EXPECT_EQ(requests[0].http_status, 200);
  EXPECT_EQ(request.authorization, "Basic cHJvZHVjZXItc3A6czNjcjN0LWYwci10ZXN0cw==")
      << "base64 of " << kClientId << ":" << kClientSecret;
  EXPECT_EQ(request.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(request.user_agent, user_agent);
  const std::multimap<std::string, std::string> expected_fields = {
      {"grant_type", "client_credentials"},
      {"scope", "all-apis"},
      // The workspace id is the endpoint's first DNS label: "127" of 127.0.0.1.
      {"resource", "api://databricks/workspaces/127/zerobusDirectWriteApi"},
      {"authorization_details", request.form.count("authorization_details") == 1
                                    ? request.form.find("authorization_details")->second
                                    : ""}};
  EXPECT_EQ(request.form, expected_fields);
  const nlohmann::json details =
      nlohmann::json::parse(expected_fields.find("authorization_details")->second, nullptr, false);
  const nlohmann::json expected_details = nlohmann::json::parse(R"([
    {"type": "unity_catalog_privileges", "privileges": ["USE CATALOG"],
     "object_type": "CATALOG", "object_full_path": "main"},
    {"type": "unity_catalog_privileges", "privileges": ["USE SCHEMA"],
     "object_type": "SCHEMA", "object_full_path": "main.default"},
    {"type": "unity_catalog_privileges", "privileges": ["SELECT", "MODIFY"],
     "object_type": "TABLE", "object_full_path": "main.default.events",
     "operations": ["zerobuswrite"]}])");
  EXPECT_EQ(details, expected_details);

  // The stream's call names the library and the application first; gRPC adds its own name.
  const auto agents = secure.server().table_stats(kTable).user_agents;
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents.begin()->first.rfind(user_agent + StackName(), 0), 0u) << agents.begin()->first;
  EXPECT_EQ(agents.begin()->second, 1);
}

TEST(AuthTls, TheCustomAuthorityMayComeAsPemText) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(
      {{"workspace.url", secure.server().workspace_url()}, {"tls.ca.pem", secure.ca_pem()}});
  Opened opened = OpenJson(sdk.get(), kTable, SecureServer::ClientOptions());
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 10);
  FlushAndClose(opened.stream.get());
  EXPECT_EQ(secure.StoredIds(), Ids(10));
}

TEST(AuthTls, AWrongSecretFailsAtOnceWithTheServersMessage) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  const std::string wrong = "not-the-s3cr3t";
  const Clock::time_point start = Clock::now();
  // Recovery as configured by default: a non-retryable failure must not wait for it.
  Opened opened =
      OpenJson(sdk.get(), kTable, {{"auth.client.id", kClientId}, {"auth.client.secret", wrong}});
  EXPECT_LT(Clock::now() - start, 1500ms);
  ASSERT_EQ(opened.status, ZB_ERR_AUTH);
  EXPECT_EQ(opened.error.code(), ZB_ERR_AUTH);
  EXPECT_FALSE(opened.error.retryable());
  EXPECT_EQ(opened.error.grpc_status(), -1);
  const std::string message = opened.message();
  EXPECT_TRUE(Contains(message, "HTTP 401")) << message;
  EXPECT_TRUE(Contains(message, "invalid_client: unknown client id or wrong secret")) << message;
  EXPECT_FALSE(Contains(message, wrong)) << message;
  EXPECT_FALSE(Contains(message, kClientSecret)) << message;
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
}

TEST(AuthTls, SecretsNeverReadBack) {
  zerobus::Config config = MakeConfig(
      Join(SecureServer::ClientOptions(),
           {{"auth.token", "t0ken-value"}, {"proxy", "http://user:pr0xy-pass@127.0.0.1:3128"}}));
  zb_config_property property = ZB_CONFIG_PROPERTY_INIT;
  size_t keys = 0;
  for (; zb_config_describe(keys, &property, nullptr) == ZB_OK; ++keys) {
    char value[4096];
    size_t size = sizeof value;
    ASSERT_EQ(zb_config_get(config.get(), property.name, value, &size, nullptr), ZB_OK);
    for (const char *secret : {kClientSecret, "t0ken-value", "pr0xy-pass"}) {
      EXPECT_FALSE(Contains(value, secret)) << property.name;
      EXPECT_FALSE(Contains(property.default_value, secret)) << property.name;
      EXPECT_FALSE(Contains(property.description, secret)) << property.name;
    }
  }
  EXPECT_GT(keys, 20u);
  // A copy keeps the secrets hidden too, and still uses them.
  zb_config *raw_copy = nullptr;
  ASSERT_EQ(zb_config_dup(config.get(), &raw_copy, nullptr), ZB_OK);
  const zerobus::Config copy = zerobus::Config::adopt(raw_copy);
  char value[64];
  size_t size = sizeof value;
  ASSERT_EQ(zb_config_get(copy.get(), "auth.client.secret", value, &size, nullptr), ZB_OK);
  EXPECT_STREQ(value, "[hidden]");
}

TEST(AuthTls, AKeptTokenServesReconnectionsAndARefusedOneIsReplaced) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Opened opened = OpenJson(sdk.get(), kTable,
                           Join(SecureServer::ClientOptions(), {{"recovery.backoff.ms", "10"}}));
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  zb_stream *stream = opened.stream.get();
  IngestJson(stream, 0, 10);
  ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);

  // A broken call: the reconnection presents the token the stream already has.
  zerobus::server::FaultPlan plan;
  plan.fail_after_records = 5;
  secure.server().faults().Set(kTable, plan);
  IngestJson(stream, 10, 10);
  ASSERT_EQ(zb_stream_flush(stream, 30000, nullptr), ZB_OK);
  EXPECT_EQ(Info(stream).recoveries, 1u);
  EXPECT_EQ(secure.server().tokens().issued(), 1);

  // Broken again, and the server refuses the kept token: the stream gets a new one.
  plan.fail_after_records = 5;
  plan.refuse_streams = 1;
  plan.refuse_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token revoked");
  secure.server().faults().Set(kTable, plan);
  IngestJson(stream, 20, 10);
  FlushAndClose(stream);
  EXPECT_EQ(Info(stream).recoveries, 2u);
  EXPECT_EQ(secure.server().tokens().issued(), 2);
  ExpectAllStored(secure.StoredIds(), 30);
}

// The SDK keeps one token per table and credentials (issue 21): its 64 streams of one table,
// opened at once from 8 threads, make one token request; a stream of another table its own.
TEST(AuthTls, SixtyFourStreamsOfOneTableMakeOneTokenRequest) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  constexpr int kStreams = 64;
  std::vector<Opened> opened(kStreams);
  std::vector<std::thread> openers;
  for (int thread = 0; thread < 8; ++thread) {
    openers.emplace_back([&, thread] {
      for (int i = thread; i < kStreams; i += 8) {
        opened[i] = OpenJson(sdk.get(), kTable, SecureServer::ClientOptions());
      }
    });
  }
  for (std::thread &opener : openers) opener.join();
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_EQ(opened[i].status, ZB_OK) << opened[i].message();
    IngestJson(opened[i].stream.get(), i, 1);
  }
  for (Opened &stream : opened) FlushAndClose(stream.stream.get());
  ExpectAllStored(secure.StoredIds(), kStreams);
  EXPECT_EQ(secure.server().tokens().issued(), 1);

  // Another SDK has a cache of its own.
  zerobus::Sdk other = secure.NewSdk(secure.SdkOptions());
  Opened elsewhere = OpenJson(other.get(), kTable, SecureServer::ClientOptions());
  ASSERT_EQ(elsewhere.status, ZB_OK) << elsewhere.message();
  FlushAndClose(elsewhere.stream.get());
  EXPECT_EQ(secure.server().tokens().issued(), 2);
}

TEST(AuthTls, AnExpiringTokenIsRenewedWithoutLosingRecords) {
  // Tokens live 2 s and calls 3 s: each reconnection needs a token newer than the last.
  SecureServer secure({/*token_lifetime=*/2s, /*stream_lifetime=*/3000ms, /*server_names=*/"",
                       /*require_client_certificate=*/false});
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Opened opened = OpenJson(sdk.get(), kTable,
                           Join(SecureServer::ClientOptions(), {{"recovery.backoff.ms", "10"}}));
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  zb_stream *stream = opened.stream.get();
  const int64_t ingested = IngestUntilRecoveries(stream, 2);
  FlushAndClose(stream);
  EXPECT_GE(Info(stream).recoveries, 2u);
  EXPECT_GE(secure.server().tokens().issued(), 3);
  ExpectAllStored(secure.StoredIds(), ingested);
}

TEST(AuthTls, ATokenForAnotherTableIsRefused) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  const std::string other = secure.server().tokens().Issue("main.default.other", 3600s);
  Opened opened = OpenJson(sdk.get(), kTable, {{"auth.token", other}});
  ASSERT_EQ(opened.status, ZB_ERR_TRANSPORT) << opened.message();
  EXPECT_EQ(opened.error.grpc_status(), 7);  // PERMISSION_DENIED
  EXPECT_FALSE(opened.error.retryable());
  EXPECT_FALSE(Contains(opened.message(), other)) << opened.message();
  // A token request for a table the workspace does not have is refused as well.
  Opened missing = OpenJson(sdk.get(), "main.default.missing", SecureServer::ClientOptions());
  ASSERT_EQ(missing.status, ZB_ERR_AUTH) << missing.message();
  EXPECT_FALSE(missing.error.retryable());
  EXPECT_TRUE(Contains(missing.message(), "not authorized")) << missing.message();
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
}

TEST(AuthTls, TheSelfSignedCertificateNeedsTheCustomAuthority) {
  SecureServer secure;
  // The system's trust store does not know the local authority: neither the token request...
  zerobus::Sdk untrusting = secure.NewSdk({{"workspace.url", secure.server().workspace_url()}});
  Opened token = OpenJson(untrusting.get(), kTable, Join(SecureServer::ClientOptions(), kNoRetry));
  ASSERT_EQ(token.status, ZB_ERR_AUTH) << token.message();
  EXPECT_TRUE(Contains(token.message(), "certificate")) << token.message();
  EXPECT_TRUE(token.error.retryable());
  // ...nor the gRPC channel, with a valid token.
  const std::string good = secure.server().tokens().Issue(kTable, 3600s);
  Opened grpc = OpenJson(untrusting.get(), kTable, Join({{"auth.token", good}}, kNoRetry));
  ASSERT_EQ(grpc.status, ZB_ERR_TRANSPORT) << grpc.message();
  EXPECT_TRUE(Contains(grpc.message(), "certificate verify failed")) << grpc.message();
  EXPECT_EQ(grpc.error.grpc_status(), 14);  // UNAVAILABLE
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);

  // Trusting it, both work.
  zerobus::Sdk trusting = secure.NewSdk(secure.SdkOptions());
  Opened opened = OpenJson(trusting.get(), kTable, {{"auth.token", good}});
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 5);
  FlushAndClose(opened.stream.get());
  EXPECT_EQ(secure.StoredIds(), Ids(5));
}

TEST(AuthTls, PlaintextToATlsServerFailsClearly) {
  SecureServer secure;
  zerobus::Config config = MakeConfig({{"transport.plaintext", "true"}});
  zb_sdk *raw = nullptr;
  ASSERT_EQ(zb_sdk_new(secure.address().c_str(), config.get(), &raw, nullptr), ZB_OK);
  const zerobus::Sdk sdk = zerobus::Sdk::adopt(raw);
  const std::string good = secure.server().tokens().Issue(kTable, 3600s);
  Opened opened = OpenJson(sdk.get(), kTable, Join({{"auth.token", good}}, kNoRetry));
  ASSERT_EQ(opened.status, ZB_ERR_TRANSPORT) << opened.message();
  EXPECT_EQ(opened.error.grpc_status(), 14);  // UNAVAILABLE
  EXPECT_TRUE(Contains(opened.message(), "transport.plaintext")) << opened.message();
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
}

TEST(AuthTls, ConfigurationMistakesAreReportedBeforeAnyRequest) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  struct Case {
    Options options;
    const char *table;
    zb_status expected;
    const char *says;
  } cases[] = {
      {{{"auth.client.id", kClientId}}, kTable, ZB_ERR_INVALID_ARG, "go together"},
      {{{"auth.client.secret", kClientSecret}}, kTable, ZB_ERR_INVALID_ARG, "go together"},
      {Join(SecureServer::ClientOptions(), {{"auth.token", "t"}}), kTable, ZB_ERR_INVALID_ARG,
       "more than one source"},
      {SecureServer::ClientOptions(), "main.events", ZB_ERR_INVALID_TARGET, "three"},
      {SecureServer::ClientOptions(), "main.default.bad-name", ZB_ERR_INVALID_TARGET, "letters"},
  };
  for (const Case &c : cases) {
    Opened opened = OpenJson(sdk.get(), c.table, c.options);
    EXPECT_EQ(opened.status, c.expected) << opened.message();
    EXPECT_TRUE(Contains(opened.message(), c.says)) << opened.message();
    EXPECT_FALSE(Contains(opened.message(), kClientSecret)) << opened.message();
  }
  // Client credentials without a workspace to ask.
  zerobus::Sdk no_workspace = secure.NewSdk({{"tls.ca.file", secure.ca_file()}});
  Opened opened = OpenJson(no_workspace.get(), kTable, SecureServer::ClientOptions());
  EXPECT_EQ(opened.status, ZB_ERR_INVALID_ARG);
  EXPECT_TRUE(Contains(opened.message(), "workspace.url")) << opened.message();
  // An authority file that cannot be read, or holds no certificate.
  for (const std::string &file : {std::string("/nonexistent/ca.pem"), std::string("/dev/null")}) {
    zerobus::Config config = MakeConfig({{"tls.ca.file", file}});
    zb_sdk *raw = nullptr;
    zb_error *error = nullptr;
    EXPECT_EQ(zb_sdk_new(secure.server().endpoint().c_str(), config.get(), &raw, &error),
              ZB_ERR_INVALID_VALUE);
    EXPECT_TRUE(Contains(zb_error_message(error), "tls.ca.file")) << zb_error_message(error);
    EXPECT_EQ(raw, nullptr);
    zb_error_free(error);
  }
  EXPECT_EQ(secure.server().tokens().issued(), 0);
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
}

TEST(AuthTls, AnUnreachableTokenEndpointIsRetryable) {
  SecureServer secure;
  // A port nothing listens on: where the server's gRPC side was before it stopped.
  std::string closed_url;
  {
    SecureServer gone;
    closed_url = gone.server().workspace_url();
  }
  zerobus::Sdk sdk =
      secure.NewSdk({{"workspace.url", closed_url}, {"tls.ca.file", secure.ca_file()}});
  Opened opened = OpenJson(sdk.get(), kTable, Join(SecureServer::ClientOptions(), kNoRetry));
  ASSERT_EQ(opened.status, ZB_ERR_AUTH) << opened.message();
  EXPECT_TRUE(opened.error.retryable());
  EXPECT_TRUE(Contains(opened.message(), closed_url)) << opened.message();
}

// A headers provider supplies the credentials itself; the library still adds what it did not.
struct ProviderState {
  std::string token;
  int calls = 0;
};

zb_status ProvideToken(zb_headers *headers, void *user_data) {
  auto *state = static_cast<ProviderState *>(user_data);
  ++state->calls;
  const std::string authorization = "Bearer " + state->token;
  return zb_headers_add(headers, "authorization", authorization.c_str(), nullptr);
}

TEST(AuthTls, AHeadersProviderMaySupplyTheToken) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  ProviderState state{secure.server().tokens().Issue(kTable, 3600s)};
  zerobus::Config config = MakeConfig({});
  ASSERT_EQ(zb_config_set_headers_provider(config.get(), ProvideToken, &state, nullptr, nullptr),
            ZB_OK);
  zb_stream *stream = nullptr;
  ASSERT_EQ(
      zb_stream_new(sdk.get(), kTable, ZB_RECORD_JSON, nullptr, 0, config.get(), &stream, nullptr),
      ZB_OK);
  const zerobus::Stream owned = zerobus::Stream::adopt(stream);
  IngestJson(stream, 0, 3);
  FlushAndClose(stream);
  EXPECT_EQ(state.calls, 1);
  EXPECT_EQ(secure.StoredIds(), Ids(3));
  const std::vector<std::string> log = secure.log();
  ASSERT_FALSE(log.empty());
  EXPECT_TRUE(Contains(log[0], " user_agent=libzerobus/")) << log[0];
}

// gRPC would replace a provider's user-agent with the channel's without a word: the attempt
// fails instead, pointing at the option that names the application, even when the provider
// pays no heed to what zb_headers_add() returned.
zb_status ProvideUserAgent(zb_headers *headers, void *) {
  zb_headers_add(headers, "user-agent", "my-app/2.0", nullptr);
  return ZB_OK;
}

TEST(AuthTls, AHeadersProviderCannotSetTheUserAgent) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  zerobus::Config config = MakeConfig(kNoRetry);
  ASSERT_EQ(
      zb_config_set_headers_provider(config.get(), ProvideUserAgent, nullptr, nullptr, nullptr),
      ZB_OK);
  zb_stream *stream = nullptr;
  zb_error *raw_error = nullptr;
  EXPECT_EQ(zb_stream_new(sdk.get(), kTable, ZB_RECORD_JSON, nullptr, 0, config.get(), &stream,
                          &raw_error),
            ZB_ERR_AUTH);
  const zerobus::Error error = TakeError(raw_error);
  EXPECT_EQ(stream, nullptr);
  EXPECT_EQ(error.code(), ZB_ERR_AUTH);
  EXPECT_TRUE(Contains(error.message(), "sdk.application.name")) << error.message();
}

// Counts the provider's calls in progress, to see that they never overlap.
struct SerialState {
  std::string token;
  std::atomic<int> in_progress{0};
  std::atomic<int> most_at_once{0};
  std::atomic<int> calls{0};
};

zb_status ProvideSlowly(zb_headers *headers, void *user_data) {
  auto *state = static_cast<SerialState *>(user_data);
  const int now = ++state->in_progress;
  int most = state->most_at_once.load();
  while (now > most && !state->most_at_once.compare_exchange_weak(most, now)) {
  }
  ++state->calls;
  // Long enough for the other streams' attempts to arrive meanwhile.
  std::this_thread::sleep_for(20ms);
  const std::string authorization = "Bearer " + state->token;
  const zb_status status = zb_headers_add(headers, "authorization", authorization.c_str(), nullptr);
  --state->in_progress;
  return status;
}

TEST(AuthTls, AHeadersProviderSharedByStreamsIsCalledOneAtATime) {
  SecureServer secure;
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  SerialState state;
  state.token = secure.server().tokens().Issue(kTable, 3600s);
  zerobus::Config config = MakeConfig({});
  ASSERT_EQ(zb_config_set_headers_provider(config.get(), ProvideSlowly, &state, nullptr, nullptr),
            ZB_OK);
  constexpr int kStreams = 4;
  std::vector<zb_stream *> streams(kStreams, nullptr);
  std::vector<std::thread> openers;
  for (int i = 0; i < kStreams; ++i) {
    openers.emplace_back([&, i] {
      zb_stream_new(sdk.get(), kTable, ZB_RECORD_JSON, nullptr, 0, config.get(), &streams[i],
                    nullptr);
    });
  }
  for (std::thread &opener : openers) opener.join();
  for (zb_stream *stream : streams) {
    ASSERT_NE(stream, nullptr);
    const zerobus::Stream owned = zerobus::Stream::adopt(stream);
    IngestJson(stream, 0, 1);
    FlushAndClose(stream);
  }
  EXPECT_EQ(state.calls, kStreams);
  EXPECT_EQ(state.most_at_once, 1);
}

TEST(AuthTls, ConnectionSetupIsBoundedByTheConnectTimeout) {
  // A listener that never accepts: TCP connects (the kernel queues it) and the TLS handshake
  // never gets an answer.
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
  ASSERT_EQ(listen(silent, 16), 0);
  ASSERT_EQ(getsockname(silent, reinterpret_cast<sockaddr *>(&address), &length), 0);
  const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  zerobus::Config config = MakeConfig({{"grpc.connect.timeout.ms", "300"}});
  zb_sdk *raw = nullptr;
  ASSERT_EQ(zb_sdk_new(endpoint.c_str(), config.get(), &raw, nullptr), ZB_OK);
  const zerobus::Sdk sdk = zerobus::Sdk::adopt(raw);
  const Clock::time_point start = Clock::now();
  Opened opened =
      OpenJson(sdk.get(), kTable,
               {{"auth.token", "t"}, {"recovery.retries", "0"}, {"recovery.timeout.ms", "20000"}});
  // Well before recovery.timeout.ms: the connection attempt gave up, not the stream.
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(opened.status, ZB_ERR_TRANSPORT) << opened.message();
  EXPECT_TRUE(opened.error.retryable());
  close(silent);
}

}  // namespace
}  // namespace zbtest
