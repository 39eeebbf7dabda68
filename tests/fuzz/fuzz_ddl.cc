// libFuzzer target: Delta DDL. A statement ParseTableDdl() accepts must print back (TypeText)
// as DDL that parses to the same table, and what
// BuildDescriptor() maps it to, protobuf must accept.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "table/ddl_parser.h"
#include "table/proto_schema.h"

namespace {

std::string Print(const zerobus::table::TableSchema &table) {
  std::string ddl = table.full_name + " (";
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const zerobus::table::DeltaField &column = table.columns[i];
    if (i > 0) ddl += ", ";
    ddl += "`" + column.name + "` " + zerobus::table::TypeText(column.type);
    if (!column.nullable) ddl += " NOT NULL";
  }
  return ddl + ")";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zerobus::table::TableSchema table;
  std::string error;
  if (!zerobus::table::ParseTableDdl(std::string_view(reinterpret_cast<const char *>(data), size),
                                     &table, &error)) {
    return 0;
  }
  zerobus::table::TableSchema again;
  if (!zerobus::table::ParseTableDdl(Print(table), &again, &error) ||
      Print(again) != Print(table)) {
    std::abort();  // the printed form of an accepted table does not round-trip
  }
  google::protobuf::DescriptorProto message;
  std::string source;
  // BuildDescriptor() may refuse (one name clash protobuf forbids), but what it builds,
  // protobuf must accept.
  if (zerobus::table::BuildDescriptor(table, &message, &error) &&
      !zerobus::table::ProtoSource(message, &source, &error)) {
    std::abort();
  }
  return 0;
}
