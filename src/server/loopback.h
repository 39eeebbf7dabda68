// Which listen addresses stay on this machine: the server speaks plaintext and serves its
// admin endpoint only there.
#ifndef ZEROBUS_SERVER_LOOPBACK_H
#define ZEROBUS_SERVER_LOOPBACK_H

#include <string>

namespace zerobus::server {

// Whether `host` names this machine's loopback interface ("localhost", 127.x.y.z, ::1).
bool IsLoopbackHost(const std::string &host);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_LOOPBACK_H
