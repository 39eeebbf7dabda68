// Where the server writes its human-readable event lines.
#ifndef ZEROBUS_SERVER_LOG_SINK_H
#define ZEROBUS_SERVER_LOG_SINK_H

#include <functional>
#include <string>

namespace zerobus::server {

// Receives one line at a time, without the trailing newline, from any server thread
// (concurrently). An empty sink means silence, which is what tests want.
using LogSink = std::function<void(const std::string &line)>;

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_LOG_SINK_H
