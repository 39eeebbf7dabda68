// TLS on both sides with a self-signed certificate made at start-up, and plaintext kept to
// loopback.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/loopback.h"
#include "server/server.h"
#include "server/tls_certificate.h"
#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"
#include "zbtest_temp_dir.h"

namespace {

using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using zerobus::server::TlsFiles;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";

std::string Read(const std::string &path) {
  std::string text;
  std::string error;
  EXPECT_TRUE(zerobus::server::ReadTextFile(path, &text, &error)) << error;
  return text;
}

// A client certificate's PEM files; empty: none.
struct ClientCertificate {
  std::string cert_file;
  std::string key_file;
};

// A TLS channel to 127.0.0.1:port that checks the certificate for `name` (a DNS name or the
// address itself). Connecting by address keeps gRPC's resolver out of the way: its c-ares
// lookups of "localhost" leak a few bytes that LeakSanitizer reports.
std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string &ca,
                                          const std::string &name = "127.0.0.1",
                                          const ClientCertificate &client = {}) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca.empty() ? "" : Read(ca);
  if (!client.cert_file.empty()) {
    ssl.pem_cert_chain = Read(client.cert_file);
    ssl.pem_private_key = Read(client.key_file);
  }
  grpc::ChannelArguments args;
  if (name != "127.0.0.1") args.SetSslTargetNameOverride(name);
  return grpc::CreateCustomChannel("ipv4:127.0.0.1:" + std::to_string(port),
                                   grpc::SslCredentials(ssl), args);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(
        zerobus::server::EnsureSelfSignedCertificate(dir_.path(), "127.0.0.1", &files_, &error))
        << error;
    ServerOptions options;
    options.tls_cert_file = files_.cert_file;
    options.tls_key_file = files_.key_file;
    options.http_port = 0;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  zbtest::TempDir dir_;
  TlsFiles files_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsTest, GrpcClientsTrustingTheAuthorityStreamByNameOrAddress) {
  EXPECT_EQ(server_->endpoint().rfind("https://127.0.0.1:", 0), 0u) << server_->endpoint();
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    RawStream stream(TlsChannel(server_->port(), files_.ca_file, host), 10s, {});
    ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "") << host;
    ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, "{}")));
    EXPECT_EQ(stream.ReadAck(), 0);
  }
}

TEST_F(TlsTest, PlaintextClientsAndUntrustingClientsAreTurnedAway) {
  RawStream plaintext(server_->port(), 5s);
  plaintext.Write(zbtest::CreateJson(kTable));
  EXPECT_EQ(plaintext.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  RawStream untrusting(TlsChannel(server_->port(), ""), 5s, {});
  untrusting.Write(zbtest::CreateJson(kTable));
  EXPECT_EQ(untrusting.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server_->total_stats().streams_opened, 0);
}

TEST_F(TlsTest, TheWorkspaceSideSpeaksHttpsWithTheSameCertificate) {
  EXPECT_EQ(server_->workspace_url().rfind("https://", 0), 0u);
  httplib::SSLClient trusting("localhost", server_->http_port());
  trusting.set_ca_cert_path(files_.ca_file.c_str());
  trusting.enable_server_certificate_verification(true);
  trusting.set_basic_auth("id", "secret");
  auto reply = trusting.Post("/oidc/v1/token", httplib::Params{{"grant_type", "client_credentials"},
                                                               {"scope", "all-apis"}});
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 200);

  // Trusting some other authority is not enough.
  zbtest::TempDir other_dir;
  TlsFiles other;
  std::string error;
  ASSERT_TRUE(zerobus::server::EnsureSelfSignedCertificate(other_dir.path(), "", &other, &error));
  httplib::SSLClient untrusting("localhost", server_->http_port());
  untrusting.set_ca_cert_path(other.ca_file.c_str());
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/api/2.1/unity-catalog/tables/a.b.c"));
}

TEST(TlsFiles, ASelfSignedPairIsMadeOnceAndThenReused) {
  zbtest::TempDir dir;
  TlsFiles first;
  TlsFiles second;
  std::string error;
  ASSERT_TRUE(zerobus::server::EnsureSelfSignedCertificate(dir.path(), "", &first, &error));
  const std::string ca = Read(first.ca_file);
  ASSERT_TRUE(zerobus::server::EnsureSelfSignedCertificate(dir.path(), "", &second, &error));
  EXPECT_EQ(Read(second.ca_file), ca);
  EXPECT_NE(Read(first.cert_file).find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(Read(first.key_file).find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(Read(first.client_cert_file).find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(Read(first.client_key_file).find("PRIVATE KEY"), std::string::npos);
}

// The permission bits of `path`, which must exist as a regular file (not a link).
mode_t FileMode(const std::string &path) {
  struct stat info;
  EXPECT_EQ(lstat(path.c_str(), &info), 0) << path;
  EXPECT_TRUE(S_ISREG(info.st_mode)) << path;
  return info.st_mode & 0777;
}

TEST(TlsFiles, TheKeyIsItsOwnersAloneFromItsCreationAndNoLinkIsFollowed) {
  zbtest::TempDir dir;
  // A link planted where the key goes, and a stale certificate: the pair is made anew without
  // writing through the link, and the key is never readable by others, not even for a moment
  // (a umask of 0 would otherwise leave it so until a later chmod).
  const std::string target = dir.path() + "/target";
  std::ofstream(target) << "untouched";
  ASSERT_EQ(symlink(target.c_str(), (dir.path() + "/key.pem").c_str()), 0);
  std::ofstream(dir.path() + "/cert.pem") << "stale";
  const mode_t umask_before = umask(0);
  TlsFiles files;
  std::string error;
  const bool made = zerobus::server::EnsureSelfSignedCertificate(dir.path(), "", &files, &error);
  umask(umask_before);
  ASSERT_TRUE(made) << error;
  EXPECT_EQ(FileMode(files.key_file), 0600u);
  EXPECT_EQ(FileMode(files.cert_file), 0644u);
  EXPECT_EQ(FileMode(files.ca_file), 0644u);
  EXPECT_NE(Read(files.key_file).find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(Read(files.cert_file).find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(Read(target), "untouched");
}

TEST(TlsPolicy, PlaintextIsRefusedOffLoopback) {
  ServerOptions options;
  options.host = "0.0.0.0";
  std::string error;
  EXPECT_EQ(Server::Start(std::move(options), &error), nullptr);
  EXPECT_NE(error.find("plaintext is allowed on loopback only"), std::string::npos) << error;

  ServerOptions half;
  half.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_EQ(Server::Start(std::move(half), &error), nullptr);
  EXPECT_NE(error.find("both a certificate and a key"), std::string::npos) << error;
}

TEST(TlsPolicy, LoopbackMeansEveryAddressTheHostResolvesTo) {
  for (const char *host :
       {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(zerobus::server::IsLoopbackHost(host)) << host;
  }
  // What a name looks like does not count: 127.evil.test is whatever DNS says (here nothing),
  // and 127.0.0.1.example.invalid no address at all.
  for (const char *host : {"127.evil.test", "127.0.0.1.example.invalid", "0.0.0.0", "::", "", "[]",
                           "10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1"}) {
    EXPECT_FALSE(zerobus::server::IsLoopbackHost(host)) << host;
  }
  // Plaintext is refused on such a host, on the gRPC side and the HTTP side alike, and so is
  // the admin endpoint.
  for (const char *field : {"host", "http_host", "admin_host"}) {
    ServerOptions options;
    options.http_port = 0;
    options.admin_port = 0;
    std::string *host = std::string(field) == "host"        ? &options.host
                        : std::string(field) == "http_host" ? &options.http_host
                                                            : &options.admin_host;
    *host = "127.evil.test";
    std::string error;
    EXPECT_EQ(Server::Start(std::move(options), &error), nullptr) << field;
    EXPECT_NE(error.find("loopback"), std::string::npos) << field << ": " << error;
  }
  ServerOptions local;
  local.host = "localhost";
  std::string error;
  EXPECT_NE(Server::Start(std::move(local), &error), nullptr) << error;
}

TEST(TlsCli, ServeTlsMakesACertificateInTheDataDirectoryAndAnnouncesIt) {
  zbtest::TempDir dir;
  zbtest::Serve serve(
      {ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--tls", "--data-dir", dir.path()});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  EXPECT_EQ(serve.url("grpc"), "https://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(serve.child().ReadLine(10s), "zerobus serve: listening on " + serve.url("grpc"));
  std::string trust;
  for (int i = 0; i < 5 && trust.find("clients trust") == std::string::npos; ++i) {
    trust = serve.child().ReadLine(10s);
  }
  EXPECT_NE(trust.find(dir.path() + "/ca.pem"), std::string::npos) << trust;
  RawStream stream(TlsChannel(port, dir.path() + "/ca.pem"), 10s, {});
  EXPECT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  stream.WritesDone();
  EXPECT_TRUE(stream.Finish().ok());
  kill(serve.child().pid(), SIGTERM);
  EXPECT_EQ(serve.child().Wait(10s), 0);
}

TEST(TlsCli, ServeTlsClientCaRequiresAClientCertificateItSigned) {
  zbtest::TempDir dir;
  const std::string ca = dir.path() + "/ca.pem";
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--tls", "--data-dir",
                       dir.path(), "--tls-client-ca", ca});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  std::string announced;
  for (int i = 0; i < 6 && announced.find("clients need a certificate") == std::string::npos; ++i) {
    announced = serve.child().ReadLine(10s);
  }
  EXPECT_NE(announced.find(ca), std::string::npos) << announced;
  // The self-signed client certificate opens a stream...
  RawStream with(TlsChannel(port, ca, "127.0.0.1",
                            {dir.path() + "/client.pem", dir.path() + "/client-key.pem"}),
                 10s, {});
  EXPECT_NE(with.Open(zbtest::CreateJson(kTable)), "");
  with.WritesDone();
  EXPECT_TRUE(with.Finish().ok());
  // ...and none, or one of another authority, does not.
  zbtest::TempDir other_dir;
  TlsFiles other;
  std::string error;
  ASSERT_TRUE(zerobus::server::EnsureSelfSignedCertificate(other_dir.path(), "", &other, &error));
  for (const ClientCertificate &client :
       {ClientCertificate{}, ClientCertificate{other.client_cert_file, other.client_key_file}}) {
    RawStream without(TlsChannel(port, ca, "127.0.0.1", client), 10s, {});
    EXPECT_EQ(without.Open(zbtest::CreateJson(kTable)), "") << client.cert_file;
    EXPECT_EQ(without.Finish().error_code(), grpc::StatusCode::UNAVAILABLE) << client.cert_file;
  }
  kill(serve.child().pid(), SIGTERM);
  EXPECT_EQ(serve.child().Wait(10s), 0);
}

TEST(TlsCli, ServeTlsClientCaNeedsTls) {
  zbtest::Child child(
      {ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--tls-client-ca", "/nonexistent/ca.pem"});
  EXPECT_EQ(child.Wait(10s), 2);
}

}  // namespace
