#include "core/status.h"

#include <iterator>

namespace zerobus {
namespace {

struct StatusInfo {
  const char *name;
  const char *description;
};

// Indexed by code: the codes are contiguous and append-only.
constexpr StatusInfo kStatusInfo[] = {
    {"ZB_OK", "Success."},
    {"ZB_ERR_INVALID_ARG", "A required pointer was NULL or an argument is out of range."},
    {"ZB_ERR_UNKNOWN_KEY", "The configuration key does not exist."},
    {"ZB_ERR_INVALID_VALUE", "The configuration value does not parse or is out of range."},
    {"ZB_ERR_QUEUE_FULL", "The in-flight window is full."},
    {"ZB_ERR_TIMEOUT", "The wait ended before its condition held."},
    {"ZB_ERR_CLOSED", "The stream is closed and accepts no more records."},
    {"ZB_ERR_EMPTY_RECORD", "The record has no bytes."},
    {"ZB_ERR_RECORD_TOO_LARGE", "The record or batch does not fit into one request."},
    {"ZB_ERR_EMPTY_BATCH", "The batch has no records."},
    {"ZB_ERR_RECORD_TYPE", "The record's type does not match the stream's."},
    {"ZB_ERR_INVALID_TARGET", "The endpoint, table name or descriptor is malformed."},
    {"ZB_ERR_TRANSPORT", "The gRPC call failed or the server ended it."},
    {"ZB_ERR_PROTOCOL", "The server broke the Zerobus protocol."},
    {"ZB_ERR_AUTH",
     "Authentication failed: the token request or exchange, the headers provider, or the "
     "token federation callback."},
    {"ZB_ERR_STATE", "The call is not allowed in the current state or from this thread."},
    {"ZB_ERR_NO_MEMORY", "Memory could not be allocated."},
    {"ZB_ERR_INTERNAL", "A bug in libzerobus."},
    {"ZB_ERR_INVALID_SCHEMA", "The table description or DDL cannot be used as a schema."},
    {"ZB_ERR_INVALID_RECORD", "The record does not fit the table's schema."},
};

const StatusInfo *Find(StatusCode code) {
  const auto index = static_cast<int32_t>(code);
  if (index < 0 || index >= static_cast<int32_t>(std::size(kStatusInfo))) return nullptr;
  return &kStatusInfo[index];
}

}  // namespace

const char *StatusName(StatusCode code) {
  const StatusInfo *info = Find(code);
  return info ? info->name : nullptr;
}

const char *StatusDescription(StatusCode code) {
  const StatusInfo *info = Find(code);
  return info ? info->description : nullptr;
}

}  // namespace zerobus
