// The C++ wrapper as a consumer meets it: zerobus.hpp included first and alone, compiled with
// -Wall -Wextra -Werror -pedantic as C++17 (abi.header_hpp in abi_test.sh), with every template
// instantiated once, since an unused template is barely checked.
#include <zerobus/zerobus.hpp>

#include <array>
#include <chrono>
#include <list>
#include <string>
#include <vector>

void zb_hpp_check_instantiations(zerobus::Stream &stream);
void zb_hpp_check_instantiations(zerobus::Stream &stream) {
  const std::vector<std::string> strings = {"{}"};
  const std::list<std::vector<unsigned char>> vectors(1, std::vector<unsigned char>(1, 0x08));
  const std::array<std::byte, 2> bytes{};
  stream.ingest_proto(bytes);
  stream.ingest_proto_batch(vectors);
  stream.ingest_json_batch(strings);
  stream.ingest_json_batch({"{}", "{}"});
  stream.flush(std::chrono::milliseconds(1));
  stream.wait_for_offset(0, std::chrono::seconds(1));
  stream.close(std::chrono::microseconds(1));
  stream.poll(1, std::chrono::milliseconds(0));
  zerobus::Config().set("recovery.retries", 1).set("transport.plaintext", true);
}
