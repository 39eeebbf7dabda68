// Mutual TLS and the server-name override against a local server that requires client
// certificates on its gRPC and its workspace side (secure_server.h), through the public C API:
// the right certificate, none, one from another authority, PEM text, the SDK's checks of the
// tls.* keys, and the name a server certificate is checked against.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "secure_server.h"
#include "zbtest_temp_dir.h"

namespace zbtest {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

Options Join(Options a, const Options &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string ReadText(const std::string &path) {
  std::string text;
  std::string error;
  EXPECT_TRUE(zerobus::server::ReadTextFile(path, &text, &error)) << error;
  return text;
}

// Fail at once rather than after recovery's default backoff.
const Options kNoRetry = {{"recovery.retries", "0"}};

SecureServer::Settings RequiringClientCertificates() {
  SecureServer::Settings settings;
  settings.require_client_certificate = true;
  return settings;
}

// Opens a stream with client credentials (a token request over HTTPS, then the gRPC stream),
// ingests `count` records from `first` and closes it; fails the test on any error.
void IngestWithClientCredentials(const zerobus::Sdk &sdk, int64_t first, int64_t count) {
  Opened opened = OpenJson(sdk.get(), kTable, SecureServer::ClientOptions());
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), first, count);
  zb_error *error = nullptr;
  EXPECT_EQ(zb_stream_close(opened.stream.get(), 30000, &error), ZB_OK) << zb_error_message(error);
  zb_error_free(error);
}

std::vector<int64_t> Range(int64_t first, int64_t count) {
  std::vector<int64_t> ids;
  for (int64_t id = first; id < first + count; ++id) ids.push_back(id);
  return ids;
}

// What the server's two sides say to `sdk`: the token request's failure, and the gRPC
// stream's with a token the server issued.
struct Refusals {
  Opened token;
  Opened grpc;
};

Refusals Refused(SecureServer &secure, const zerobus::Sdk &sdk) {
  Refusals refusals;
  refusals.token = OpenJson(sdk.get(), kTable, Join(SecureServer::ClientOptions(), kNoRetry));
  const std::string token = secure.server().tokens().Issue(kTable, 3600s);
  refusals.grpc = OpenJson(
      sdk.get(), kTable, Join({{"auth.token", token}, {"recovery.timeout.ms", "5000"}}, kNoRetry));
  return refusals;
}

TEST(Mtls, AClientCertificateOpensTheTokenRequestAndTheStream) {
  SecureServer secure(RequiringClientCertificates());
  zerobus::Sdk sdk =
      secure.NewSdk(Join(secure.SdkOptions(), {{"tls.cert.file", secure.client_cert_file()},
                                               {"tls.key.file", secure.client_key_file()}}));
  IngestWithClientCredentials(sdk, 0, 50);
  EXPECT_EQ(secure.server().tokens().issued(), 1);
  EXPECT_EQ(secure.StoredIds(), Range(0, 50));

  // The same certificate and key as PEM text.
  zerobus::Sdk from_text = secure.NewSdk(
      Join(secure.SdkOptions(), {{"tls.cert.pem", ReadText(secure.client_cert_file())},
                                 {"tls.key.pem", ReadText(secure.client_key_file())}}));
  IngestWithClientCredentials(from_text, 50, 50);
  EXPECT_EQ(secure.StoredIds(), Range(0, 100));
}

TEST(Mtls, WithoutAClientCertificateBothSidesRefuse) {
  SecureServer secure(RequiringClientCertificates());
  zerobus::Sdk sdk = secure.NewSdk(secure.SdkOptions());
  Refusals refused = Refused(secure, sdk);
  // Under TLS 1.3 the server checks the client's certificate after the client has finished its
  // side of the handshake: both clients see the connection closed (libcurl: "getpeername()
  // failed", gRPC: "Socket closed"), retryable.
  EXPECT_EQ(refused.token.status, ZB_ERR_AUTH) << refused.token.message();
  EXPECT_TRUE(refused.token.error.retryable());
  EXPECT_TRUE(Contains(refused.token.message(), "/oidc/v1/token failed"))
      << refused.token.message();
  // gRPC fails the handshake and reports UNAVAILABLE.
  EXPECT_EQ(refused.grpc.status, ZB_ERR_TRANSPORT) << refused.grpc.message();
  EXPECT_EQ(refused.grpc.error.grpc_status(), 14);
  // Neither says "certificate": the library adds that none is configured.
  for (const Opened *side : {&refused.token, &refused.grpc}) {
    EXPECT_TRUE(Contains(side->message(), "no client certificate is configured"))
        << side->message();
  }
  EXPECT_EQ(secure.server().tokens().issued(), 1);  // the one Refused() issued itself
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
}

TEST(Mtls, ACertificateFromAnotherAuthorityIsRefused) {
  SecureServer secure(RequiringClientCertificates());
  TempDir other_dir;
  zerobus::server::TlsFiles other;
  std::string error;
  ASSERT_TRUE(zerobus::server::EnsureSelfSignedCertificate(other_dir.path(), "", &other, &error))
      << error;
  zerobus::Sdk sdk =
      secure.NewSdk(Join(secure.SdkOptions(), {{"tls.cert.file", other.client_cert_file},
                                               {"tls.key.file", other.client_key_file}}));
  Refusals refused = Refused(secure, sdk);
  EXPECT_EQ(refused.token.status, ZB_ERR_AUTH) << refused.token.message();
  EXPECT_TRUE(refused.token.error.retryable());
  EXPECT_EQ(refused.grpc.status, ZB_ERR_TRANSPORT) << refused.grpc.message();
  EXPECT_EQ(refused.grpc.error.grpc_status(), 14);
  for (const Opened *side : {&refused.token, &refused.grpc}) {
    EXPECT_FALSE(Contains(side->message(), "no client certificate")) << side->message();
  }
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
}

TEST(Mtls, TheServerNameOverrideIsWhatTheCertificateIsCheckedAgainst) {
  SecureServer::Settings settings;
  settings.server_names = "DNS:ingest.zerobus.test";
  SecureServer secure(settings);
  // Reached at 127.0.0.1, a certificate for another name is refused...
  zerobus::Sdk by_address = secure.NewSdk(secure.SdkOptions());
  Refusals refused = Refused(secure, by_address);
  EXPECT_EQ(refused.token.status, ZB_ERR_AUTH) << refused.token.message();
  EXPECT_TRUE(Contains(refused.token.message(), "certificate")) << refused.token.message();
  EXPECT_EQ(refused.grpc.status, ZB_ERR_TRANSPORT) << refused.grpc.message();
  // ...and a wrong override too...
  zerobus::Sdk wrong =
      secure.NewSdk(Join(secure.SdkOptions(), {{"tls.server.name", "other.zerobus.test"}}));
  refused = Refused(secure, wrong);
  EXPECT_EQ(refused.token.status, ZB_ERR_AUTH) << refused.token.message();
  EXPECT_TRUE(Contains(refused.token.message(), "other.zerobus.test")) << refused.token.message();
  EXPECT_EQ(refused.grpc.status, ZB_ERR_TRANSPORT) << refused.grpc.message();
  EXPECT_TRUE(Contains(refused.grpc.message(), "other.zerobus.test")) << refused.grpc.message();
  EXPECT_EQ(secure.server().total_stats().streams_opened, 0);
  // ...while the certificate's name is accepted, on both sides.
  zerobus::Sdk named =
      secure.NewSdk(Join(secure.SdkOptions(), {{"tls.server.name", "ingest.zerobus.test"}}));
  IngestWithClientCredentials(named, 0, 20);
  EXPECT_EQ(secure.StoredIds(), Range(0, 20));
}

TEST(Mtls, TheSdkChecksTheTlsKeysWhenItIsCreated) {
  SecureServer secure(RequiringClientCertificates());
  const std::string key_text = ReadText(secure.client_key_file());
  struct Case {
    Options options;
    const char *says;
  } cases[] = {
      {{{"tls.cert.file", secure.client_cert_file()}}, "without tls.key.file"},
      {{{"tls.key.pem", key_text}}, "without tls.cert.file"},
      {{{"tls.cert.file", "/nonexistent/client.pem"}, {"tls.key.file", secure.client_key_file()}},
       "cannot read tls.cert.file '/nonexistent/client.pem'"},
      {{{"tls.cert.file", secure.client_cert_file()}, {"tls.key.file", "/dev/null"}},
       "tls.key.file holds no PEM"},
      // A key where the certificate belongs: its text is not quoted.
      {{{"tls.cert.pem", key_text}, {"tls.key.file", secure.client_key_file()}},
       "tls.cert.pem holds no PEM"},
      {{{"tls.cert.file", secure.client_cert_file()}, {"tls.key.pem", "s3cr3t-k3y"}},
       "tls.key.pem holds no PEM"},
  };
  for (const Case &c : cases) {
    zerobus::Config config = MakeConfig(c.options);
    zb_sdk *raw = nullptr;
    zb_error *error = nullptr;
    EXPECT_EQ(zb_sdk_new(secure.server().endpoint().c_str(), config.get(), &raw, &error),
              ZB_ERR_INVALID_VALUE);
    const std::string message = zb_error_message(error);
    EXPECT_TRUE(Contains(message, c.says)) << message;
    EXPECT_FALSE(Contains(message, "PRIVATE KEY-----\n")) << message;
    EXPECT_FALSE(Contains(message, "s3cr3t")) << message;
    EXPECT_EQ(raw, nullptr);
    zb_error_free(error);
  }

  // The key text reads back hidden and is not echoed when refused.
  zerobus::Config config = MakeConfig({{"tls.key.pem", key_text}});
  char value[64];
  size_t length = sizeof value;
  ASSERT_EQ(zb_config_get(config.get(), "tls.key.pem", value, &length, nullptr), ZB_OK);
  EXPECT_EQ(std::string(value), "[hidden]");
  zb_error *error = nullptr;
  EXPECT_EQ(zb_config_set(config.get(), "tls.key.pem", "s3cr3t\x01", &error), ZB_ERR_INVALID_VALUE);
  EXPECT_FALSE(Contains(zb_error_message(error), "s3cr3t")) << zb_error_message(error);
  zb_error_free(error);
  error = nullptr;
  EXPECT_EQ(zb_config_set(config.get(), "tls.server.name", "two words", &error),
            ZB_ERR_INVALID_VALUE);
  EXPECT_TRUE(Contains(zb_error_message(error), "tls.server.name")) << zb_error_message(error);
  zb_error_free(error);
  EXPECT_EQ(secure.server().tokens().issued(), 0);
}

}  // namespace
}  // namespace zbtest
