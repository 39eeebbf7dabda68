// libFuzzer target: JSON records encoded against a table of every type and nesting shape.
// Whatever the encoder accepts must parse as a message of the table's descriptor; whatever it
// refuses, it refuses with a message that does not grow with the input (deep nesting and long
// values included).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include "fuzz_table.h"
#include "table/json_encoder.h"
#include "table/proto_schema.h"

namespace {

// The table, its encoder and a prototype message of its descriptor, built once.
struct Fixture {
  Fixture() {
    std::string error;
    google::protobuf::FileDescriptorProto file;
    file.set_name("fuzz.proto");
    file.set_syntax("proto2");
    if (!zerobus::table::BuildDescriptor(table, file.add_message_type(), &error)) std::abort();
    const google::protobuf::FileDescriptor *built = pool.BuildFile(file);
    if (built == nullptr) std::abort();
    prototype = factory.GetPrototype(built->message_type(0));
  }
  const zerobus::table::TableSchema table = fuzz::ParseTableOrAbort(fuzz::kEveryTypeTable);
  const zerobus::table::JsonEncoder encoder{&table};
  google::protobuf::DescriptorPool pool;
  google::protobuf::DynamicMessageFactory factory{&pool};
  const google::protobuf::Message *prototype = nullptr;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const Fixture *fixture = new Fixture;  // never freed: lives as long as the fuzzer
  std::string bytes;
  std::string error;
  if (!fixture->encoder.Encode(std::string_view(reinterpret_cast<const char *>(data), size), &bytes,
                               &error)) {
    if (error.size() > fuzz::kMaxRecordMessage) std::abort();
    return 0;
  }
  std::unique_ptr<google::protobuf::Message> message(fixture->prototype->New());
  // ParseFromString also checks that every required field is present.
  if (!message->ParseFromString(bytes)) std::abort();
  return 0;
}
