#include "zbtest_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// One accepted connection and its connection to the target.
struct Link {
  int client = -1;
  int upstream = -1;
};

enum class Command { kFreeze, kSever, kStop };

// How long a forward may wait for the receiving end to take bytes before the link is dropped.
constexpr int kWriteTimeoutMs = 10000;

void CloseSocket(int fd, bool reset) {
  if (reset) {
    const linger abortive{1, 0};  // close with RST, as a dead peer or middlebox does
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }
  close(fd);
}

void CloseLink(const Link &link, bool reset) {
  CloseSocket(link.client, reset);
  CloseSocket(link.upstream, reset);
}

void SetNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// Writes all of `data` to the non-blocking socket `fd`, waiting for room as needed.
bool WriteAll(int fd, const char *data, size_t len) {
  while (len > 0) {
    const ssize_t written = send(fd, data, len, MSG_NOSIGNAL);
    if (written > 0) {
      data += written;
      len -= static_cast<size_t>(written);
      continue;
    }
    if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    pollfd room{fd, POLLOUT, 0};
    if (poll(&room, 1, kWriteTimeoutMs) <= 0) return false;
  }
  return true;
}

// The port at the end of "scheme://host:PORT", or 0.
int PortOf(const char *endpoint) {
  const char *colon = endpoint ? std::strrchr(endpoint, ':') : nullptr;
  return colon ? std::atoi(colon + 1) : 0;
}

}  // namespace

struct zbtest_relay {
  int listen_fd = -1;
  int wake_read = -1;
  int wake_write = -1;
  int target_port = 0;
  std::string endpoint;
  std::thread thread;

  // Owned by the relay thread: every socket is read, written and closed there only.
  std::vector<Link> live;
  std::vector<Link> dark;  // frozen: kept open, never polled

  std::mutex command_mu;  // one command at a time
  mutable std::mutex mu;
  std::condition_variable done_cv;
  Command pending = Command::kStop;
  bool has_pending = false;
  int64_t accepted = 0;

  void Run();
  void Accept();
  // Moves what is readable on `from` to `to`; false when the link is over.
  bool Forward(int from, int to);
  // Runs the pending command; returns false for kStop.
  bool Execute();
  void Request(Command command);
};

void zbtest_relay::Request(Command command) {
  std::lock_guard<std::mutex> one_at_a_time(command_mu);
  std::unique_lock<std::mutex> lock(mu);
  pending = command;
  has_pending = true;
  const char byte = 1;
  if (write(wake_write, &byte, 1) != 1) std::perror("zbtest_relay: wake");
  done_cv.wait(lock, [&] { return !has_pending; });
}

bool zbtest_relay::Execute() {
  std::lock_guard<std::mutex> lock(mu);
  if (!has_pending) return true;
  const Command command = pending;
  if (command == Command::kFreeze) {
    dark.insert(dark.end(), live.begin(), live.end());
    live.clear();
  } else if (command == Command::kSever) {
    for (const Link &link : live) CloseLink(link, true);
    live.clear();
  }
  has_pending = false;
  done_cv.notify_all();
  return command != Command::kStop;
}

void zbtest_relay::Accept() {
  const int client = accept(listen_fd, nullptr, nullptr);
  if (client < 0) return;
  const int upstream = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in target = Loopback(target_port);
  if (upstream < 0 ||
      connect(upstream, reinterpret_cast<const sockaddr *>(&target), sizeof target) != 0) {
    // The target is gone: the client's connection is reset, as a dead server's would be.
    if (upstream >= 0) close(upstream);
    CloseSocket(client, true);
    return;
  }
  SetNonBlocking(client);
  SetNonBlocking(upstream);
  live.push_back(Link{client, upstream});
  std::lock_guard<std::mutex> lock(mu);
  ++accepted;
}

bool zbtest_relay::Forward(int from, int to) {
  char buffer[64 * 1024];
  const ssize_t got = recv(from, buffer, sizeof buffer, 0);
  if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  return got > 0 && WriteAll(to, buffer, static_cast<size_t>(got));
}

void zbtest_relay::Run() {
  std::vector<pollfd> polled;
  for (;;) {
    polled.clear();
    polled.push_back(pollfd{wake_read, POLLIN, 0});
    polled.push_back(pollfd{listen_fd, POLLIN, 0});
    for (const Link &link : live) {
      polled.push_back(pollfd{link.client, POLLIN, 0});
      polled.push_back(pollfd{link.upstream, POLLIN, 0});
    }
    if (poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::perror("zbtest_relay: poll");
      return;
    }
    // Links first, while `live` still matches `polled`; then commands and new connections.
    std::vector<Link> kept;
    for (size_t i = 0; i < live.size(); ++i) {
      const Link &link = live[i];
      const short from_client = polled[2 + 2 * i].revents;
      const short from_upstream = polled[3 + 2 * i].revents;
      const bool open = (!from_client || Forward(link.client, link.upstream)) &&
                        (!from_upstream || Forward(link.upstream, link.client));
      if (open) {
        kept.push_back(link);
      } else {
        CloseLink(link, false);
      }
    }
    live.swap(kept);
    if (polled[0].revents) {
      char drained[64];
      if (read(wake_read, drained, sizeof drained) < 0) std::perror("zbtest_relay: drain");
      if (!Execute()) return;
    }
    if (polled[1].revents) Accept();
  }
}

extern "C" {

zbtest_relay *zbtest_relay_start(const char *target) {
  const int target_port = PortOf(target);
  if (target_port <= 0) {
    std::fprintf(stderr, "zbtest_relay: no port in target \"%s\"\n", target ? target : "(null)");
    return nullptr;
  }
  auto *relay = new zbtest_relay;
  relay->target_port = target_port;
  int wake[2];
  relay->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = Loopback(0);
  socklen_t address_len = sizeof address;
  if (relay->listen_fd < 0 ||
      bind(relay->listen_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
      listen(relay->listen_fd, 64) != 0 ||
      getsockname(relay->listen_fd, reinterpret_cast<sockaddr *>(&address), &address_len) != 0 ||
      pipe(wake) != 0) {
    std::perror("zbtest_relay: listen");
    if (relay->listen_fd >= 0) close(relay->listen_fd);
    delete relay;
    return nullptr;
  }
  relay->wake_read = wake[0];
  relay->wake_write = wake[1];
  relay->endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  relay->thread = std::thread([relay] { relay->Run(); });
  return relay;
}

void zbtest_relay_stop(zbtest_relay *relay) {
  if (relay == nullptr) return;
  relay->Request(Command::kStop);
  relay->thread.join();
  for (const Link &link : relay->live) CloseLink(link, false);
  for (const Link &link : relay->dark) CloseLink(link, false);
  close(relay->listen_fd);
  close(relay->wake_read);
  close(relay->wake_write);
  delete relay;
}

const char *zbtest_relay_endpoint(const zbtest_relay *relay) {
  return relay->endpoint.c_str();
}

void zbtest_relay_freeze(zbtest_relay *relay) {
  relay->Request(Command::kFreeze);
}

void zbtest_relay_sever(zbtest_relay *relay) {
  relay->Request(Command::kSever);
}

int64_t zbtest_relay_connections(const zbtest_relay *relay) {
  std::lock_guard<std::mutex> lock(relay->mu);
  return relay->accepted;
}

}  // extern "C"
