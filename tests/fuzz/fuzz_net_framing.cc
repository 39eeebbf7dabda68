// The bytes a server or a proxy sends the library's own HTTP/2 client besides HTTP/2's frames
// (src/net/framing): the input cut into chunks as DATA frames would cut it, read into gRPC
// messages, and read whole as a proxy's answer to CONNECT. Neither may crash, read out of
// bounds, hand out a message over the limit, or consume more than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  constexpr size_t kLimit = 4096;
  zerobus::net::MessageReader reader(kLimit);
  // The first byte chooses the chunk size, so that prefixes and messages straddle chunks.
  const size_t chunk = size > 0 ? 1 + data[0] % 64 : 1;
  bool ended = false;
  for (size_t at = size > 0 ? 1 : 0; at < size && !ended; at += chunk) {
    reader.Append(input.substr(at, chunk));
    for (;;) {
      std::string message;
      uint64_t announced = 0;
      const auto result = reader.Next(&message, &announced);
      if (result == zerobus::net::MessageReader::Result::kMessage) {
        if (message.size() > kLimit || message.size() != announced) std::abort();
        continue;
      }
      ended = result != zerobus::net::MessageReader::Result::kNeedMore;
      break;
    }
  }
  const zerobus::net::TunnelAnswer answer = zerobus::net::ReadTunnelAnswer(input);
  if (answer.consumed > size || answer.status_line.size() > 200) std::abort();
  return 0;
}
