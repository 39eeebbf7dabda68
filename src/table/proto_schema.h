// The protobuf shape of a table, as the service maps Delta types to proto2
// (zerobus-service.md §4.1): the DescriptorProto a stream is opened with, and its .proto source.
//
// The choices where the service leaves room, and why:
// - The message is named after the table's last name part in PascalCase ("events" -> Events);
//   nested messages after their field (STRUCT column "geo_point" -> GeoPoint, numbered
//   GeoPoint2, ... on a clash); a MAP's entry is <Field>Entry, as protobuf requires of map
//   entries, and a STRUCT map value <Field>Value. Names travel only in the descriptor: the
//   service matches fields to columns by field name, which is the column's own name.
// - Field numbers are 1, 2, ... in column (or STRUCT field) order, skipping protobuf's
//   reserved 19000-19999, so that the same table always gives the same numbers.
// - A NOT NULL column (or STRUCT field) is `required`, a nullable one `optional`; ARRAY and MAP
//   are `repeated`, which has no presence (proto2 keeps NOT NULL checkable; proto3 would drop
//   zeros and empty strings).
// - DECIMAL, VARCHAR(n), CHAR(n) and VARIANT are `string` (decimal text, the characters, and
//   JSON text); DATE is int32 days and TIMESTAMP / TIMESTAMP_NTZ int64 microseconds since the
//   epoch; TINYINT and SMALLINT are int32 (the server checks their range).
#ifndef ZEROBUS_TABLE_PROTO_SCHEMA_H
#define ZEROBUS_TABLE_PROTO_SCHEMA_H

#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/descriptor.pb.h>

#include "table/delta_type.h"

namespace zerobus::table {

// The field number of the column (or STRUCT field) at `index`.
int32_t FieldNumber(size_t index);

// The message of `table` into `*message`, nested types inline and no imports, as the service
// takes it. Fails, saying why in `*error`, for a type the service cannot map, nesting past
// kMaxNestingDepth, and the one name protobuf cannot give: a MAP column `x` next to a column
// named XEntry (protobuf names x's entries so).
bool BuildDescriptor(const TableSchema &table, google::protobuf::DescriptorProto *message,
                     std::string *error);

// The proto2 source text of `message`, as protobuf itself prints it after building it into a
// descriptor pool (which checks it). Fails, saying why, when protobuf refuses the message.
bool ProtoSource(const google::protobuf::DescriptorProto &message, std::string *source,
                 std::string *error);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_PROTO_SCHEMA_H
