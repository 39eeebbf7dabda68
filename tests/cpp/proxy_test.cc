// Streams through a real HTTP CONNECT proxy on loopback: Debian's tinyproxy, started here with
// a config of our own on a free port, whose log shows every tunnel it opened. The proxy comes
// from the environment (as the official SDKs read it) or from the `proxy` option, carries both
// the gRPC channel and the OAuth token request, and no_proxy bypasses it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "secure_server.h"
#include "zbtest_child.h"
#include "zbtest_temp_dir.h"

namespace zbtest {
namespace {

using namespace std::chrono_literals;

const char *const kProxyVariables[] = {"grpc_proxy", "GRPC_PROXY", "https_proxy",   "HTTPS_PROXY",
                                       "http_proxy", "HTTP_PROXY", "no_grpc_proxy", "NO_GRPC_PROXY",
                                       "no_proxy",   "NO_PROXY"};

// Clears every proxy variable for the test's duration, sets the given ones, and puts back
// what was there before.
class ProxyEnvironment {
 public:
  explicit ProxyEnvironment(const std::map<std::string, std::string> &set) {
    for (const char *name : kProxyVariables) {
      const char *value = std::getenv(name);
      if (value) saved_[name] = value;
      unsetenv(name);
    }
    for (const auto &[name, value] : set) setenv(name.c_str(), value.c_str(), 1);
  }
  ~ProxyEnvironment() {
    for (const char *name : kProxyVariables) unsetenv(name);
    for (const auto &[name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::map<std::string, std::string> saved_;
};

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length), 0);
  close(fd);
  return ntohs(address.sin_port);
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool connected = connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

// tinyproxy in the foreground on 127.0.0.1, allowing loopback clients only, logging each
// request (LogLevel Connect) to a file of its own.
class Tinyproxy {
 public:
  Tinyproxy() : port_(FreeLoopbackPort()), log_(dir_.path() + "/tinyproxy.log") {
    std::string binary;
    for (const char *candidate : {"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"}) {
      if (access(candidate, X_OK) == 0) binary = candidate;
    }
    if (binary.empty()) {
      ADD_FAILURE() << "tinyproxy is not installed (scripts/install-deps.sh installs it)";
      return;
    }
    const std::string config = dir_.path() + "/tinyproxy.conf";
    std::ofstream(config) << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 60\n"
                          << "LogFile \"" << log_ << "\"\nLogLevel Connect\nMaxClients 64\n"
                          << "Allow 127.0.0.1\nDisableViaHeader Yes\n";
    child_ = std::make_unique<Child>(std::vector<std::string>{binary, "-d", "-c", config});
    // It says nothing when it listens: ask until it answers.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!Accepts(port_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(Accepts(port_)) << "tinyproxy did not listen on port " << port_;
  }
  ~Tinyproxy() {
    if (!child_) return;
    kill(child_->pid(), SIGTERM);
    child_->Wait(10s);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The CONNECT requests so far to 127.0.0.1:`port`.
  int Tunnels(int port) const {
    std::ifstream log(log_);
    std::string line;
    const std::string request = "CONNECT 127.0.0.1:" + std::to_string(port) + " ";
    int count = 0;
    while (std::getline(log, line)) count += line.find(request) != std::string::npos;
    return count;
  }

 private:
  TempDir dir_;
  const int port_;
  const std::string log_;
  std::unique_ptr<Child> child_;
};

// One JSON stream with client credentials through `sdk`: opened, 20 records, closed.
void StreamTwenty(SecureServer &secure, zb_sdk *sdk, const Options &extra = {}) {
  Options options = SecureServer::ClientOptions();
  options.insert(options.end(), extra.begin(), extra.end());
  const int64_t before = secure.server().rows().Count(kTable);
  Opened opened = OpenJson(sdk, kTable, options);
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 20);
  zb_error *error = nullptr;
  EXPECT_EQ(zb_stream_close(opened.stream.get(), 30000, &error), ZB_OK) << zb_error_message(error);
  zb_error_free(error);
  EXPECT_EQ(secure.server().rows().Count(kTable), before + 20);
}

class ProxyTest : public ::testing::Test {
 protected:
  int grpc_port() { return secure_.server().port(); }
  int workspace_port() { return secure_.server().http_port(); }

  Tinyproxy proxy_;
  SecureServer secure_;
};

TEST_F(ProxyTest, TheEnvironmentsProxyCarriesTheStreamAndTheTokenRequest) {
  ProxyEnvironment env({{"https_proxy", proxy_.url()}});
  zerobus::Sdk sdk = secure_.NewSdk(secure_.SdkOptions());
  StreamTwenty(secure_, sdk.get());
  EXPECT_EQ(proxy_.Tunnels(grpc_port()), 1);
  EXPECT_EQ(proxy_.Tunnels(workspace_port()), 1);
}

TEST_F(ProxyTest, UpperCaseVariablesCountAndNoProxyBypasses) {
  {
    ProxyEnvironment env({{"HTTPS_PROXY", proxy_.url()}, {"NO_PROXY", "localhost, 127.0.0.1"}});
    zerobus::Sdk sdk = secure_.NewSdk(secure_.SdkOptions());
    StreamTwenty(secure_, sdk.get());
    EXPECT_EQ(proxy_.Tunnels(grpc_port()), 0);
    EXPECT_EQ(proxy_.Tunnels(workspace_port()), 0);
  }
  ProxyEnvironment env({{"GRPC_PROXY", proxy_.url()}});
  zerobus::Sdk sdk = secure_.NewSdk(secure_.SdkOptions());
  StreamTwenty(secure_, sdk.get());
  EXPECT_EQ(proxy_.Tunnels(grpc_port()), 1);
  EXPECT_EQ(proxy_.Tunnels(workspace_port()), 1);
}

TEST_F(ProxyTest, TheProxyOptionOverridesTheEnvironment) {
  {
    ProxyEnvironment env({});
    Options options = secure_.SdkOptions();
    options.emplace_back("proxy", proxy_.url());
    zerobus::Sdk sdk = secure_.NewSdk(options);
    StreamTwenty(secure_, sdk.get());
    EXPECT_EQ(proxy_.Tunnels(grpc_port()), 1);
    EXPECT_EQ(proxy_.Tunnels(workspace_port()), 1);
  }
  ProxyEnvironment env({{"grpc_proxy", proxy_.url()}});
  Options options = secure_.SdkOptions();
  options.emplace_back("proxy", "direct");
  zerobus::Sdk sdk = secure_.NewSdk(options);
  StreamTwenty(secure_, sdk.get());
  EXPECT_EQ(proxy_.Tunnels(grpc_port()), 1);
  EXPECT_EQ(proxy_.Tunnels(workspace_port()), 1);
}

TEST_F(ProxyTest, EachStreamHasAConnectionOfItsOwnUnlessItAsksToShare) {
  ProxyEnvironment env({});
  Options options = secure_.SdkOptions();
  options.emplace_back("proxy", proxy_.url());
  zerobus::Sdk sdk = secure_.NewSdk(options);
  for (int i = 0; i < 3; ++i) StreamTwenty(secure_, sdk.get());
  EXPECT_EQ(proxy_.Tunnels(grpc_port()), 3);
  for (int i = 0; i < 3; ++i)
    StreamTwenty(secure_, sdk.get(), {{"stream.own.connection", "false"}});
  EXPECT_EQ(proxy_.Tunnels(grpc_port()), 4);
}

}  // namespace
}  // namespace zbtest
