// Checks what a client asks for when it opens a stream, before any state is created for it.
#ifndef ZEROBUS_SERVER_VALIDATION_H
#define ZEROBUS_SERVER_VALIDATION_H

#include <string_view>

#include <grpcpp/support/status.h>

#include "zerobus_service.pb.h"

namespace zerobus::server {

// OK when `name` is catalog.schema.table, each part 1 to 255 ASCII letters, digits or '_'.
grpc::Status CheckTableName(std::string_view name);

// Checks a create_stream request and, when it is valid, stores the stream's record type in
// `*type` (PROTO when the request leaves it unset, as the service does for old clients).
grpc::Status CheckCreateStream(const databricks::zerobus::CreateIngestStreamRequest &request,
                               databricks::zerobus::RecordType *type);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_VALIDATION_H
