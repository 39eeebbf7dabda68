// The bytes the library's HTTP/2 client reads from a server besides HTTP/2's own frames (which
// nghttp2 reads): gRPC's length-prefixed messages in a call's DATA, and an HTTP proxy's answer to
// CONNECT. Pure functions of their input, so that a fuzz target reads them as the client does.
#ifndef ZEROBUS_NET_FRAMING_H
#define ZEROBUS_NET_FRAMING_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zerobus::net {

// gRPC's prefix of a message: a compressed flag byte and the length, big-endian.
inline constexpr size_t kGrpcPrefixBytes = 5;
std::string GrpcPrefix(size_t message_length);

// Cuts a call's response bytes into whole messages. Not thread-safe.
class MessageReader {
 public:
  explicit MessageReader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  enum class Result {
    kMessage,     // *message holds the next one
    kNeedMore,    // no whole message yet
    kCompressed,  // the next one is compressed, which no call asks for
    kTooLarge,    // the next one announces more than max_message_bytes (*announced)
  };

  void Append(std::string_view bytes) { buffered_.append(bytes.data(), bytes.size()); }
  // The next whole message, or why there is none. kCompressed and kTooLarge are final: the call
  // must end.
  Result Next(std::string *message, uint64_t *announced);

 private:
  const size_t max_message_bytes_;
  std::string buffered_;
  size_t offset_ = 0;  // where the next message begins in buffered_
};

// An HTTP proxy's answer to CONNECT, read from the front of `bytes`.
struct TunnelAnswer {
  enum class State {
    kIncomplete,  // no end of headers yet
    kOpen,        // a 2xx status: the tunnel is up, and `consumed` bytes were the answer
    kRefused,     // any other status (`status_line` says which)
    kTooLong,     // no end within the bytes a proxy has any reason to send
  };
  State state = State::kIncomplete;
  std::string status_line;  // at most 200 bytes of it
  size_t consumed = 0;
};
TunnelAnswer ReadTunnelAnswer(std::string_view bytes);

}  // namespace zerobus::net

#endif  // ZEROBUS_NET_FRAMING_H
