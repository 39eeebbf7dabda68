#include "server/loopback.h"

namespace zerobus::server {

bool IsLoopbackHost(const std::string &host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace zerobus::server
