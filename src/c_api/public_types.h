// The engine's values and structs as zerobus.h spells them. The engine keeps the public numbers
// for its codes, levels, states and event types without including zerobus.h: the checks below
// keep the two in step.
#ifndef ZEROBUS_C_API_PUBLIC_TYPES_H
#define ZEROBUS_C_API_PUBLIC_TYPES_H

#include <zerobus/zerobus.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/event.h"
#include "core/log_level.h"
#include "core/record_format.h"
#include "core/status.h"
#include "core/stream_info.h"
#include "core/version.h"

namespace zerobus::c_api {

#define ZB_SAME_VALUE(engine, public_value) \
  static_assert(static_cast<int32_t>(engine) == (public_value), #engine " is not " #public_value)
ZB_SAME_VALUE(StatusCode::kOk, ZB_OK);
ZB_SAME_VALUE(StatusCode::kInvalidArg, ZB_ERR_INVALID_ARG);
ZB_SAME_VALUE(StatusCode::kUnknownKey, ZB_ERR_UNKNOWN_KEY);
ZB_SAME_VALUE(StatusCode::kInvalidValue, ZB_ERR_INVALID_VALUE);
ZB_SAME_VALUE(StatusCode::kQueueFull, ZB_ERR_QUEUE_FULL);
ZB_SAME_VALUE(StatusCode::kTimeout, ZB_ERR_TIMEOUT);
ZB_SAME_VALUE(StatusCode::kClosed, ZB_ERR_CLOSED);
ZB_SAME_VALUE(StatusCode::kEmptyRecord, ZB_ERR_EMPTY_RECORD);
ZB_SAME_VALUE(StatusCode::kRecordTooLarge, ZB_ERR_RECORD_TOO_LARGE);
ZB_SAME_VALUE(StatusCode::kEmptyBatch, ZB_ERR_EMPTY_BATCH);
ZB_SAME_VALUE(StatusCode::kRecordType, ZB_ERR_RECORD_TYPE);
ZB_SAME_VALUE(StatusCode::kInvalidTarget, ZB_ERR_INVALID_TARGET);
ZB_SAME_VALUE(StatusCode::kTransport, ZB_ERR_TRANSPORT);
ZB_SAME_VALUE(StatusCode::kProtocol, ZB_ERR_PROTOCOL);
ZB_SAME_VALUE(StatusCode::kAuth, ZB_ERR_AUTH);
ZB_SAME_VALUE(StatusCode::kState, ZB_ERR_STATE);
ZB_SAME_VALUE(StatusCode::kNoMemory, ZB_ERR_NO_MEMORY);
ZB_SAME_VALUE(StatusCode::kInternal, ZB_ERR_INTERNAL);
ZB_SAME_VALUE(StatusCode::kInvalidSchema, ZB_ERR_INVALID_SCHEMA);
ZB_SAME_VALUE(StatusCode::kInvalidRecord, ZB_ERR_INVALID_RECORD);
ZB_SAME_VALUE(LogLevel::kError, ZB_LOG_ERROR);
ZB_SAME_VALUE(LogLevel::kWarn, ZB_LOG_WARN);
ZB_SAME_VALUE(LogLevel::kInfo, ZB_LOG_INFO);
ZB_SAME_VALUE(LogLevel::kDebug, ZB_LOG_DEBUG);
ZB_SAME_VALUE(StreamState::kOpen, ZB_STREAM_OPEN);
ZB_SAME_VALUE(StreamState::kRecovering, ZB_STREAM_RECOVERING);
ZB_SAME_VALUE(StreamState::kPaused, ZB_STREAM_PAUSED);
ZB_SAME_VALUE(StreamState::kFailed, ZB_STREAM_FAILED);
ZB_SAME_VALUE(StreamState::kClosed, ZB_STREAM_CLOSED);
ZB_SAME_VALUE(RecordFormat::kProto, ZB_RECORD_PROTO);
ZB_SAME_VALUE(RecordFormat::kJson, ZB_RECORD_JSON);
ZB_SAME_VALUE(RecordFormat::kAvro, ZB_RECORD_AVRO);
ZB_SAME_VALUE(RecordFormat::kArrow, ZB_RECORD_ARROW);
ZB_SAME_VALUE(EventType::kAck, ZB_EVENT_ACK);
ZB_SAME_VALUE(EventType::kError, ZB_EVENT_ERROR);
ZB_SAME_VALUE(kVersionMajor, ZB_VERSION_MAJOR);
ZB_SAME_VALUE(kVersionMinor, ZB_VERSION_MINOR);
ZB_SAME_VALUE(kVersionPatch, ZB_VERSION_PATCH);
#undef ZB_SAME_VALUE

inline zb_status ToPublic(StatusCode code) {
  return static_cast<zb_status>(code);
}

// The zb_event the event callback or zb_stream_poll() hands out for `event`, with `error` as
// its error object.
inline zb_event ToPublic(const Event &event, zb_error *error) {
  return zb_event{sizeof(zb_event), static_cast<zb_event_type>(event.type), event.first_offset,
                  event.last_offset, error};
}

// Writes `filled`, a struct of zerobus.h that starts with its uint32_t struct_size, into the
// caller's memory at `out`, as much of it as the caller's `room` bytes hold: the caller may
// have been compiled against an older, shorter version of the struct. struct_size tells the
// caller how much was written.
template <typename Public>
void CopyVersioned(Public filled, void *out, size_t room) {
  const size_t size = std::min(room, sizeof filled);
  filled.struct_size = static_cast<uint32_t>(size);
  std::memcpy(out, &filled, size);
}

}  // namespace zerobus::c_api

#endif  // ZEROBUS_C_API_PUBLIC_TYPES_H
