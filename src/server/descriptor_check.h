// The descriptor a PROTO stream sends with create_stream, built into a usable message type and
// checked against the table as the service does: every field a column of a compatible type,
// `required` for NOT NULL columns, no NOT NULL column left out, at most 2000 fields.
#ifndef ZEROBUS_SERVER_DESCRIPTOR_CHECK_H
#define ZEROBUS_SERVER_DESCRIPTOR_CHECK_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/status.h>

#include "table/delta_type.h"

namespace zerobus::server {

struct CheckedDescriptor {
  std::unique_ptr<google::protobuf::DescriptorPool> pool;
  const google::protobuf::Descriptor *message = nullptr;  // owned by pool
  // For the table's columns and for the fields of each STRUCT in it (keyed by the address of
  // the table::TableSchema's vector), the field that carries each one, in order, or null when the
  // descriptor leaves that (nullable) one out.
  std::map<const std::vector<table::DeltaField> *,
           std::vector<const google::protobuf::FieldDescriptor *>>
      fields_of;
};

// Builds `descriptor_proto` (a serialized google.protobuf.DescriptorProto) into `*checked`.
// With a null `table` only checks that it builds. INVALID_ARGUMENT naming the field otherwise.
grpc::Status CheckDescriptor(const std::string &descriptor_proto, const table::TableSchema *table,
                             CheckedDescriptor *checked);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_DESCRIPTOR_CHECK_H
