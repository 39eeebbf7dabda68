// Finds a host's addresses without holding any thread: c-ares (gRPC C++'s resolver too), its
// sockets watched and its timeouts run by the IoLoop. getaddrinfo() would block the thread
// that opens a connection (a stream's supervision, shared by every stream of the SDK) for as
// long as a slow name server takes.
#ifndef ZEROBUS_NET_DNS_LOOKUP_H
#define ZEROBUS_NET_DNS_LOOKUP_H

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/io_loop.h"

namespace zerobus::net {

// A socket address to connect() to.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr *get() const { return reinterpret_cast<const sockaddr *>(&storage); }
  // "1.2.3.4:443" or "[::1]:443", for messages.
  std::string ToString() const;
};

class DnsLookup {
 public:
  // The host's addresses in the order to try them (RFC 6724's, as c-ares sorts them), or none
  // and why not.
  using Done = std::function<void(std::vector<SocketAddress> addresses, const std::string &error)>;

  // Looks up `host` (a name, or an address in text) for TCP `port`, on `loop`'s thread; `done`
  // runs there once, with the answer, unless the lookup is cancelled first. Thread-safe.
  // Whoever holds what `done` refers to keeps the returned lookup and cancels it before letting
  // go of that (or makes `done` check, as a weak_ptr does).
  static std::shared_ptr<DnsLookup> Start(IoLoop &loop, std::string host, int port, Done done);

  // Ends the lookup: `done` will not be called if it has not been yet (a call under way on the
  // loop's thread finishes). Thread-safe; idempotent.
  virtual void Cancel() = 0;

  virtual ~DnsLookup() = default;
};

}  // namespace zerobus::net

#endif  // ZEROBUS_NET_DNS_LOOKUP_H
