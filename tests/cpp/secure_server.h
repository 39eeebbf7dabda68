// A local server as a workspace runs it: TLS with a self-signed authority on the gRPC and the
// HTTP side, the OAuth token endpoint accepting one client, and every stream demanding a token
// for its table. Tests drive it through the public C API, as a producer would.
#ifndef ZB_TESTS_CPP_SECURE_SERVER_H
#define ZB_TESTS_CPP_SECURE_SERVER_H

#include <zerobus/zerobus.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/server.h"
#include "zbtest_temp_dir.h"

namespace zbtest {

inline constexpr char kClientId[] = "producer-sp";
inline constexpr char kClientSecret[] = "s3cr3t-f0r-tests";
inline constexpr char kTable[] = "main.default.events";

struct SdkDeleter {
  void operator()(zb_sdk *sdk) const { zb_sdk_destroy(sdk); }
};
struct StreamDeleter {
  void operator()(zb_stream *stream) const { zb_stream_destroy(stream); }
};
struct ConfigDeleter {
  void operator()(zb_config *config) const { zb_config_destroy(config); }
};
struct ErrorDeleter {
  void operator()(zb_error *error) const { zb_error_free(error); }
};
using SdkPtr = std::unique_ptr<zb_sdk, SdkDeleter>;
using StreamPtr = std::unique_ptr<zb_stream, StreamDeleter>;
using ConfigPtr = std::unique_ptr<zb_config, ConfigDeleter>;
using ErrorPtr = std::unique_ptr<zb_error, ErrorDeleter>;

using Options = std::vector<std::pair<std::string, std::string>>;

// A config with `options` set; fails the test when one does not take.
ConfigPtr MakeConfig(const Options &options);

// An SDK that talks plaintext to `endpoint` ("http://HOST:PORT"); fails the test when it cannot.
SdkPtr PlaintextSdk(const std::string &endpoint);

// What zb_stream_new() returned: the stream, or the error and its status.
struct Opened {
  zb_status status = ZB_OK;
  StreamPtr stream;
  ErrorPtr error;
  std::string message() const { return error ? zb_error_message(error.get()) : ""; }
};

// Opens a JSON stream into `table` with `options`.
Opened OpenJson(zb_sdk *sdk, const std::string &table, const Options &options);

// Ingests records {"id": first} .. {"id": first + count - 1} and fails the test on an error.
void IngestJson(zb_stream *stream, int64_t first, int64_t count);

class SecureServer {
 public:
  struct Settings {
    std::chrono::seconds token_lifetime{3600};
    // Streams end after this long (UNAVAILABLE), with a close signal a third of it before;
    // zero: never.
    std::chrono::milliseconds stream_lifetime{0};
  };

  explicit SecureServer(Settings settings);
  SecureServer() : SecureServer(Settings()) {}

  zerobus::server::Server &server() { return *server_; }
  // "host:port" of the gRPC side, without a scheme, for a plaintext attempt.
  std::string address() const;
  const std::string &ca_file() const { return ca_file_; }
  std::string ca_pem() const;

  // The options an SDK needs for this server: the workspace URL and the authority to trust.
  Options SdkOptions() const;
  // The options a stream needs to authenticate as the server's client.
  static Options ClientOptions();

  // An SDK for the server with `options` (SdkOptions() are not added); fails the test when
  // zb_sdk_new() fails.
  SdkPtr NewSdk(const Options &options) const;

  // The rows of kTable, as their "id" values in arrival order.
  std::vector<int64_t> StoredIds() const;

  // The server's log lines so far.
  std::vector<std::string> log() const;

 private:
  zbtest::TempDir dir_;
  std::string ca_file_;
  mutable std::mutex log_mu_;
  std::vector<std::string> log_;
  std::unique_ptr<zerobus::server::Server> server_;
};

}  // namespace zbtest

#endif  // ZB_TESTS_CPP_SECURE_SERVER_H
