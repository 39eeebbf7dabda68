#include "net/dns_lookup.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <cstring>
#include <map>
#include <utility>

#include "sync/mutex.h"

namespace zerobus::net {
namespace {

// One lookup: a c-ares channel of its own, driven on the loop's thread only (a channel is not
// thread-safe), for the one name it resolves. Connections are opened rarely enough that a
// channel each (c-ares reads resolv.conf and the hosts file as it starts) costs nothing that
// matters, and no channel outlives what it was for.
//
// ares_library_init() is left out: on Linux it does nothing c-ares needs (it sets up Windows'
// and Android's system calls).
class CaresLookup : public DnsLookup, public std::enable_shared_from_this<CaresLookup> {
 public:
  CaresLookup(IoLoop &loop, std::string host, int port, Done done)
      : loop_(loop), host_(std::move(host)), port_(port), done_(std::move(done)) {}

  ~CaresLookup() override {
    // Only when the loop stopped with Finish() still to run: the loop is going, so nothing of
    // it is asked for (OnSocketState sees it), and c-ares closes its own sockets.
    tearing_down_ = true;
    if (channel_ != nullptr) ares_destroy(channel_);
  }

  void Begin() {
    if (Cancelled()) return;
    // An address in text needs no lookup; c-ares 1.18 would ask the name server about it first.
    SocketAddress numeric;
    if (ParseNumeric(&numeric)) {
      Answer({numeric}, "");
      return;
    }
    ares_options options{};
    options.sock_state_cb = &CaresLookup::OnSocketState;
    options.sock_state_cb_data = this;
    const int status = ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB);
    if (status != ARES_SUCCESS) {
      channel_ = nullptr;
      Answer({}, std::string("cannot start a DNS lookup: ") + ares_strerror(status));
      return;
    }
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NUMERICSERV;
    // c-ares may answer at once (an address in text, the hosts file): OnAnswer then runs here.
    ares_getaddrinfo(channel_, host_.c_str(), std::to_string(port_).c_str(), &hints,
                     &CaresLookup::OnAnswer, this);
    ArmTimer();
  }

  void Cancel() override {
    {
      sync::MutexLock lock(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      done_ = nullptr;
    }
    loop_.Post([self = shared_from_this()] { self->Finish(); });
  }

 private:
  // A c-ares socket's readiness, for the lookup that opened it.
  class SocketWatcher : public IoLoop::Watcher {
   public:
    SocketWatcher(std::weak_ptr<CaresLookup> lookup, int fd)
        : lookup_(std::move(lookup)), fd_(fd) {}
    void OnReady(uint32_t events) override {
      if (std::shared_ptr<CaresLookup> lookup = lookup_.lock()) lookup->Process(fd_, events);
    }

   private:
    const std::weak_ptr<CaresLookup> lookup_;
    const int fd_;
  };

  bool ParseNumeric(SocketAddress *address) const {
    auto *v4 = reinterpret_cast<sockaddr_in *>(&address->storage);
    if (inet_pton(AF_INET, host_.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<uint16_t>(port_));
      address->length = sizeof(sockaddr_in);
      return true;
    }
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&address->storage);
    if (inet_pton(AF_INET6, host_.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<uint16_t>(port_));
      address->length = sizeof(sockaddr_in6);
      return true;
    }
    return false;
  }

  bool Cancelled() {
    sync::MutexLock lock(mu_);
    return cancelled_;
  }

  void Process(int fd, uint32_t events) {
    if (channel_ == nullptr) return;
    const bool readable = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
    const bool writable = (events & EPOLLOUT) != 0;
    ares_process_fd(channel_, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
    ArmTimer();
  }

  // c-ares's next retry or timeout, when it waits for one.
  void ArmTimer() {
    if (timer_ != 0) loop_.Cancel(timer_);
    timer_ = 0;
    timeval wait{};
    if (channel_ == nullptr || ares_timeout(channel_, nullptr, &wait) == nullptr) return;
    const auto due = IoLoop::Clock::now() + std::chrono::seconds(wait.tv_sec) +
                     std::chrono::microseconds(wait.tv_usec);
    std::weak_ptr<CaresLookup> weak = weak_from_this();
    timer_ = loop_.RunAt(due, [weak] {
      std::shared_ptr<CaresLookup> self = weak.lock();
      if (!self || self->channel_ == nullptr) return;
      self->timer_ = 0;
      ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      self->ArmTimer();
    });
  }

  // On the loop's thread: lets go of the channel, its sockets and its timer.
  void Finish() {
    if (timer_ != 0) loop_.Cancel(timer_);
    timer_ = 0;
    if (channel_ == nullptr) return;
    ares_channel channel = channel_;
    channel_ = nullptr;
    ares_destroy(channel);  // OnAnswer(ARES_EDESTRUCTION) for a lookup still under way
  }

  // Hands the answer to `done`, once, unless cancelled; the channel goes after this pass (it
  // may not be destroyed from its own callback).
  void Answer(std::vector<SocketAddress> addresses, const std::string &error) {
    Done done;
    {
      sync::MutexLock lock(mu_);
      done = std::move(done_);
      done_ = nullptr;
      cancelled_ = true;
    }
    if (done) done(std::move(addresses), error);
    loop_.Post([self = shared_from_this()] { self->Finish(); });
  }

  static void OnAnswer(void *arg, int status, int, ares_addrinfo *result) {
    auto *self = static_cast<CaresLookup *>(arg);
    if (status == ARES_EDESTRUCTION) return;  // cancelled: nobody waits
    std::vector<SocketAddress> addresses;
    if (status == ARES_SUCCESS && result != nullptr) {
      for (const ares_addrinfo_node *node = result->nodes; node != nullptr; node = node->ai_next) {
        if (node->ai_addr == nullptr || node->ai_addrlen > sizeof(sockaddr_storage)) continue;
        SocketAddress address;
        std::memcpy(&address.storage, node->ai_addr, node->ai_addrlen);
        address.length = node->ai_addrlen;
        addresses.push_back(address);
      }
    }
    if (result != nullptr) ares_freeaddrinfo(result);
    std::string error;
    if (status != ARES_SUCCESS) {
      error = ares_strerror(status);
    } else if (addresses.empty()) {
      error = "no address found";
    }
    self->Answer(std::move(addresses), error);
  }

  static void OnSocketState(void *data, ares_socket_t fd, int readable, int writable) {
    auto *self = static_cast<CaresLookup *>(data);
    if (self->tearing_down_) return;
    const uint32_t events =
        (readable ? uint32_t{EPOLLIN} : 0) | (writable ? uint32_t{EPOLLOUT} : 0);
    auto watched = self->watched_.find(fd);
    if (events == 0) {
      if (watched != self->watched_.end()) {
        self->loop_.Remove(fd);
        self->watched_.erase(watched);
      }
    } else if (watched != self->watched_.end()) {
      (void)self->loop_.Modify(fd, events);
    } else if (self->loop_.Add(fd, events,
                               std::make_shared<SocketWatcher>(self->weak_from_this(), fd)) == 0) {
      self->watched_.emplace(fd, events);
    }
    // A socket the loop cannot watch leaves the lookup to its timeout.
  }

  IoLoop &loop_;
  const std::string host_;
  const int port_;
  sync::Mutex mu_;
  Done done_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;  // or answered
  // The loop's thread's alone (and the destructor's, once nothing else holds the lookup).
  ares_channel channel_ = nullptr;
  uint64_t timer_ = 0;
  std::map<int, uint32_t> watched_;  // c-ares's sockets the loop watches
  bool tearing_down_ = false;
};

}  // namespace

std::string SocketAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = "?";
  if (storage.ss_family == AF_INET6) {
    const auto *v6 = reinterpret_cast<const sockaddr_in6 *>(&storage);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  const auto *v4 = reinterpret_cast<const sockaddr_in *>(&storage);
  inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
}

std::shared_ptr<DnsLookup> DnsLookup::Start(IoLoop &loop, std::string host, int port, Done done) {
  auto lookup = std::make_shared<CaresLookup>(loop, std::move(host), port, std::move(done));
  loop.Post([lookup] { lookup->Begin(); });
  return lookup;
}

}  // namespace zerobus::net
