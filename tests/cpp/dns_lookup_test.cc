// The http2 engine's name lookups (c-ares on the I/O loop) and its connections to a name's
// addresses: answers come on the loop's thread without any other thread waiting, a cancelled
// lookup never answers, and a name whose first address refuses is reached at the next one.
#include "net/dns_lookup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <vector>

#include "net/grpc_client.h"
#include "net/io_loop.h"

namespace zerobus::net {
namespace {

struct Answer {
  std::vector<SocketAddress> addresses;
  std::string error;
  bool on_loop_thread = false;
};

Answer Lookup(IoLoop &loop, const std::string &host, int port) {
  std::promise<Answer> answered;
  std::shared_ptr<DnsLookup> lookup = DnsLookup::Start(
      loop, host, port, [&](std::vector<SocketAddress> addresses, const std::string &error) {
        answered.set_value(Answer{std::move(addresses), error, loop.InLoopThread()});
      });
  std::future<Answer> answer = answered.get_future();
  EXPECT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready) << host;
  return answer.get();
}

TEST(DnsLookup, FindsAnAddressGivenInText) {
  IoLoop loop("zb-test-io");
  const Answer answer = Lookup(loop, "127.0.0.1", 443);
  EXPECT_EQ(answer.error, "");
  ASSERT_EQ(answer.addresses.size(), 1u);
  EXPECT_EQ(answer.addresses[0].ToString(), "127.0.0.1:443");
  EXPECT_TRUE(answer.on_loop_thread);

  const Answer v6 = Lookup(loop, "::1", 8443);
  ASSERT_EQ(v6.addresses.size(), 1u) << v6.error;
  EXPECT_EQ(v6.addresses[0].ToString(), "[::1]:8443");
}

TEST(DnsLookup, FindsANameOfTheHostsFile) {
  IoLoop loop("zb-test-io");
  const Answer answer = Lookup(loop, "localhost", 50051);
  EXPECT_EQ(answer.error, "");
  ASSERT_FALSE(answer.addresses.empty());
  for (const SocketAddress &address : answer.addresses) {
    const std::string text = address.ToString();
    EXPECT_TRUE(text == "127.0.0.1:50051" || text == "[::1]:50051") << text;
  }
}

TEST(DnsLookup, SaysWhyANameIsNotFound) {
  // One try of a second at most, should the name server not answer at all.
  ASSERT_EQ(setenv("RES_OPTIONS", "timeout:1 attempts:1", 1), 0);
  IoLoop loop("zb-test-io");
  const Answer answer = Lookup(loop, "no-such-host.invalid", 443);
  EXPECT_TRUE(answer.addresses.empty());
  EXPECT_NE(answer.error, "");
}

TEST(DnsLookup, ACancelledLookupNeverAnswers) {
  IoLoop loop("zb-test-io");
  // The loop is held until the lookup is cancelled, so that it cannot answer first.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  loop.Post([released] { released.wait(); });
  bool answered = false;
  std::shared_ptr<DnsLookup> lookup =
      DnsLookup::Start(loop, "127.0.0.1", 443,
                       [&](std::vector<SocketAddress>, const std::string &) { answered = true; });
  lookup->Cancel();
  release.set_value();
  std::promise<void> drained;
  loop.Post([&] { loop.Post([&] { drained.set_value(); }); });
  ASSERT_EQ(drained.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(answered);
}

// A listening socket on 127.0.0.1, on a port of the kernel's choosing.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr *>(&address), length), 0) << strerror(errno);
    EXPECT_EQ(listen(fd_, 4), 0) << strerror(errno);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr *>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { close(fd_); }
  int port() const { return port_; }
  // Whether a connection came within `timeout_ms`.
  bool Accepted(int timeout_ms) {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, timeout_ms) != 1) return false;
    const int accepted = accept(fd_, nullptr, nullptr);
    if (accepted < 0) return false;
    close(accepted);
    return true;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// How a call on a connection ended.
class EndListener : public CallListener {
 public:
  void OnMessage(GrpcCall *, std::string_view) override {}
  void OnWriteDone(GrpcCall *, bool) override {}
  void OnEnd(GrpcCall *, const CallEnd &end) override { ended_.set_value(end); }
  CallEnd Wait() {
    std::future<CallEnd> end = ended_.get_future();
    EXPECT_EQ(end.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return end.get();
  }

 private:
  std::promise<CallEnd> ended_;
};

CallEnd EndOfACallTo(const std::string &host, int port) {
  IoLoop loop("zb-test-io");
  ConnectionOptions options;
  options.host = host;
  options.port = port;
  std::shared_ptr<Http2Connection> connection = Http2Connection::Create(loop, options);
  EndListener listener;
  std::shared_ptr<GrpcCall> call = connection->StartCall("/test.Service/Method", {}, &listener);
  return listener.Wait();
}

TEST(Http2Connection, ANameThatIsNotFoundEndsItsCallsSayingSo) {
  ASSERT_EQ(setenv("RES_OPTIONS", "timeout:1 attempts:1", 1), 0);
  const CallEnd end = EndOfACallTo("no-such-host.invalid", 443);
  EXPECT_EQ(end.grpc_status, kGrpcUnavailable);
  EXPECT_EQ(end.message.rfind("cannot resolve no-such-host.invalid: ", 0), 0u) << end.message;
}

TEST(Http2Connection, AnAddressThatRefusesEndsItsCallsSayingSo) {
  int port = 0;
  {
    Listener closed;  // its port, free again once it is gone
    port = closed.port();
  }
  const CallEnd end = EndOfACallTo("127.0.0.1", port);
  EXPECT_EQ(end.grpc_status, kGrpcUnavailable);
  EXPECT_EQ(end.message,
            "failed to connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused")
      << end.message;
}

// A name with an IPv6 and an IPv4 address, the server listening on the IPv4 one only: the IPv6
// address, sorted first, refuses, and the connection goes on to the next. The name comes from a
// hosts file of the test's own, bind-mounted over /etc/hosts in a mount namespace of this
// process (needs root, as the netns label says: ctest runs each test in a process of its own).
TEST(Http2Connection, ReachesTheAddressOfANameThatListens) {
  ASSERT_EQ(unshare(CLONE_NEWNS), 0) << "a mount namespace needs root: " << strerror(errno);
  ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << strerror(errno);
  char hosts[] = "/tmp/zb-dns-hosts-XXXXXX";
  const int hosts_fd = mkstemp(hosts);
  ASSERT_GE(hosts_fd, 0) << strerror(errno);
  const std::string lines = "::1 dual.zerobus.test\n127.0.0.1 dual.zerobus.test\n";
  ASSERT_EQ(write(hosts_fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  close(hosts_fd);
  ASSERT_EQ(mount(hosts, "/etc/hosts", nullptr, MS_BIND, nullptr), 0) << strerror(errno);

  Listener listener;
  IoLoop loop("zb-test-io");
  const Answer answer = Lookup(loop, "dual.zerobus.test", listener.port());
  ASSERT_EQ(answer.addresses.size(), 2u) << answer.error;
  EXPECT_EQ(answer.addresses[0].ToString(), "[::1]:" + std::to_string(listener.port()));

  ConnectionOptions options;
  options.host = "dual.zerobus.test";
  options.port = listener.port();
  std::shared_ptr<Http2Connection> connection = Http2Connection::Create(loop, options);
  EXPECT_TRUE(listener.Accepted(10000)) << "no connection reached 127.0.0.1";
  connection->Shutdown("the test is over");
  umount("/etc/hosts");
  unlink(hosts);
}

}  // namespace
}  // namespace zerobus::net
