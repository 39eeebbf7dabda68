#include "server/validation.h"

#include <string>

#include <google/protobuf/descriptor.pb.h>

#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using databricks::zerobus::RecordType;

// Unity Catalog's limit on the name of a catalog, a schema or a table.
constexpr size_t kMaxNamePartLength = 255;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

}  // namespace

grpc::Status CheckTableName(std::string_view name) {
  int parts = 1;
  size_t part_length = 0;
  for (char c : name) {
    if (c == '.') {
      if (part_length == 0) break;
      ++parts;
      part_length = 0;
    } else if (IsNameChar(c) && part_length < kMaxNamePartLength) {
      ++part_length;
    } else {
      part_length = 0;
      parts = 0;
      break;
    }
  }
  if (parts != 3 || part_length == 0) {
    return Invalid("invalid table name '" + table::Excerpt(name) +
                   "': expected catalog.schema.table of ASCII letters, digits and underscores, "
                   "each part at most " +
                   std::to_string(kMaxNamePartLength) + " characters");
  }
  return grpc::Status::OK;
}

grpc::Status CheckCreateStream(const databricks::zerobus::CreateIngestStreamRequest &request,
                               RecordType *type) {
  grpc::Status status = CheckTableName(request.table_name());
  if (!status.ok()) return status;

  const RecordType requested =
      request.has_record_type() ? request.record_type() : RecordType::PROTO;
  switch (requested) {
    case RecordType::JSON:
      break;
    case RecordType::PROTO: {
      if (!request.has_descriptor_proto() || request.descriptor_proto().empty()) {
        return Invalid("descriptor_proto is required for PROTO streams");
      }
      google::protobuf::DescriptorProto descriptor;
      if (!descriptor.ParseFromString(request.descriptor_proto()) || descriptor.name().empty()) {
        return Invalid("descriptor_proto is not a serialized google.protobuf.DescriptorProto");
      }
      break;
    }
    case RecordType::AVRO:
      if (!request.has_avro_schema_json() || request.avro_schema_json().empty()) {
        return Invalid("avro_schema_json is required for AVRO streams");
      }
      break;
    default:
      return Invalid("record_type must be PROTO, JSON or AVRO");
  }
  *type = requested;
  return grpc::Status::OK;
}

}  // namespace zerobus::server
