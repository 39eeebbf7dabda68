// Stream ids that are unique across servers and restarts, like the service's.
#ifndef ZEROBUS_SERVER_STREAM_ID_H
#define ZEROBUS_SERVER_STREAM_ID_H

#include <string>

namespace zerobus::server {

// A random (version 4) UUID in its usual text form, e.g. "0f8c...-...". Thread-safe.
std::string NewStreamId();

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_STREAM_ID_H
