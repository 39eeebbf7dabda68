// Streams protobuf records into a table from C++, with a message class that protoc generated
// from proto/event.proto, and waits until they are durable.
//
//   ingest_proto_cpp [ENDPOINT]
//
// ENDPOINT defaults to $ZEROBUS_ENDPOINT. Against a local server:
//
//   zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' --data-dir /tmp/zb
//   ingest_proto_cpp http://127.0.0.1:50051
//   zerobus rows main.default.events --data-dir /tmp/zb
#include <google/protobuf/descriptor.pb.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <zerobus/zerobus.hpp>

#include "event.pb.h"

namespace {

constexpr const char *kTable = "main.default.events";
constexpr int kRecords = 1000;

// The stream is opened with the record's message descriptor, which the server checks against
// the table's columns before it accepts a single record.
std::string EventDescriptor() {
  google::protobuf::DescriptorProto descriptor;
  zerobus::examples::Event::descriptor()->CopyTo(&descriptor);
  return descriptor.SerializeAsString();
}

}  // namespace

int main(int argc, char **argv) {
  const char *endpoint = argc > 1 ? argv[1] : std::getenv("ZEROBUS_ENDPOINT");
  if (endpoint == nullptr) {
    std::cerr << "usage: " << argv[0] << " ENDPOINT (or set ZEROBUS_ENDPOINT)\n";
    return 2;
  }
  try {
    zerobus::Config config;
    // A local server speaks plaintext, which the SDK only does when told to; a workspace needs
    // credentials instead (README.md, "Against a workspace").
    config.set("transport.plaintext", std::string(endpoint).rfind("http://", 0) == 0);
    zerobus::Sdk sdk(endpoint, config);
    zerobus::Stream stream = sdk.proto_stream(kTable, EventDescriptor(), config);

    uint64_t last_offset = 0;
    zerobus::examples::Event event;
    for (int id = 0; id < kRecords; ++id) {
      event.set_id(id);
      event.set_payload("event " + std::to_string(id));
      // The bytes are copied before ingest returns, so one string can be reused.
      last_offset = stream.ingest_proto(event.SerializeAsString());
    }
    // Offsets are logical, one per record: waiting for the last one waits for all of them.
    stream.wait_for_offset(last_offset, std::chrono::seconds(30));
    stream.close(std::chrono::seconds(10));
    std::cout << last_offset + 1 << " protobuf records durable in " << kTable << "\n";
    return 0;
  } catch (const zerobus::Error &error) {
    // Each error says whether trying again can help: a network failure can, a refused table
    // cannot.
    std::cerr << "ingest_proto_cpp: " << error.what() << (error.retryable() ? " (retryable)" : "")
              << "\n";
    return 1;
  }
}
