// The parts of authentication and proxying that need no network: proxy choice from the
// environment, the OAuth token request's form, the reading of token replies, and the
// configuration keys that hold secrets.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/headers.h"
#include "core/oauth.h"
#include "core/proxy.h"
#include "core/user_agent.h"
#include "core/version.h"
#include "table/value_checks.h"

namespace zerobus {
namespace {

using nlohmann::json;

// An environment of exactly these variables.
Environment Env(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const char *name) -> const char * {
    auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  };
}

std::string Proxy(std::string_view setting, std::string_view host, const Environment &env) {
  std::string url;
  Status chosen = ChooseProxy(setting, host, env, &url);
  EXPECT_TRUE(chosen.ok()) << chosen.message();
  return url;
}

TEST(Proxy, TheFirstVariableSetWinsLowerCaseFirst) {
  EXPECT_EQ(Proxy("", "h.example.com", Env({})), "");
  EXPECT_EQ(Proxy("", "h", Env({{"HTTP_PROXY", "p1:8080"}})), "http://p1:8080");
  EXPECT_EQ(Proxy("", "h", Env({{"HTTP_PROXY", "p1:8080"}, {"http_proxy", "http://p2:3128/"}})),
            "http://p2:3128");
  EXPECT_EQ(Proxy("", "h", Env({{"http_proxy", "p2:1"}, {"HTTPS_PROXY", "p3:2"}})), "http://p3:2");
  EXPECT_EQ(Proxy("", "h", Env({{"https_proxy", "p3:2"}, {"GRPC_PROXY", "p4:3"}})), "http://p4:3");
  EXPECT_EQ(Proxy("", "h", Env({{"GRPC_PROXY", "p4:3"}, {"grpc_proxy", "p5"}})), "http://p5:80");
  // Empty values do not count.
  EXPECT_EQ(Proxy("", "h", Env({{"grpc_proxy", ""}, {"https_proxy", "p3:2"}})), "http://p3:2");
}

TEST(Proxy, NoProxyListsBypassHostsAndTheirSubdomains) {
  const auto env = [](const char *no_proxy_variable, const char *list) {
    return Env({{"https_proxy", "proxy:3128"}, {no_proxy_variable, list}});
  };
  EXPECT_EQ(Proxy("", "example.com", env("no_proxy", "example.com")), "");
  EXPECT_EQ(Proxy("", "a.b.example.com", env("NO_PROXY", " other, .example.com ")), "");
  EXPECT_EQ(Proxy("", "notexample.com", env("no_proxy", "example.com")), "http://proxy:3128");
  EXPECT_EQ(Proxy("", "EXAMPLE.com", env("no_grpc_proxy", "example.COM")), "");
  EXPECT_EQ(Proxy("", "anything", env("NO_GRPC_PROXY", "*")), "");
  EXPECT_EQ(Proxy("", "127.0.0.1", env("no_proxy", "localhost,127.0.0.1")), "");
  // The first non-empty list is the only one read.
  EXPECT_EQ(
      Proxy(
          "", "a.com",
          Env({{"https_proxy", "proxy:3128"}, {"no_grpc_proxy", "b.com"}, {"no_proxy", "a.com"}})),
      "http://proxy:3128");
}

TEST(Proxy, TheOptionOverridesTheEnvironment) {
  const Environment env = Env({{"https_proxy", "envproxy:1"}, {"no_proxy", "h"}});
  EXPECT_EQ(Proxy("direct", "x", env), "");
  EXPECT_EQ(Proxy("http://user:pa%40ss@optproxy:9/", "h", env), "http://user:pa%40ss@optproxy:9");
}

TEST(Proxy, BadProxyUrlsAreErrorsThatKeepTheirCredentials) {
  std::string url;
  Status bad = ChooseProxy("", "h", Env({{"HTTPS_PROXY", "http://u:s3cr3t@proxy:99999"}}), &url);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidTarget);
  EXPECT_NE(bad.message().find("HTTPS_PROXY"), std::string::npos) << bad.message();
  EXPECT_EQ(bad.message().find("s3cr3t"), std::string::npos) << bad.message();
  EXPECT_EQ(ChooseProxy("https://proxy:1", "h", Env({}), &url).code(), StatusCode::kInvalidTarget);
  // However malformed, no part of the URL is quoted: the password may sit where a host or a
  // port was expected.
  for (const char *malformed :
       {"http://u:s3cr3t", "http://u:s3cr3t:proxy:1", "u:s3cr3t@", "http://u:s3cr3t@",
        "socks5://u:s3cr3t@proxy:1", "http://u:s3cr3t@pro xy:1", "http://u:s3cr3t@[::1",
        "http://proxy:1/u:s3cr3t", "http://u:s3cr3t#@"}) {
    Status refused = ChooseProxy(malformed, "h", Env({}), &url);
    EXPECT_EQ(refused.code(), StatusCode::kInvalidTarget) << malformed;
    EXPECT_EQ(refused.message().find("s3cr3t"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("the proxy option"), std::string::npos) << refused.message();
  }
  EXPECT_EQ(RedactProxy("http://u:s3cr3t@proxy:1"), "http://[hidden]@proxy:1");
  EXPECT_EQ(RedactProxy("u:s3cr3t@proxy:1"), "[hidden]@proxy:1");
  EXPECT_EQ(RedactProxy("proxy:1"), "proxy:1");
}

TEST(OAuth, TheTokenRequestGrantsTheTableAndNamesTheWorkspace) {
  const auto form = TokenRequestForm("6051921418418893", "main.sales.orders");
  ASSERT_EQ(form.size(), 4u);
  EXPECT_EQ(form[0], std::make_pair(std::string("grant_type"), std::string("client_credentials")));
  EXPECT_EQ(form[1], std::make_pair(std::string("scope"), std::string("all-apis")));
  EXPECT_EQ(form[2].first, "resource");
  EXPECT_EQ(form[2].second, "api://databricks/workspaces/6051921418418893/zerobusDirectWriteApi");
  EXPECT_EQ(form[3].first, "authorization_details");
  const json expected = json::parse(R"([
    {"type": "unity_catalog_privileges", "privileges": ["USE CATALOG"],
     "object_type": "CATALOG", "object_full_path": "main"},
    {"type": "unity_catalog_privileges", "privileges": ["USE SCHEMA"],
     "object_type": "SCHEMA", "object_full_path": "main.sales"},
    {"type": "unity_catalog_privileges", "privileges": ["SELECT", "MODIFY"],
     "object_type": "TABLE", "object_full_path": "main.sales.orders",
     "operations": ["zerobuswrite"]}])");
  EXPECT_EQ(json::parse(form[3].second), expected);
  // Serialized compactly, as one form value.
  EXPECT_EQ(form[3].second.find('\n'), std::string::npos);
}

TEST(OAuth, RepliesAreClassified) {
  const std::string url = "https://ws/oidc/v1/token";
  IssuedToken token;
  ASSERT_TRUE(
      ParseTokenReply({200, R"({"access_token":"abc.def","expires_in":3600})"}, url, {"s"}, &token)
          .ok());
  EXPECT_EQ(token.access_token, "abc.def");
  EXPECT_EQ(token.lifetime.count(), 3600);

  Status client =
      ParseTokenReply({401, R"({"error":"invalid_client","error_description":"wrong secret"})"},
                      url, {"s3"}, &token);
  EXPECT_EQ(client.code(), StatusCode::kAuth);
  EXPECT_FALSE(client.retryable());
  EXPECT_NE(client.message().find("HTTP 401: invalid_client: wrong secret"), std::string::npos)
      << client.message();

  Status server = ParseTokenReply({503, "upstream unavailable"}, url, {"s3"}, &token);
  EXPECT_TRUE(server.retryable());
  EXPECT_NE(server.message().find("upstream unavailable"), std::string::npos);
  EXPECT_TRUE(ParseTokenReply({429, "{}"}, url, {"s3"}, &token).retryable());

  for (const char *bad : {"not json", "{}", R"({"access_token":""})", R"({"access_token":7})",
                          R"({"access_token":"two words"})"}) {
    Status parsed = ParseTokenReply({200, bad}, url, {"s3"}, &token);
    EXPECT_EQ(parsed.code(), StatusCode::kAuth) << bad;
    EXPECT_FALSE(parsed.retryable()) << bad;
  }
}

// A reply is quoted in part: a megabyte of error text, in JSON or not, and control characters
// that would forge a log line, never reach a message.
TEST(OAuth, ARefusalIsQuotedShortAndPrintable) {
  const std::string huge(1 << 20, 'x');
  IssuedToken token;
  for (const std::string &body :
       {R"({"error":")" + huge + R"("})", huge, std::string("bad\nI forged this line")}) {
    const Status refused = ParseTokenReply({400, body}, "https://ws", {"s"}, &token);
    EXPECT_EQ(refused.code(), StatusCode::kAuth);
    EXPECT_LT(refused.message().size(), 700u);
    EXPECT_EQ(refused.message().find('\n'), std::string::npos) << refused.message();
  }
}

// expires_in comes from the network: any number gives a lifetime in [0, kMaxTokenLifetime]
// without an overflow or an undefined conversion (UBSan checks both in the sanitizer build).
TEST(OAuth, AnyExpiresInGivesABoundedLifetime) {
  const std::string url = "https://ws/oidc/v1/token";
  struct Case {
    const char *expires_in;
    int64_t seconds;
  } cases[] = {
      {"3600", 3600},
      {"1.9", 1},
      {"86400", 86400},
      {"86401", kMaxTokenLifetime.count()},
      {"1e17", kMaxTokenLifetime.count()},
      {"1e300", kMaxTokenLifetime.count()},
      {"18446744073709551615", kMaxTokenLifetime.count()},
      {"-9223372036854775808", 0},
      {"-5", 0},
      {"-1e300", 0},
      {"0", 0},
      {"0.5", 0},
      {"\"3600\"", 0},
      {"null", 0},
  };
  for (const Case &c : cases) {
    IssuedToken token;
    const std::string body =
        std::string(R"({"access_token":"abc","expires_in":)") + c.expires_in + "}";
    ASSERT_TRUE(ParseTokenReply({200, body}, url, {"s"}, &token).ok()) << body;
    EXPECT_EQ(token.lifetime.count(), c.seconds) << body;
    EXPECT_EQ(token.access_token, "abc");
  }
  // JSON has no NaN or infinity: such a reply is not JSON, and no token.
  for (const char *not_json : {"NaN", "Infinity", "1e400"}) {
    IssuedToken token;
    const std::string body = std::string(R"({"access_token":"abc","expires_in":)") + not_json + "}";
    const Status parsed = ParseTokenReply({200, body}, url, {"s"}, &token);
    if (parsed.ok()) {
      EXPECT_LE(token.lifetime, kMaxTokenLifetime) << body;
    } else {
      EXPECT_EQ(parsed.code(), StatusCode::kAuth) << body;
    }
  }
}

TEST(OAuth, AnEchoedSecretIsCutOutOfTheMessage) {
  IssuedToken token;
  Status echoed = ParseTokenReply(
      {400, R"({"error":"invalid_request","error_description":"bad secret s3cr3t-value!"})"},
      "https://ws/oidc/v1/token", {"s3cr3t-value"}, &token);
  EXPECT_EQ(echoed.message().find("s3cr3t-value"), std::string::npos) << echoed.message();
  EXPECT_NE(echoed.message().find("bad secret [hidden]!"), std::string::npos) << echoed.message();
  // A secret that "[hidden]" itself contains is replaced once, not forever.
  EXPECT_NE(ParseTokenReply({400, "d"}, "u", {"d"}, &token).message().find("[hidden]"),
            std::string::npos);
}

TEST(OAuth, AnEchoedAuthorizationHeaderIsCutOutToo) {
  // The secret travels as HTTP Basic credentials, base64("id:secret"); this one's base64 holds
  // a '/', which a JSON encoder may escape as "\/".
  const std::string id = "client-id";
  const std::string secret = "s3cr3t/?/echo";
  const std::vector<std::string> forms = CredentialForms(id, secret);
  const std::string basic = zerobus::table::EncodeBase64(id + ":" + secret);
  ASSERT_NE(basic.find('/'), std::string::npos) << basic;
  EXPECT_EQ(forms[0], secret);
  EXPECT_EQ(basic.rfind(forms[1], 0), 0u);
  std::string escaped;
  for (char c : basic) escaped += c == '/' ? std::string("\\/") : std::string(1, c);
  const std::string bodies[] = {
      "you sent Authorization: Basic " + basic,
      // Longer than the client quotes, cut in the middle of the credentials.
      std::string(490, '.') + "Basic " + basic,
      R"({"error":"invalid_client","error_description":"you sent Basic )" + escaped + "\"}",
      "unpadded " + forms[1] + " and decoded " + id + ":" + secret,
  };
  // A secret that its own Basic credentials hold ("MDEy" is base64 of "012"): the credentials
  // are cut out whole, not around the secret.
  const std::vector<std::string> inside = CredentialForms("012", "MDEy");
  ASSERT_NE(inside[1].find("MDEy"), std::string::npos);
  IssuedToken none;
  const std::string cut =
      ParseTokenReply({401, "got " + inside[1]}, "https://ws", inside, &none).message();
  EXPECT_NE(cut.find("got [hidden]"), std::string::npos) << cut;
  EXPECT_EQ(cut.find(inside[1].substr(4)), std::string::npos) << cut;
  for (const std::string &body : bodies) {
    IssuedToken token;
    const Status refused = ParseTokenReply({401, body}, "https://ws/oidc/v1/token", forms, &token);
    EXPECT_EQ(refused.code(), StatusCode::kAuth);
    const std::string &message = refused.message();
    EXPECT_NE(message.find("[hidden]"), std::string::npos) << message;
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
    // Nor any 8 characters of the credentials that encode part of the secret.
    for (size_t at = 12; at + 8 <= forms[1].size(); ++at) {
      EXPECT_EQ(message.find(forms[1].substr(at, 8)), std::string::npos) << message;
    }
  }
}

TEST(Config, SecretsNeverReadBackNorAppearInErrors) {
  Config config;
  const std::string secret = "s3cr3t-\x01";
  Status invalid = config.Set("auth.client.secret", secret);
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidValue);
  EXPECT_EQ(invalid.message().find("s3cr3t"), std::string::npos) << invalid.message();
  ASSERT_TRUE(config.Set("auth.client.secret", "s3cr3t").ok());
  ASSERT_TRUE(config.Set("proxy", "http://user:pr0xy-pass@proxy:3128").ok());
  Status bad_proxy = config.Set("proxy", "http://user:pr0xy-pass@proxy:0");
  EXPECT_EQ(bad_proxy.message().find("pr0xy-pass"), std::string::npos) << bad_proxy.message();
  PropertyInfo property;
  for (size_t i = 0; Config::Describe(i, &property); ++i) {
    std::string value;
    ASSERT_TRUE(config.Get(property.name, &value).ok());
    EXPECT_EQ(value.find("s3cr3t"), std::string::npos) << property.name;
    EXPECT_EQ(value.find("pr0xy-pass"), std::string::npos) << property.name;
  }
  std::string shown;
  ASSERT_TRUE(config.Get("proxy", &shown).ok());
  EXPECT_EQ(shown, "http://[hidden]@proxy:3128");
  EXPECT_EQ(config.settings().client_secret, "s3cr3t");
}

TEST(Config, UrlAndPemValuesAreChecked) {
  Config config;
  EXPECT_TRUE(config.Set("workspace.url", "https://dbc-1.cloud.databricks.com/").ok());
  EXPECT_EQ(config.Set("workspace.url", "https://dbc-1/path").code(), StatusCode::kInvalidValue);
  EXPECT_TRUE(config.Set("tls.ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n").ok());
  EXPECT_EQ(config.Set("tls.ca.pem", "\x01").code(), StatusCode::kInvalidValue);
  EXPECT_TRUE(config.Set("proxy", "direct").ok());
  EXPECT_EQ(config.Set("proxy", "socks5://p:1").code(), StatusCode::kInvalidValue);
}

std::string Header(const Headers &headers, const std::string &name) {
  std::string value;
  int found = 0;
  for (const auto &[key, entry] : headers.entries) {
    if (key == name) {
      value = entry;
      ++found;
    }
  }
  EXPECT_LE(found, 1) << name;
  return value;
}

TEST(Headers, TheLibraryAddsTheTableUnlessTheProviderDid) {
  Headers headers;
  ASSERT_TRUE(CollectHeaders(nullptr, "t0k", "main.default.events", &headers).ok());
  EXPECT_EQ(headers.entries.size(), 2u);
  EXPECT_EQ(Header(headers, "authorization"), "Bearer t0k");
  EXPECT_EQ(Header(headers, "x-databricks-zerobus-table-name"), "main.default.events");
  // The user-agent names the library, on the channel (UserAgent()): the header the official
  // SDKs sent before is gone.
  EXPECT_EQ(Header(headers, "x-zerobus-sdk"), "");

  class NamingProvider : public HeadersProvider {
    StatusCode Provide(Headers *out) const override {
      AddHeader(out, "x-databricks-zerobus-table-name", "events");
      return StatusCode::kOk;
    }
  };
  const auto provider = std::make_shared<const NamingProvider>();
  Headers provided;
  ASSERT_TRUE(CollectHeaders(provider, "", "main.default.events", &provided).ok());
  EXPECT_EQ(Header(provided, "x-databricks-zerobus-table-name"), "events");
  EXPECT_EQ(Header(provided, "authorization"), "");
}

TEST(Headers, AProviderCannotSetTheUserAgentThatGrpcWouldReplace) {
  Headers headers;
  const Status refused = AddHeader(&headers, "user-agent", "my-app/1.0");
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArg);
  EXPECT_NE(refused.message().find("sdk.application.name"), std::string::npos) << refused.message();
  EXPECT_EQ(headers.rejected.code(), StatusCode::kInvalidArg);
  EXPECT_TRUE(headers.entries.empty());
}

TEST(UserAgent, TheLibraryComesFirstAndTheApplicationAfterASpace) {
  EXPECT_EQ(UserAgent(""), std::string("libzerobus/") + kVersionString);
  EXPECT_EQ(UserAgent("my-app/1.4 go/1.26"),
            std::string("libzerobus/") + kVersionString + " my-app/1.4 go/1.26");
}

TEST(Config, TheApplicationNameIsAHeaderValue) {
  Config config;
  EXPECT_EQ(config.settings().application_name, "");
  ASSERT_TRUE(config.Set("sdk.application.name", "ingest-job/2.1 (nightly)").ok());
  EXPECT_EQ(config.settings().application_name, "ingest-job/2.1 (nightly)");
  for (const std::string &bad :
       {std::string("line\nbreak"), std::string("tab\there"), std::string(" leading"),
        std::string("trailing "), std::string("caf\xc3\xa9"), std::string(513, 'a')}) {
    const Status refused = config.Set("sdk.application.name", bad);
    EXPECT_EQ(refused.code(), StatusCode::kInvalidValue) << bad;
    EXPECT_NE(refused.message().find("sdk.application.name"), std::string::npos);
  }
  EXPECT_TRUE(config.Set("sdk.application.name", std::string(512, 'a')).ok());
  ASSERT_TRUE(config.Set("sdk.application.name", "").ok());
  EXPECT_EQ(config.settings().application_name, "");
}

// A compact JWT with these claims; header and signature are never checked here.
std::string UnsignedJwt(const json &claims) {
  auto url = [](const std::string &bytes) {
    std::string text = table::EncodeBase64(bytes);
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (char &c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return text;
  };
  return url(R"({"alg":"RS256"})") + "." + url(claims.dump()) + "." + url("signature");
}

TEST(OAuth, AnExchangedTokenLivesNoLongerThanItsSubject) {
  using std::chrono::seconds;
  const auto now = std::chrono::system_clock::time_point(seconds(1'800'000'000));
  EXPECT_EQ(CapAtSubjectExpiry(seconds(3600), UnsignedJwt({{"exp", 1'800'000'090}}), now),
            seconds(90));
  // A subject that outlives the token caps nothing.
  EXPECT_EQ(CapAtSubjectExpiry(seconds(3600), UnsignedJwt({{"exp", 1'900'000'000}}), now),
            seconds(3600));
  // Expired: the token serves one attempt.
  EXPECT_EQ(CapAtSubjectExpiry(seconds(3600), UnsignedJwt({{"exp", 1'700'000'000}}), now),
            seconds(0));
  // No readable exp: the workspace's expires_in stands.
  for (const std::string &subject :
       {UnsignedJwt({{"sub", "x"}}), UnsignedJwt({{"exp", "soon"}}), std::string("opaque"),
        std::string("a.b.c"), UnsignedJwt({{"exp", 1e300}})}) {
    EXPECT_EQ(CapAtSubjectExpiry(seconds(3600), subject, now), seconds(3600)) << subject;
  }
}

TEST(OAuth, TheTokenExchangeFormIsTheClientCredentialsFormWithTheSubject) {
  auto form = TokenExchangeForm("1234", "main.default.events", "h.c.s", "sp-1");
  auto expected = TokenRequestForm("1234", "main.default.events");
  expected[0].second = "urn:ietf:params:oauth:grant-type:token-exchange";
  expected.emplace_back("subject_token", "h.c.s");
  expected.emplace_back("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
  expected.emplace_back("client_id", "sp-1");
  EXPECT_EQ(form, expected);
  expected.pop_back();
  EXPECT_EQ(TokenExchangeForm("1234", "main.default.events", "h.c.s", ""), expected);
}

}  // namespace
}  // namespace zerobus
