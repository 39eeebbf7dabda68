// zb_stream, zb_records, zb_headers and zb_token_sink: streams and what they hand back.
#define ZB_EXPERIMENTAL_PERSISTENT
#include <zerobus/zerobus.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "c_api/guard.h"
#include "c_api/handles.h"
#include "c_api/public_types.h"
#include "core/headers.h"
#include "core/log.h"
#include "core/retire_stream.h"
#include "core/stats.h"
#include "core/stream_handle.h"

struct zb_records {
  std::vector<std::pair<uint64_t, std::string>> records;
};

using zerobus::RecordFormat;
using zerobus::RecordName;
using zerobus::RecordView;
using zerobus::Status;
using zerobus::StatusCode;
using zerobus::c_api::Guard;
using zerobus::c_api::NullArgument;

namespace {

// zb_event as the first version of the library defined it: callers may not pass less.
constexpr size_t kMinEventSize = offsetof(zb_event, error) + sizeof(zb_error *);
// No object is larger than PTRDIFF_MAX bytes, so no batch has more records than this: its
// records and lens arrays would not fit into memory side by side.
constexpr size_t kMaxBatchCount = PTRDIFF_MAX / (sizeof(const void *) + sizeof(size_t));
// The service takes messages of at most 10 MiB, and the descriptor travels in the first one.
constexpr size_t kMaxDescriptorBytes = 10 * 1024 * 1024;

Status CheckTimeout(int32_t timeout_ms) {
  if (timeout_ms >= ZB_TIMEOUT_INFINITE) return Status::Ok();
  return Status(StatusCode::kInvalidArg, "timeout_ms must be ZB_TIMEOUT_INFINITE or at least 0");
}

Status CheckRecord(const void *record, size_t len, size_t index, size_t count) {
  if (len == 0) return Status(StatusCode::kEmptyRecord, RecordName(index, count) + " is empty");
  if (!record) return NullArgument(RecordName(index, count).c_str());
  return Status::Ok();
}

Status IngestChecked(zb_stream *stream, const void *const *records, const size_t *lens,
                     size_t count, RecordFormat format, uint64_t *last_offset_out) {
  // A record a call, the most frequent call there is, costs no allocation.
  RecordView one{nullptr, 0};
  std::vector<RecordView> many;
  RecordView *views = &one;
  if (count > 1) {
    many.resize(count);
    views = many.data();
  }
  for (size_t i = 0; i < count; ++i) {
    Status valid = CheckRecord(records[i], lens[i], i, count);
    if (!valid.ok()) return valid;
    views[i] = RecordView{records[i], lens[i]};
  }
  return stream->impl->Ingest(views, count, format, last_offset_out);
}

Status IngestOne(zb_stream *stream, const void *record, size_t len, RecordFormat format,
                 uint64_t *offset_out) {
  if (!stream) return NullArgument("stream");
  return IngestChecked(stream, &record, &len, 1, format, offset_out);
}

Status IngestBatch(zb_stream *stream, const void *const *records, const size_t *lens, size_t count,
                   RecordFormat format, uint64_t *last_offset_out) {
  if (!stream) return NullArgument("stream");
  if (count == 0) return Status(StatusCode::kEmptyBatch, "the batch has no records");
  if (count > kMaxBatchCount) {
    return Status(StatusCode::kInvalidArg,
                  "count " + std::to_string(count) + " is more than any array can hold");
  }
  if (!records) return NullArgument("records");
  if (!lens) return NullArgument("lens");
  return IngestChecked(stream, records, lens, count, format, last_offset_out);
}

Status NewFromSchema(zb_sdk *sdk, const zb_schema *schema, RecordFormat format,
                     const zb_config *cfg, zb_stream **out) {
  if (!sdk) return NullArgument("sdk");
  if (!schema) return NullArgument("schema");
  if (!out) return NullArgument("out");
  const zerobus::Config defaults;
  auto handle = std::make_unique<zb_stream>();
  Status opened = zerobus::StreamHandle::OpenFromSchema(
      sdk->impl, schema->impl, format, cfg ? cfg->config : defaults, handle.get(), &handle->impl);
  if (!opened.ok()) return opened;
  *out = handle.release();
  return Status::Ok();
}

// zb_stream_new() and the persistent streams' zb_stream_new_persistent() and
// zb_stream_resume().
Status NewStream(zb_sdk *sdk, const char *table_name, zb_record_type record_type,
                 const void *descriptor, size_t descriptor_len, const zb_config *cfg,
                 zerobus::Persistence persistence, zb_stream **out) {
  if (!sdk) return NullArgument("sdk");
  if (!table_name) return NullArgument("table_name");
  if (!out) return NullArgument("out");
  if (record_type != ZB_RECORD_PROTO && record_type != ZB_RECORD_JSON &&
      record_type != ZB_RECORD_AVRO) {
    return Status(StatusCode::kInvalidArg,
                  "record_type must be ZB_RECORD_PROTO, ZB_RECORD_JSON or ZB_RECORD_AVRO (an "
                  "Arrow stream opens with zb_stream_new_arrow())");
  }
  const auto format = static_cast<RecordFormat>(record_type);
  const bool json = format == RecordFormat::kJson;
  if (json && (descriptor || descriptor_len)) {
    return Status(StatusCode::kInvalidArg, "a JSON stream takes no descriptor");
  }
  if (!json && (!descriptor || descriptor_len == 0)) {
    return Status(StatusCode::kInvalidArg, format == RecordFormat::kAvro
                                               ? "an Avro stream needs its writer schema"
                                               : "a protobuf stream needs a descriptor");
  }
  if (descriptor_len > kMaxDescriptorBytes) {
    return Status(StatusCode::kInvalidArg, "descriptor_len " + std::to_string(descriptor_len) +
                                               " is more than the " +
                                               std::to_string(kMaxDescriptorBytes) +
                                               " bytes the service takes in one message");
  }
  const zerobus::Config defaults;
  auto handle = std::make_unique<zb_stream>();
  std::string descriptor_bytes =
      json ? std::string() : std::string(static_cast<const char *>(descriptor), descriptor_len);
  const zerobus::Config &config = cfg ? cfg->config : defaults;
  Status opened =
      persistence.mode == zerobus::Persistence::Mode::kEphemeral
          ? zerobus::StreamHandle::Open(sdk->impl, table_name, format, std::move(descriptor_bytes),
                                        config, handle.get(), &handle->impl)
          : zerobus::StreamHandle::OpenPersistent(
                sdk->impl, table_name, format, std::move(descriptor_bytes), nullptr, config,
                handle.get(), std::move(persistence), &handle->impl);
  if (!opened.ok()) return opened;
  *out = handle.release();
  return Status::Ok();
}

// ZB_ERR_STATE: the persistent streams' accessors on another stream.
Status NotPersistent() {
  return Status(StatusCode::kState, "the stream is not a persistent stream");
}

}  // namespace

extern "C" {

ZB_API zb_status zb_headers_add(zb_headers *headers, const char *name, const char *value,
                                zb_error **err) {
  return Guard(err, [&] {
    if (!headers) return NullArgument("headers");
    if (!name) return NullArgument("name");
    if (!value) return NullArgument("value");
    return zerobus::AddHeader(headers->headers, name, value);
  });
}

ZB_API zb_status zb_token_sink_set(zb_token_sink *sink, const char *token, zb_error **err) {
  return Guard(err, [&] {
    if (!sink) return NullArgument("sink");
    if (!token) return NullArgument("token");
    const std::string_view given(token);
    for (char c : given) {
      if (c < 0x21 || c > 0x7e) {
        return Status(StatusCode::kInvalidArg,
                      "the subject token has a character that is not printable ASCII");
      }
    }
    sink->token->assign(given);
    return Status::Ok();
  });
}

ZB_API zb_status zb_stream_new(zb_sdk *sdk, const char *table_name, zb_record_type record_type,
                               const void *descriptor, size_t descriptor_len, const zb_config *cfg,
                               zb_stream **out, zb_error **err) {
  return Guard(err, [&] {
    return NewStream(sdk, table_name, record_type, descriptor, descriptor_len, cfg,
                     zerobus::Persistence(), out);
  });
}

ZB_API zb_status zb_stream_new_persistent(zb_sdk *sdk, const char *table_name,
                                          zb_record_type record_type, const void *descriptor,
                                          size_t descriptor_len, const zb_config *cfg,
                                          zb_stream **out, zb_error **err) {
  return Guard(err, [&] {
    zerobus::Persistence persistence;
    persistence.mode = zerobus::Persistence::Mode::kCreate;
    return NewStream(sdk, table_name, record_type, descriptor, descriptor_len, cfg,
                     std::move(persistence), out);
  });
}

ZB_API zb_status zb_stream_resume(zb_sdk *sdk, const char *table_name, const char *stream_id,
                                  zb_record_type record_type, const void *descriptor,
                                  size_t descriptor_len, const zb_config *cfg, zb_stream **out,
                                  zb_error **err) {
  return Guard(err, [&] {
    if (!stream_id) return NullArgument("stream_id");
    zerobus::Persistence persistence;
    persistence.mode = zerobus::Persistence::Mode::kResume;
    persistence.stream_id = stream_id;
    return NewStream(sdk, table_name, record_type, descriptor, descriptor_len, cfg,
                     std::move(persistence), out);
  });
}

ZB_API zb_status zb_stream_persistent_id(zb_stream *stream, char **id_out, size_t *len_out,
                                         zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!id_out) return NullArgument("id_out");
    const zerobus::PersistentInfo info = stream->impl->GetPersistentInfo();
    if (!info.persistent) return NotPersistent();
    return zerobus::c_api::HandOutString(info.stream_id, id_out, len_out);
  });
}

ZB_API zb_status zb_stream_resume_watermark(zb_stream *stream, int32_t *has_committed,
                                            uint64_t *last_committed, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!has_committed) return NullArgument("has_committed");
    if (!last_committed) return NullArgument("last_committed");
    const zerobus::PersistentInfo info = stream->impl->GetPersistentInfo();
    if (!info.persistent) return NotPersistent();
    *has_committed = info.has_watermark ? 1 : 0;
    *last_committed = info.has_watermark ? info.watermark : 0;
    return Status::Ok();
  });
}

ZB_API zb_status zb_stream_retire(zb_sdk *sdk, const char *table_name, const char *stream_id,
                                  const zb_config *cfg, zb_error **err) {
  return Guard(err, [&] {
    if (!sdk) return NullArgument("sdk");
    if (!table_name) return NullArgument("table_name");
    if (!stream_id) return NullArgument("stream_id");
    const zerobus::Config defaults;
    return zerobus::RetireStream(sdk->impl, table_name, stream_id, cfg ? cfg->config : defaults);
  });
}

ZB_API zb_status zb_stream_new_from_schema(zb_sdk *sdk, const zb_schema *schema,
                                           const zb_config *cfg, zb_stream **out, zb_error **err) {
  return Guard(err, [&] { return NewFromSchema(sdk, schema, RecordFormat::kProto, cfg, out); });
}

ZB_API zb_status zb_stream_new_avro_from_schema(zb_sdk *sdk, const zb_schema *schema,
                                                const zb_config *cfg, zb_stream **out,
                                                zb_error **err) {
  return Guard(err, [&] { return NewFromSchema(sdk, schema, RecordFormat::kAvro, cfg, out); });
}

ZB_API zb_status zb_stream_ingest_proto(zb_stream *stream, const void *record, size_t len,
                                        uint64_t *offset_out, zb_error **err) {
  return Guard(err,
               [&] { return IngestOne(stream, record, len, RecordFormat::kProto, offset_out); });
}

ZB_API zb_status zb_stream_ingest_json(zb_stream *stream, const char *json, size_t len,
                                       uint64_t *offset_out, zb_error **err) {
  return Guard(err, [&] { return IngestOne(stream, json, len, RecordFormat::kJson, offset_out); });
}

ZB_API zb_status zb_stream_ingest_avro(zb_stream *stream, const void *datum, size_t len,
                                       uint64_t *offset_out, zb_error **err) {
  return Guard(err, [&] { return IngestOne(stream, datum, len, RecordFormat::kAvro, offset_out); });
}

ZB_API zb_status zb_stream_ingest_proto_batch(zb_stream *stream, const void *const *records,
                                              const size_t *lens, size_t count,
                                              uint64_t *last_offset_out, zb_error **err) {
  return Guard(err, [&] {
    return IngestBatch(stream, records, lens, count, RecordFormat::kProto, last_offset_out);
  });
}

ZB_API zb_status zb_stream_ingest_json_batch(zb_stream *stream, const char *const *records,
                                             const size_t *lens, size_t count,
                                             uint64_t *last_offset_out, zb_error **err) {
  return Guard(err, [&] {
    return IngestBatch(stream, reinterpret_cast<const void *const *>(records), lens, count,
                       RecordFormat::kJson, last_offset_out);
  });
}

ZB_API zb_status zb_stream_ingest_avro_batch(zb_stream *stream, const void *const *datums,
                                             const size_t *lens, size_t count,
                                             uint64_t *last_offset_out, zb_error **err) {
  return Guard(err, [&] {
    return IngestBatch(stream, datums, lens, count, RecordFormat::kAvro, last_offset_out);
  });
}

ZB_API zb_status zb_stream_wait_for_offset(zb_stream *stream, uint64_t offset, int32_t timeout_ms,
                                           zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    Status valid = CheckTimeout(timeout_ms);
    return valid.ok() ? stream->impl->WaitForOffset(offset, timeout_ms) : valid;
  });
}

ZB_API zb_status zb_stream_flush(zb_stream *stream, int32_t timeout_ms, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    Status valid = CheckTimeout(timeout_ms);
    return valid.ok() ? stream->impl->Flush(timeout_ms) : valid;
  });
}

ZB_API zb_status zb_stream_close(zb_stream *stream, int32_t timeout_ms, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (zerobus::InStreamCloseRefusingCallback()) {
      return Status(StatusCode::kState,
                    "zb_stream_close() cannot be called from a log callback or a headers provider");
    }
    Status valid = CheckTimeout(timeout_ms);
    return valid.ok() ? stream->impl->Close(timeout_ms) : valid;
  });
}

ZB_API void zb_stream_destroy(zb_stream *stream) {
  // From a log callback or a headers provider it would wait for its own thread, or free a
  // stream a call below it is still using: it does nothing there, as zerobus.h says.
  if (!stream || zerobus::InStreamCloseRefusingCallback()) return;
  zerobus::StreamHandle::Destroy(std::move(stream->impl));
  delete stream;
}

ZB_API zb_status zb_stream_poll(zb_stream *stream, zb_event *events, size_t event_size,
                                size_t capacity, int32_t timeout_ms, size_t *count_out,
                                zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!count_out) return NullArgument("count_out");
    if (!events && capacity > 0) return NullArgument("events");
    if (event_size < kMinEventSize) {
      return Status(StatusCode::kInvalidArg, "event_size is smaller than any zb_event");
    }
    if (capacity > PTRDIFF_MAX / event_size) {
      return Status(StatusCode::kInvalidArg,
                    "capacity events of event_size bytes are more than any "
                    "array can hold");
    }
    Status valid = CheckTimeout(timeout_ms);
    if (!valid.ok()) return valid;
    auto *out = static_cast<unsigned char *>(static_cast<void *>(events));
    // Every error object is made before any event is written, and the events leave the queue
    // only once all are: running out of memory loses none.
    auto take = [&](const std::deque<zerobus::Event> &queued, size_t count) {
      std::vector<std::unique_ptr<zb_error>> errors(count);
      for (size_t i = 0; i < count; ++i) {
        if (queued[i].error) errors[i].reset(new zb_error{*queued[i].error});
      }
      for (size_t i = 0; i < count; ++i) {
        zerobus::c_api::CopyVersioned(zerobus::c_api::ToPublic(queued[i], errors[i].release()),
                                      out + i * event_size, event_size);
      }
    };
    return stream->impl->Poll(capacity, timeout_ms, take, count_out);
  });
}

ZB_API zb_status zb_stream_unacked(zb_stream *stream, zb_records **out, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!out) return NullArgument("out");
    auto records = std::make_unique<zb_records>();
    stream->impl->CopyUnacked(&records->records);
    *out = records.release();
    return Status::Ok();
  });
}

ZB_API const char *zb_stream_state_name(zb_stream_state state) {
  return zerobus::StreamStateName(static_cast<zerobus::StreamState>(state));
}

ZB_API zb_status zb_stream_get_info(zb_stream *stream, zb_stream_info *out, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!out) return NullArgument("out");
    if (out->struct_size < offsetof(zb_stream_info, state) + sizeof out->state) {
      return Status(StatusCode::kInvalidArg, "out->struct_size is too small");
    }
    const zerobus::StreamInfo info = stream->impl->GetInfo();
    zerobus::c_api::CopyVersioned(
        zb_stream_info{sizeof(zb_stream_info), static_cast<zb_stream_state>(info.state),
                       info.records_accepted, info.records_acked, info.records_in_flight,
                       info.bytes_in_flight, info.recoveries, info.records_replayed},
        out, out->struct_size);
    return Status::Ok();
  });
}

ZB_API zb_status zb_stream_stats_json(zb_stream *stream, char **json_out, size_t *len_out,
                                      zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!json_out) return NullArgument("json_out");
    zerobus::StreamStats stats;
    stream->impl->Snapshot(&stats);
    return zerobus::c_api::HandOutString(zerobus::StreamStatsJson(stats), json_out, len_out);
  });
}

ZB_API void zb_string_free(char *str) {
  std::free(str);
}

ZB_API zb_status zb_stream_recreate(zb_stream *stream, zb_stream **out, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!out) return NullArgument("out");
    auto handle = std::make_unique<zb_stream>();
    handle->arrow_input = stream->arrow_input;
    Status recreated = stream->impl->Recreate(handle.get(), &handle->impl);
    if (!recreated.ok()) return recreated;
    *out = handle.release();
    return Status::Ok();
  });
}

ZB_API size_t zb_records_count(const zb_records *records) {
  return records ? records->records.size() : 0;
}

ZB_API zb_status zb_records_get(const zb_records *records, size_t index, const void **data,
                                size_t *len, uint64_t *offset, zb_error **err) {
  return Guard(err, [&] {
    if (!records) return NullArgument("records");
    if (!data) return NullArgument("data");
    if (!len) return NullArgument("len");
    if (index >= records->records.size()) {
      return Status(StatusCode::kInvalidArg, "index " + std::to_string(index) + " is past the " +
                                                 std::to_string(records->records.size()) +
                                                 " records");
    }
    const auto &[record_offset, bytes] = records->records[index];
    *data = bytes.data();
    *len = bytes.size();
    if (offset) *offset = record_offset;
    return Status::Ok();
  });
}

ZB_API void zb_records_free(zb_records *records) {
  delete records;
}

}  // extern "C"
