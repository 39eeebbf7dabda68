// Which listen addresses stay on this machine: the server speaks plaintext and serves its
// admin endpoint only there.
#ifndef ZEROBUS_SERVER_LOOPBACK_H
#define ZEROBUS_SERVER_LOOPBACK_H

#include <string>

namespace zerobus::server {

// Whether `host` (a name, or an address, IPv6 in brackets or not) resolves, and every address
// it resolves to is on the loopback interface: 127.0.0.0/8, ::1, or 127.x as an IPv4-mapped
// IPv6 address. What the name looks like does not count: "127.evil.test" is whatever it
// resolves to. Resolves through getaddrinfo, so a name may cost a DNS query.
bool IsLoopbackHost(const std::string &host);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_LOOPBACK_H
