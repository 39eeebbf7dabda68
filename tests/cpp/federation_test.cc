// Token federation (RFC 8693 token exchange) against a local server that trusts a test identity
// provider (secure_server.h with a federation key), through the public C API: the test is the
// identity provider, with an RSA key pair of its own, and signs the subject JWTs the callback
// hands the library.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "jose/jwt_signer.h"
#include "secure_server.h"
#include "server/oauth_token.h"
#include "server/server.h"
#include "server/subject_token_verifier.h"
#include "server/table_catalog.h"
#include "server/token_issuer.h"
#include "table/ddl_parser.h"
#include "zbtest_temp_dir.h"

namespace zbtest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool Contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// An identity provider: an RSA key pair, the public half in a PEM file for the server.
class IdentityProvider {
 public:
  IdentityProvider() {
    std::string public_pem;
    std::string why;
    EXPECT_TRUE(zerobus::jose::MakeRsaKeyPair(&private_pem_, &public_pem, &why)) << why;
    key_file_ = dir_.path() + "/idp.pem";
    std::ofstream(key_file_) << public_pem;
  }

  const std::string &key_file() const { return key_file_; }

  // An RS256 JWT for `subject` that expires `lifetime` from now (negative: already expired).
  std::string Sign(std::chrono::seconds lifetime) const {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const nlohmann::json claims = {{"iss", "https://idp.test"},
                                   {"sub", "workload-7"},
                                   {"aud", "databricks"},
                                   {"iat", now},
                                   {"exp", now + lifetime.count()}};
    std::string jwt;
    std::string why;
    EXPECT_TRUE(zerobus::jose::SignJwtRs256(private_pem_, claims, &jwt, &why)) << why;
    return jwt;
  }

 private:
  TempDir dir_;
  std::string private_pem_;
  std::string key_file_;
};

// What the callback does, what it gave, and how often it ran.
struct Federation {
  const IdentityProvider *provider = nullptr;
  std::chrono::seconds lifetime{600};
  zb_status result = ZB_OK;  // anything else: the callback fails
  bool give_token = true;
  std::string raw_token;  // given instead of a signed JWT when set; its status in sink_status
  std::atomic<zb_status> sink_status{ZB_OK};
  std::atomic<int> calls{0};
  std::atomic<int> freed{0};
  std::mutex mu;
  std::vector<std::string> given;
};

zb_status SupplySubjectToken(zb_token_sink *sink, void *user_data) {
  auto *federation = static_cast<Federation *>(user_data);
  ++federation->calls;
  if (federation->result != ZB_OK) return federation->result;
  if (!federation->give_token) return ZB_OK;
  if (!federation->raw_token.empty()) {
    federation->sink_status = zb_token_sink_set(sink, federation->raw_token.c_str(), nullptr);
    return ZB_OK;
  }
  const std::string jwt = federation->provider->Sign(federation->lifetime);
  {
    std::lock_guard<std::mutex> lock(federation->mu);
    federation->given.push_back(jwt);
  }
  return zb_token_sink_set(sink, jwt.c_str(), nullptr);
}

void CountFree(void *user_data) {
  ++static_cast<Federation *>(user_data)->freed;
}

// Every line the library logs, at debug level.
struct LogLines {
  std::mutex mu;
  std::vector<std::string> lines;

  // Whether any line contains `part`.
  bool Mention(const std::string &part) {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string &line : lines) {
      if (Contains(line, part)) return true;
    }
    return false;
  }
};

void KeepLine(zb_log_level, const char *component, const char *message, void *user_data) {
  auto *log = static_cast<LogLines *>(user_data);
  std::lock_guard<std::mutex> lock(log->mu);
  log->lines.push_back(std::string(component) + ": " + message);
}

// An SDK for `secure` that logs everything into `log`.
zerobus::Sdk LoggingSdk(SecureServer &secure, LogLines *log) {
  Options options = secure.SdkOptions();
  options.emplace_back("log.level", "debug");
  zerobus::Config config = MakeConfig(options);
  EXPECT_EQ(zb_config_set_log_callback(config.get(), KeepLine, log, nullptr, nullptr), ZB_OK);
  zb_sdk *sdk = nullptr;
  EXPECT_EQ(zb_sdk_new(secure.server().endpoint().c_str(), config.get(), &sdk, nullptr), ZB_OK);
  return zerobus::Sdk::adopt(sdk);
}

// No line of `log` quotes any subject token `federation` gave, nor its signature.
void ExpectNoSubjectLogged(LogLines *log, Federation *federation) {
  std::lock_guard<std::mutex> lock(federation->mu);
  for (const std::string &given : federation->given) {
    EXPECT_FALSE(log->Mention(given.substr(given.rfind('.') + 1)));
  }
}

// Opens a JSON stream into kTable whose credentials come from `federation`'s callback, with
// `options` besides.
Opened OpenFederated(zb_sdk *sdk, Federation *federation, const Options &options) {
  zerobus::Config config = MakeConfig(options);
  EXPECT_EQ(zb_config_set_token_federation(config.get(), SupplySubjectToken, federation, CountFree,
                                           nullptr),
            ZB_OK);
  zb_stream *stream = nullptr;
  zb_error *error = nullptr;
  Opened opened;
  opened.status =
      zb_stream_new(sdk, kTable, ZB_RECORD_JSON, nullptr, 0, config.get(), &stream, &error);
  opened.stream = zerobus::Stream::adopt(stream);
  opened.error = TakeError(error);
  return opened;
}

// The form the service expects of a token exchange (reference/official-3x.md §5), as the server
// received it: the client-credentials form's fields with grant_type token-exchange, the
// subject JWT the callback gave and its type, client_id only when configured, no HTTP Basic.
void ExpectExchangeForm(const zerobus::server::AnsweredTokenRequest &answered,
                        const std::string &subject, const std::string &client_id) {
  const zerobus::server::TokenRequest &request = answered.request;
  EXPECT_EQ(answered.http_status, 200) << answered.error;
  EXPECT_EQ(request.authorization, "");
  EXPECT_EQ(request.content_type, "application/x-www-form-urlencoded");
  std::multimap<std::string, std::string> expected = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
      {"subject_token", subject},
      {"subject_token_type", "urn:ietf:params:oauth:token-type:jwt"},
      {"scope", "all-apis"},
      {"resource", "api://databricks/workspaces/127/zerobusDirectWriteApi"},
      {"authorization_details", request.form.count("authorization_details") == 1
                                    ? request.form.find("authorization_details")->second
                                    : ""}};
  if (!client_id.empty()) expected.emplace("client_id", client_id);
  EXPECT_EQ(request.form, expected);
  const nlohmann::json details =
      nlohmann::json::parse(expected.find("authorization_details")->second, nullptr, false);
  ASSERT_TRUE(details.is_array() && details.size() == 3) << details.dump();
  EXPECT_EQ(details[2]["object_full_path"], kTable);
  EXPECT_EQ(details[2]["operations"], nlohmann::json::array({"zerobuswrite"}));
}

TEST(Federation, AnExchangedTokenIngestsAndTheFormIsTheServices) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Federation federation;
  federation.provider = &provider;
  {
    Opened opened = OpenFederated(sdk.get(), &federation, {});
    ASSERT_EQ(opened.status, ZB_OK) << opened.message();
    IngestJson(opened.stream.get(), 0, 50);
    FlushAndClose(opened.stream.get());
    EXPECT_EQ(Info(opened.stream.get()).records_acked, 50u);
  }
  EXPECT_EQ(secure.StoredIds().size(), 50u);
  EXPECT_EQ(federation.calls, 1);
  EXPECT_EQ(federation.freed, 1);
  const auto requests = secure.server().token_requests();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(federation.given.size(), 1u);
  // Account-level federation: no client id.
  ExpectExchangeForm(requests[0], federation.given[0], "");
}

// The SDK's token cache (issue 21): streams opened from one registration share one exchange,
// and so one call of the callback; another registration is another identity.
TEST(Federation, StreamsOfOneRegistrationShareOneExchange) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Federation federation;
  federation.provider = &provider;
  zerobus::Config config = MakeConfig({});
  ASSERT_EQ(zb_config_set_token_federation(config.get(), SupplySubjectToken, &federation, CountFree,
                                           nullptr),
            ZB_OK);
  std::vector<zerobus::Stream> streams;
  for (int i = 0; i < 16; ++i) {
    zb_stream *stream = nullptr;
    zb_error *error = nullptr;
    ASSERT_EQ(
        zb_stream_new(sdk.get(), kTable, ZB_RECORD_JSON, nullptr, 0, config.get(), &stream, &error),
        ZB_OK)
        << TakeError(error).message();
    streams.push_back(zerobus::Stream::adopt(stream));
    IngestJson(stream, i, 1);
  }
  for (zerobus::Stream &stream : streams) FlushAndClose(stream.get());
  EXPECT_EQ(federation.calls, 1);
  EXPECT_EQ(secure.server().tokens().issued(), 1);

  Federation other;
  other.provider = &provider;
  Opened opened = OpenFederated(sdk.get(), &other, {});
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  FlushAndClose(opened.stream.get());
  EXPECT_EQ(other.calls, 1);
  EXPECT_EQ(secure.server().tokens().issued(), 2);
  EXPECT_EQ(secure.StoredIds().size(), 16u);
}

TEST(Federation, WorkloadIdentityFederationNamesTheClient) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Federation federation;
  federation.provider = &provider;
  Opened opened = OpenFederated(sdk.get(), &federation, {{"auth.federation.client.id", kClientId}});
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 5);
  FlushAndClose(opened.stream.get());
  const auto requests = secure.server().token_requests();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(federation.given.size(), 1u);
  ExpectExchangeForm(requests[0], federation.given[0], kClientId);
}

TEST(Federation, ASubjectAboutToExpireIsReplacedByCallingTheCallbackAgain) {
  // Subject JWTs live 2 s and calls 3 s: every reconnection needs a new exchange, and so a new
  // subject token, although the server would issue tokens for an hour.
  IdentityProvider provider;
  SecureServer::Settings settings;
  settings.stream_lifetime = 3000ms;
  SecureServer secure(settings, provider.key_file());
  LogLines log;
  zerobus::Sdk sdk = LoggingSdk(secure, &log);
  Federation federation;
  federation.provider = &provider;
  federation.lifetime = 2s;
  Opened opened = OpenFederated(sdk.get(), &federation, {{"recovery.backoff.ms", "10"}});
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  zb_stream *stream = opened.stream.get();
  const int64_t ingested = IngestUntilRecoveries(stream, 2);
  FlushAndClose(stream);
  EXPECT_GE(Info(stream).recoveries, 2u);
  EXPECT_GE(federation.calls, 3);
  EXPECT_EQ(secure.server().tokens().issued(), federation.calls.load());
  EXPECT_GE(secure.StoredIds().size(), static_cast<size_t>(ingested));
  for (const auto &answered : secure.server().token_requests()) {
    EXPECT_EQ(answered.http_status, 200) << answered.error;
  }
  EXPECT_TRUE(log.Mention("obtained an OAuth token"));
  ExpectNoSubjectLogged(&log, &federation);
}

// Opens a federated stream that must fail with ZB_ERR_AUTH; its message, which, as the log,
// must not quote any subject token the callback gave.
std::string ExpectAuthFailure(SecureServer &secure, Federation *federation) {
  LogLines log;
  zerobus::Sdk sdk = LoggingSdk(secure, &log);
  Opened opened = OpenFederated(sdk.get(), federation, {{"recovery.retries", "0"}});
  EXPECT_EQ(opened.status, ZB_ERR_AUTH) << opened.message();
  EXPECT_TRUE(log.Mention("opening the stream failed"));
  ExpectNoSubjectLogged(&log, federation);
  std::lock_guard<std::mutex> lock(federation->mu);
  for (const std::string &given : federation->given) {
    EXPECT_FALSE(Contains(opened.message(), given)) << opened.message();
    // Nor its signature, the part no one but the provider could have made.
    EXPECT_FALSE(Contains(opened.message(), given.substr(given.rfind('.') + 1)))
        << opened.message();
  }
  return opened.message();
}

TEST(Federation, ASubjectSignedByAnotherKeyIsRefused) {
  IdentityProvider provider;
  IdentityProvider impostor;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  Federation federation;
  federation.provider = &impostor;
  const std::string message = ExpectAuthFailure(secure, &federation);
  EXPECT_TRUE(Contains(message, "signature is not the identity provider's")) << message;
  EXPECT_EQ(secure.server().tokens().issued(), 0);
}

TEST(Federation, AnExpiredSubjectIsRefused) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  Federation federation;
  federation.provider = &provider;
  federation.lifetime = -60s;
  const std::string message = ExpectAuthFailure(secure, &federation);
  EXPECT_TRUE(Contains(message, "expired")) << message;
  EXPECT_EQ(secure.server().tokens().issued(), 0);
}

TEST(Federation, AFailingCallbackOrOneWithoutATokenFailsTheAttempt) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  Federation failing;
  failing.provider = &provider;
  failing.result = ZB_ERR_INTERNAL;
  std::string message = ExpectAuthFailure(secure, &failing);
  EXPECT_TRUE(Contains(message, "token federation callback failed")) << message;
  EXPECT_TRUE(Contains(message, "ZB_ERR_INTERNAL")) << message;
  EXPECT_EQ(failing.freed, 1);

  Federation silent;
  silent.provider = &provider;
  silent.give_token = false;
  message = ExpectAuthFailure(secure, &silent);
  EXPECT_TRUE(Contains(message, "token federation callback gave no subject token")) << message;
  EXPECT_TRUE(secure.server().token_requests().empty());
}

TEST(Federation, FederationIsTheOnlySourceOfCredentials) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  for (const Options &other : std::vector<Options>{SecureServer::ClientOptions(),
                                                   {{"auth.client.secret", kClientSecret}},
                                                   {{"auth.token", "a-token"}}}) {
    Federation federation;
    federation.provider = &provider;
    Opened opened = OpenFederated(sdk.get(), &federation, other);
    EXPECT_EQ(opened.status, ZB_ERR_INVALID_ARG) << other[0].first;
    EXPECT_TRUE(Contains(opened.message(), "more than one source of credentials"))
        << opened.message();
    EXPECT_EQ(federation.calls, 0);
  }
  // Nor without a workspace to exchange the token at.
  zerobus::Sdk no_workspace = secure.NewSdk({{"tls.ca.file", secure.ca_file()}});
  Federation federation;
  federation.provider = &provider;
  Opened opened = OpenFederated(no_workspace.get(), &federation, {});
  EXPECT_EQ(opened.status, ZB_ERR_INVALID_ARG);
  EXPECT_TRUE(Contains(opened.message(), "token federation needs workspace.url"))
      << opened.message();
}

TEST(Federation, RegistrationsFreeTheirUserDataOnce) {
  Federation federation;
  zerobus::Config config = MakeConfig({});
  ASSERT_EQ(zb_config_set_token_federation(config.get(), SupplySubjectToken, &federation, CountFree,
                                           nullptr),
            ZB_OK);
  zb_config *copy = nullptr;
  ASSERT_EQ(zb_config_dup(config.get(), &copy, nullptr), ZB_OK);
  // Replaced in the original: the copy still holds the registration.
  ASSERT_EQ(zb_config_set_token_federation(config.get(), nullptr, nullptr, nullptr, nullptr),
            ZB_OK);
  EXPECT_EQ(federation.freed, 0);
  zb_config_destroy(copy);
  EXPECT_EQ(federation.freed, 1);
  // NULL cfg: the user_data stays the caller's.
  EXPECT_EQ(
      zb_config_set_token_federation(nullptr, SupplySubjectToken, &federation, CountFree, nullptr),
      ZB_ERR_INVALID_ARG);
  EXPECT_EQ(federation.freed, 1);
  EXPECT_EQ(federation.calls, 0);
}

TEST(Federation, TheSinkTakesPrintableTokensOnly) {
  IdentityProvider provider;
  SecureServer secure(SecureServer::Settings(), provider.key_file());
  Federation federation;
  federation.provider = &provider;
  federation.raw_token = "eyJh.eyJz\n.c2ln";
  const std::string message = ExpectAuthFailure(secure, &federation);
  EXPECT_EQ(federation.sink_status, ZB_ERR_INVALID_ARG);
  EXPECT_TRUE(Contains(message, "token federation callback gave no subject token")) << message;
  EXPECT_EQ(zb_token_sink_set(nullptr, "a.b.c", nullptr), ZB_ERR_INVALID_ARG);
}

// A server whose only credentials are an identity provider's still guards the Unity Catalog API
// and the admin endpoint: both want a workspace token, which a token exchange without
// authorization_details gives.
TEST(Federation, AFederationKeyAloneGuardsTheTableApiAndTheAdminEndpoint) {
  IdentityProvider provider;
  zerobus::server::ServerOptions options;
  options.federation_key_file = provider.key_file();
  options.http_port = 0;
  options.admin_port = 0;
  std::string error;
  ASSERT_TRUE(zerobus::table::ParseSchemaText(std::string(kTable) + " (id BIGINT)", &options.tables,
                                              &error))
      << error;
  const std::unique_ptr<zerobus::server::Server> server =
      zerobus::server::Server::Start(std::move(options), &error);
  ASSERT_NE(server, nullptr) << error;
  httplib::Client workspace("127.0.0.1", server->http_port());
  httplib::Client admin("127.0.0.1", server->admin_port());
  for (httplib::Client *client : {&workspace, &admin}) client->set_read_timeout(10, 0);
  const std::string table_path = std::string("/api/2.1/unity-catalog/tables/") + kTable;

  auto anonymous = workspace.Get(table_path);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto anonymous_admin = admin.Get("/admin/stats");
  ASSERT_TRUE(anonymous_admin);
  EXPECT_EQ(anonymous_admin->status, 401);

  auto exchanged = workspace.Post(
      "/oidc/v1/token",
      httplib::Params{{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
                      {"subject_token", provider.Sign(600s)},
                      {"subject_token_type", "urn:ietf:params:oauth:token-type:jwt"},
                      {"scope", "all-apis"}});
  ASSERT_TRUE(exchanged);
  ASSERT_EQ(exchanged->status, 200) << exchanged->body;
  const httplib::Headers bearer = {
      {"Authorization",
       "Bearer " + nlohmann::json::parse(exchanged->body)["access_token"].get<std::string>()}};
  auto allowed = workspace.Get(table_path, bearer);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200) << allowed->body;
  auto allowed_admin = admin.Get("/admin/stats", bearer);
  ASSERT_TRUE(allowed_admin);
  EXPECT_EQ(allowed_admin->status, 200) << allowed_admin->body;
  server->Stop();
}

// The token endpoint's answers to token exchanges it must refuse, and the lifetime of one it
// accepts, asked directly: a client that follows the protocol never sends most of these.
class TokenEndpoint : public ::testing::Test {
 protected:
  TokenEndpoint() {
    std::string why;
    verifier_ = zerobus::server::SubjectTokenVerifier::Load(provider_.key_file(), &why);
    EXPECT_NE(verifier_, nullptr) << why;
  }

  // The answer to a token exchange of `subject`, with `changes` applied to the form.
  zerobus::server::TokenReply Exchange(const std::string &subject,
                                       const std::map<std::string, std::string> &changes = {},
                                       const std::string &authorization = "",
                                       bool federation = true) {
    zerobus::server::TokenRequest request;
    request.authorization = authorization;
    request.content_type = "application/x-www-form-urlencoded";
    std::map<std::string, std::string> form = {
        {"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
        {"subject_token", subject},
        {"subject_token_type", "urn:ietf:params:oauth:token-type:jwt"},
        {"scope", "all-apis"}};
    for (const auto &[name, value] : changes) form[name] = value;
    request.form.insert(form.begin(), form.end());
    return zerobus::server::AnswerTokenRequest(
        zerobus::server::ClientCredentials{kClientId, kClientSecret},
        federation ? verifier_.get() : nullptr, request, tables_, std::chrono::seconds(3600),
        std::chrono::system_clock::now(), &issuer_);
  }

  IdentityProvider provider_;
  std::shared_ptr<const zerobus::server::SubjectTokenVerifier> verifier_;
  zerobus::server::TableCatalog tables_{{}, true};
  zerobus::server::TokenIssuer issuer_;
};

// `reply` is an OAuth error `error` whose description contains `part`.
void ExpectRefused(const zerobus::server::TokenReply &reply, int status, const std::string &error,
                   const std::string &part) {
  EXPECT_EQ(reply.http_status, status) << reply.body.dump();
  EXPECT_EQ(reply.body.value("error", ""), error) << reply.body.dump();
  EXPECT_TRUE(Contains(reply.body.value("error_description", ""), part)) << reply.body.dump();
}

TEST_F(TokenEndpoint, AcceptsAGoodSubjectForNoLongerThanItLives) {
  const zerobus::server::TokenReply reply = Exchange(provider_.Sign(90s));
  ASSERT_EQ(reply.http_status, 200) << reply.body.dump();
  EXPECT_LE(reply.body["expires_in"].get<int64_t>(), 90);
  EXPECT_GE(reply.body["expires_in"].get<int64_t>(), 88);
  EXPECT_EQ(issuer_.issued(), 1);
}

TEST_F(TokenEndpoint, RefusesWhatIsNotAGoodSubjectWithOAuthErrors) {
  const std::string good = provider_.Sign(600s);
  ExpectRefused(
      Exchange(good, {{"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"}}), 400,
      "invalid_request", "subject_token_type must be");
  ExpectRefused(Exchange("not-a-jwt"), 400, "invalid_request", "three segments");
  ExpectRefused(Exchange("e30.!!!.c2ln"), 400, "invalid_request", "claims are not");
  // The signature of another token: the claims were changed.
  const std::string other = provider_.Sign(601s);
  const std::string forged = good.substr(0, good.rfind('.')) + other.substr(other.rfind('.'));
  ExpectRefused(Exchange(forged), 400, "invalid_request", "signature is not");
  ExpectRefused(Exchange(provider_.Sign(-1s)), 400, "invalid_request", "expired");
  ExpectRefused(Exchange(""), 400, "invalid_request", "needs subject_token");
  ExpectRefused(Exchange(good, {{"client_id", "someone-else"}}), 401, "invalid_client",
                "unknown client_id");
  ExpectRefused(Exchange(good, {}, "Basic cDpz"), 400, "invalid_request", "no Authorization");
  ExpectRefused(Exchange(good, {}, "", /*federation=*/false), 400, "unsupported_grant_type",
                "no identity provider");
  EXPECT_EQ(issuer_.issued(), 0);
  // None of the answers quotes the subject.
  EXPECT_FALSE(Contains(Exchange(forged).body.dump(), forged.substr(forged.rfind('.') + 1)));
}

}  // namespace
}  // namespace zbtest
