// libFuzzer target: Unity Catalog table descriptions. Whatever ParseTableInfo() accepts and
// BuildDescriptor() maps must be a descriptor that protobuf itself accepts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "table/proto_schema.h"
#include "table/table_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zerobus::table::TableSchema table;
  std::string error;
  if (!zerobus::table::ParseTableInfo(std::string_view(reinterpret_cast<const char *>(data), size),
                                      &table, &error)) {
    return 0;
  }
  google::protobuf::DescriptorProto message;
  std::string source;
  // BuildDescriptor() may refuse (one name clash protobuf forbids), but what it builds,
  // protobuf must accept.
  if (zerobus::table::BuildDescriptor(table, &message, &error) &&
      !zerobus::table::ProtoSource(message, &source, &error)) {
    std::abort();  // a descriptor protobuf refuses
  }
  return 0;
}
