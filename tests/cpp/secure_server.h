// A local server as a workspace runs it: TLS with a self-signed authority on the gRPC and the
// HTTP side, the OAuth token endpoint accepting one client, and every stream demanding a token
// for its table. Tests drive it through the public C API, as a producer would.
#ifndef ZB_TESTS_CPP_SECURE_SERVER_H
#define ZB_TESTS_CPP_SECURE_SERVER_H

#include <zerobus/zerobus.h>
#include <zerobus/zerobus.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/server.h"
#include "server/tls_certificate.h"
#include "zbtest_temp_dir.h"

namespace zbtest {

inline constexpr char kClientId[] = "producer-sp";
inline constexpr char kClientSecret[] = "s3cr3t-f0r-tests";
inline constexpr char kTable[] = "main.default.events";

// The tests make every handle through the C API and give it to zerobus.hpp's classes to own
// (adopt()), which lend it back to C calls (get()).
using Options = std::vector<std::pair<std::string, std::string>>;

// A config with `options` set; fails the test when one does not take.
zerobus::Config MakeConfig(const Options &options);

// The transport.engine the tests' SDKs use: $ZBTEST_TRANSPORT_ENGINE, else http2, the library's
// default (ctest runs some files twice, the second time as <prefix>grpc.).
std::string TestEngine();
// What the HTTP/2 stack of TestEngine() adds to the user-agent after ours: " grpc-c++/..." or
// " nghttp2/...", up to its version.
std::string StackName();

// An SDK that talks plaintext to `endpoint` ("http://HOST:PORT") on TestEngine(); fails the
// test when it cannot.
zerobus::Sdk PlaintextSdk(const std::string &endpoint);

// A copy of the error a C call left, which it frees: an Error of ZB_OK without a message when
// the call left none.
zerobus::Error TakeError(zb_error *error);

// What zb_stream_new() returned: the stream, or the error and its status.
struct Opened {
  zb_status status = ZB_OK;
  zerobus::Stream stream = zerobus::Stream::adopt(nullptr);
  zerobus::Error error = TakeError(nullptr);
  const std::string &message() const { return error.message(); }
};

// Opens a JSON stream into `table` with `options`.
Opened OpenJson(zb_sdk *sdk, const std::string &table, const Options &options);

// Ingests records {"id": first} .. {"id": first + count - 1} and fails the test on an error.
void IngestJson(zb_stream *stream, int64_t first, int64_t count);

// Ingests records 0, 1, 2, ... ten at a time, every 20 ms (so that records are in flight
// whenever a call ends), until the stream has recovered `recoveries` times or 30 s have passed;
// returns how many it ingested.
int64_t IngestUntilRecoveries(zb_stream *stream, uint64_t recoveries);

// The stream's zb_stream_get_info(), expecting it to succeed.
zb_stream_info Info(zb_stream *stream);

// Flushes and closes the stream (30 s each), expecting both to succeed.
void FlushAndClose(zb_stream *stream);

class SecureServer {
 public:
  struct Settings {
    std::chrono::seconds token_lifetime{3600};
    // Streams end after this long (UNAVAILABLE), with a close signal a third of it before;
    // zero: never.
    std::chrono::milliseconds stream_lifetime{0};
    // The names of the server's certificate, as a subjectAltName list; empty: 127.0.0.1,
    // localhost and ::1.
    std::string server_names;
    // Mutual TLS: both sides require a client certificate signed by the server's authority
    // (client_cert_file()).
    bool require_client_certificate = false;
  };

  // `federation_key_file`: a PEM public key; the token endpoint then also accepts token
  // exchanges of JWTs signed with it.
  explicit SecureServer(Settings settings, const std::string &federation_key_file = "");
  SecureServer() : SecureServer(Settings()) {}

  zerobus::server::Server &server() { return *server_; }
  // "host:port" of the gRPC side, without a scheme, for a plaintext attempt.
  std::string address() const;
  const std::string &ca_file() const { return files_.ca_file; }
  std::string ca_pem() const;
  // A client certificate (chain) the server's authority signed, and its key.
  const std::string &client_cert_file() const { return files_.client_cert_file; }
  const std::string &client_key_file() const { return files_.client_key_file; }

  // The options an SDK needs for this server: the workspace URL and the authority to trust.
  Options SdkOptions() const;
  // The options a stream needs to authenticate as the server's client.
  static Options ClientOptions();

  // An SDK for the server with `options` (SdkOptions() are not added); fails the test when
  // zb_sdk_new() fails.
  zerobus::Sdk NewSdk(const Options &options) const;

  // The rows of kTable, as their "id" values in arrival order.
  std::vector<int64_t> StoredIds() const;

  // The server's log lines so far.
  std::vector<std::string> log() const;

 private:
  zbtest::TempDir dir_;
  zerobus::server::TlsFiles files_;
  mutable std::mutex log_mu_;
  std::vector<std::string> log_;
  std::unique_ptr<zerobus::server::Server> server_;
};

}  // namespace zbtest

#endif  // ZB_TESTS_CPP_SECURE_SERVER_H
