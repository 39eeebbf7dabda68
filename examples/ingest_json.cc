// Streams JSON records into a table from C++ and counts their acknowledgements as they come.
//
//   ingest_json_cpp [ENDPOINT]
//
// ENDPOINT defaults to $ZEROBUS_ENDPOINT. Against a local server:
//
//   zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' --data-dir /tmp/zb
//   ingest_json_cpp http://127.0.0.1:50051
//   zerobus rows main.default.events --data-dir /tmp/zb
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <zerobus/zerobus.hpp>

namespace {

constexpr const char *kTable = "main.default.events";
constexpr int kRecords = 1000;

}  // namespace

int main(int argc, char **argv) {
  const char *endpoint = argc > 1 ? argv[1] : std::getenv("ZEROBUS_ENDPOINT");
  if (endpoint == nullptr) {
    std::cerr << "usage: " << argv[0] << " ENDPOINT (or set ZEROBUS_ENDPOINT)\n";
    return 2;
  }
  try {
    zerobus::Config config;
    config.set("transport.plaintext", std::string(endpoint).rfind("http://", 0) == 0);
    // Ingest returns as soon as the record is copied; durability is reported later, through
    // this callback, on a thread of the library's. Acks are cumulative, so one event covers
    // every record up to its last_offset. The callback must be quick: events wait behind it.
    std::atomic<uint64_t> durable{0};
    std::atomic<uint64_t> lost{0};
    config.on_event([&](const zerobus::Event &event) {
      if (event.type == zerobus::Event::Type::ack) {
        durable += event.record_count();
      } else {
        lost += event.record_count();
        std::cerr << "records " << event.first_offset << ".." << event.last_offset
                  << " not delivered: " << event.error->what() << "\n";
      }
    });
    zerobus::Sdk sdk(endpoint, config);
    // `durable` and `lost` must outlive the stream, whose destructor is the point after which
    // the callback never runs again: declared before it, they do.
    zerobus::Stream stream = sdk.json_stream(kTable, config);

    for (int id = 0; id < kRecords; ++id) {
      stream.ingest_json(R"({"id": )" + std::to_string(id) + R"(, "payload": "event )" +
                         std::to_string(id) + R"("})");
    }
    // close() waits for every acknowledgement and for the callback to have seen it. On a
    // timeout it throws, and stream.unacked() holds what to send again.
    stream.close(std::chrono::seconds(30));
    std::cout << durable << " JSON records durable in " << kTable << ", " << lost << " lost\n";
    return lost == 0 ? 0 : 1;
  } catch (const zerobus::Error &error) {
    std::cerr << "ingest_json_cpp: " << error.what() << (error.retryable() ? " (retryable)" : "")
              << "\n";
    return 1;
  }
}
