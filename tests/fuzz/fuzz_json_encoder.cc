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

#include "core/schema/ddl_parser.h"
#include "core/schema/json_encoder.h"
#include "core/schema/proto_schema.h"

namespace {

constexpr char kTable[] =
    "fuzz.default.everything (s STRING NOT NULL, vc VARCHAR(4), b BOOLEAN, ti TINYINT, "
    "si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(6,2), dt DATE, ts TIMESTAMP, "
    "tsn TIMESTAMP_NTZ, bin BINARY, v VARIANT, tags ARRAY<STRING>, "
    "pts ARRAY<STRUCT<x: DOUBLE, y: INT NOT NULL>>, m MAP<BIGINT, STRUCT<n: STRING>>, "
    "flags MAP<BOOLEAN, INT>, geo STRUCT<lat: DOUBLE NOT NULL, sub: STRUCT<c: ARRAY<DATE>>>)";

// The table, its encoder and a prototype message of its descriptor, built once.
struct Fixture {
  Fixture() {
    std::string error;
    if (!zerobus::schema::ParseTableDdl(kTable, &table, &error)) std::abort();
    google::protobuf::FileDescriptorProto file;
    file.set_name("fuzz.proto");
    file.set_syntax("proto2");
    if (!zerobus::schema::BuildDescriptor(table, file.add_message_type(), &error)) std::abort();
    const google::protobuf::FileDescriptor *built = pool.BuildFile(file);
    if (built == nullptr) std::abort();
    prototype = factory.GetPrototype(built->message_type(0));
  }
  zerobus::schema::TableSchema table;
  google::protobuf::DescriptorPool pool;
  google::protobuf::DynamicMessageFactory factory{&pool};
  const google::protobuf::Message *prototype = nullptr;
};

// A message names a column path (at most a few dozen bytes here) and quotes excerpts of values.
constexpr size_t kMaxMessage = 512;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const Fixture *fixture = new Fixture;  // never freed: lives as long as the fuzzer
  const zerobus::schema::JsonEncoder encoder(&fixture->table);
  std::string bytes;
  std::string error;
  if (!encoder.Encode(std::string_view(reinterpret_cast<const char *>(data), size), &bytes,
                      &error)) {
    if (error.size() > kMaxMessage) std::abort();
    return 0;
  }
  std::unique_ptr<google::protobuf::Message> message(fixture->prototype->New());
  // ParseFromString also checks that every required field is present.
  if (!message->ParseFromString(bytes)) std::abort();
  return 0;
}
