// Arrow streams: opened with a schema in the Arrow C Data Interface or as IPC bytes, fed record
// batches as C Data arrays (moved, not copied), C streams or IPC bytes (copied).
#include <zerobus/arrow_c_data.h>
#include <zerobus/zerobus.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "arrow/c_data_import.h"
#include "arrow/ipc_reader.h"
#include "arrow/model.h"
#include "c_api/guard.h"
#include "c_api/handles.h"
#include "core/stream_handle.h"

namespace za = zerobus::arrow;
using zerobus::Status;
using zerobus::StatusCode;
using zerobus::c_api::Guard;
using zerobus::c_api::NullArgument;

namespace {

Status Open(zb_sdk *sdk, const char *table_name, za::CDataSchema input, const zb_config *cfg,
            zb_stream **out) {
  const zerobus::Config defaults;
  auto handle = std::make_unique<zb_stream>();
  handle->arrow_input = std::make_shared<const za::CDataSchema>(std::move(input));
  Status opened = zerobus::StreamHandle::OpenArrow(
      sdk->impl, table_name, std::make_shared<const za::Schema>(handle->arrow_input->schema()),
      cfg ? cfg->config : defaults, handle.get(), &handle->impl);
  if (!opened.ok()) return opened;
  *out = handle.release();
  return Status::Ok();
}

Status CheckOpenArguments(zb_sdk *sdk, const char *table_name, zb_stream **out) {
  if (!sdk) return NullArgument("sdk");
  if (!table_name) return NullArgument("table_name");
  if (!out) return NullArgument("out");
  return Status::Ok();
}

// ZB_ERR_INVALID_SCHEMA naming the first column where `given` is not the stream's `expected`.
Status SameSchema(const za::Schema &expected, const za::Schema &given) {
  const size_t common = std::min(expected.fields.size(), given.fields.size());
  for (size_t i = 0; i < common; ++i) {
    const za::Field &want = expected.fields[i], &got = given.fields[i];
    if (want == got) continue;
    return Status(StatusCode::kInvalidSchema,
                  "the batches' schema is not the stream's: column " + std::to_string(i) + " is " +
                      za::ColumnLabel(got.name) + " " + za::TypeToString(got.type) +
                      (got.nullable ? "" : " not null") + ", the stream's " +
                      za::ColumnLabel(want.name) + " " + za::TypeToString(want.type) +
                      (want.nullable ? "" : " not null"));
  }
  if (expected.fields.size() == given.fields.size()) return Status::Ok();
  return Status(StatusCode::kInvalidSchema,
                "the batches' schema has " + std::to_string(given.fields.size()) +
                    " columns, the stream's " + std::to_string(expected.fields.size()));
}

// No object is larger than PTRDIFF_MAX bytes: a longer length cannot be true.
constexpr size_t kMaxBytes = PTRDIFF_MAX;

Status TooLong(size_t len) {
  return Status(StatusCode::kInvalidArg,
                "len " + std::to_string(len) + " is more than any object in memory can hold");
}

// A record stream given Arrow data: ZB_ERR_RECORD_TYPE.
Status NotArrow() {
  return Status(StatusCode::kRecordType,
                "this stream takes records, not Arrow record batches (open an Arrow stream with "
                "zb_stream_new_arrow())");
}

}  // namespace

extern "C" {

ZB_API zb_status zb_stream_new_arrow(zb_sdk *sdk, const char *table_name,
                                     const struct ArrowSchema *schema, const zb_config *cfg,
                                     zb_stream **out, zb_error **err) {
  return Guard(err, [&] {
    Status valid = CheckOpenArguments(sdk, table_name, out);
    if (!valid.ok()) return valid;
    if (!schema) return NullArgument("schema");
    if (!schema->release) return Status(StatusCode::kInvalidArg, "the schema has been released");
    za::CDataSchema input;
    const za::Status imported = za::CDataSchema::Import(*schema, &input);
    if (!imported.ok()) return Status(StatusCode::kInvalidSchema, imported.message());
    return Open(sdk, table_name, std::move(input), cfg, out);
  });
}

ZB_API zb_status zb_stream_new_arrow_ipc(zb_sdk *sdk, const char *table_name,
                                         const void *schema_ipc, size_t len, const zb_config *cfg,
                                         zb_stream **out, zb_error **err) {
  return Guard(err, [&] {
    Status valid = CheckOpenArguments(sdk, table_name, out);
    if (!valid.ok()) return valid;
    if (!schema_ipc) return NullArgument("schema_ipc");
    if (len > kMaxBytes) return TooLong(len);
    // Read during the call only: the decoded schema keeps nothing of the bytes.
    const za::Buffer bytes{static_cast<const uint8_t *>(schema_ipc), len, nullptr};
    za::Schema schema;
    std::vector<za::RecordBatch> batches;
    const za::Status read = za::ReadIpcStream(bytes, za::ReadLimits(), &schema, &batches);
    if (!read.ok()) return Status(StatusCode::kInvalidSchema, read.message());
    if (!batches.empty()) {
      return Status(StatusCode::kInvalidSchema,
                    "the schema's IPC bytes hold " + std::to_string(batches.size()) +
                        " record batches: give them to zb_stream_ingest_arrow_ipc()");
    }
    return Open(sdk, table_name, za::CDataSchema::Plain(std::move(schema)), cfg, out);
  });
}

ZB_API zb_status zb_stream_ingest_arrow(zb_stream *stream, struct ArrowArray *batch,
                                        uint64_t *offset_out, zb_error **err) {
  return Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!batch) return NullArgument("batch");
    if (!batch->release) return Status(StatusCode::kInvalidArg, "the batch has been released");
    if (!stream->arrow_input) {
      batch->release(batch);
      batch->release = nullptr;
      return NotArrow();
    }
    za::RecordBatch rows;
    const za::Status imported = za::ImportRecordBatch(batch, *stream->arrow_input, &rows);
    if (!imported.ok()) return Status(StatusCode::kInvalidRecord, imported.message());
    return stream->impl->IngestBatch(std::move(rows), offset_out);
  });
}

ZB_API zb_status zb_stream_ingest_arrow_stream(zb_stream *stream, struct ArrowArrayStream *batches,
                                               uint64_t *last_offset_out, size_t *count_out,
                                               zb_error **err) {
  size_t count = 0;
  const zb_status status = Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!batches) return NullArgument("batches");
    if (!batches->release) {
      return Status(StatusCode::kInvalidArg, "the C stream has been released");
    }
    if (!stream->arrow_input) {
      batches->release(batches);
      batches->release = nullptr;
      return NotArrow();
    }
    const za::Schema &expected = *stream->impl->arrow_schema();
    bool schema_checked = false;
    Status failed;
    const za::Status read =
        za::ImportStream(batches, [&](const za::CDataSchema &schema, za::RecordBatch rows) {
          if (!schema_checked) {
            failed = SameSchema(expected, schema.schema());
            schema_checked = true;
          }
          if (failed.ok() && rows.length > 0) {
            failed = stream->impl->IngestBatch(std::move(rows), last_offset_out);
            if (failed.ok()) ++count;
          }
          return failed.ok() ? za::Status::Ok() : za::Status::Invalid(failed.message());
        });
    if (!failed.ok()) return failed;
    if (!read.ok()) return Status(StatusCode::kInvalidRecord, read.message());
    return Status::Ok();
  });
  if (count_out) *count_out = count;
  return status;
}

ZB_API zb_status zb_stream_ingest_arrow_ipc(zb_stream *stream, const void *data, size_t len,
                                            uint64_t *last_offset_out, size_t *count_out,
                                            zb_error **err) {
  size_t count = 0;
  const zb_status status = Guard(err, [&] {
    if (!stream) return NullArgument("stream");
    if (!data) return NullArgument("data");
    if (len > kMaxBytes) return TooLong(len);
    if (!stream->arrow_input) return NotArrow();
    // The copy the batches' arrays point into, kept alive by them until they are acknowledged.
    auto owner = std::make_shared<const std::string>(static_cast<const char *>(data), len);
    const za::Buffer bytes{reinterpret_cast<const uint8_t *>(owner->data()), owner->size(), owner};
    za::Schema schema;
    std::vector<za::RecordBatch> batches;
    const za::Status read = za::ReadIpcStream(bytes, za::ReadLimits(), &schema, &batches);
    if (!read.ok()) return Status(StatusCode::kInvalidRecord, read.message());
    Status same = SameSchema(*stream->impl->arrow_schema(), schema);
    if (!same.ok()) return same;
    int64_t rows = 0;
    for (const za::RecordBatch &batch : batches) rows += batch.length;
    if (rows == 0) return Status(StatusCode::kEmptyBatch, "the IPC bytes hold no rows");
    for (za::RecordBatch &batch : batches) {
      if (batch.length == 0) continue;
      Status ingested = stream->impl->IngestBatch(std::move(batch), last_offset_out);
      if (!ingested.ok()) return ingested;
      ++count;
    }
    return Status::Ok();
  });
  if (count_out) *count_out = count;
  return status;
}

}  // extern "C"
