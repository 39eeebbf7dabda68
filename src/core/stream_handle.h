// What a zb_stream is to the C shim: one stream of records into one table, carried by one
// server stream (Stream) or by several lanes of it (LanedStream, stream.lanes > 1). Both give
// the same contract: contiguous offsets, one cumulative watermark, one event queue.
#ifndef ZEROBUS_CORE_STREAM_HANDLE_H
#define ZEROBUS_CORE_STREAM_HANDLE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "arrow/model.h"
#include "core/callbacks.h"
#include "core/config.h"
#include "core/event_queue.h"
#include "core/record_format.h"
#include "core/record_schema.h"
#include "core/sdk.h"
#include "core/stats.h"
#include "core/status.h"
#include "core/stream_info.h"
#include "core/window.h"

namespace zerobus {

// How a stream uses the service's PersistentStream (issue 23, in development there): not at
// all (an ephemeral stream), to create a new persistent stream, or to resume stream_id's.
struct Persistence {
  enum class Mode { kEphemeral, kCreate, kResume };
  Mode mode = Mode::kEphemeral;
  std::string stream_id;  // kResume
};

// What a persistent stream tells of itself: its durable id once the server created or resumed
// it, and for one opened by resume the watermark it was resumed at (the last committed offset,
// none when nothing was committed), whose successor is the first offset it issues.
struct PersistentInfo {
  bool persistent = false;
  std::string stream_id;
  bool resumed = false;
  bool has_watermark = false;
  uint64_t watermark = 0;
};

class StreamHandle {
 public:
  virtual ~StreamHandle() = default;

  // Opens a stream (zb_stream_new()) and returns once the server accepted it (every lane of
  // it). `handle` is what event callbacks receive as their stream.
  static Status Open(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                     std::string descriptor, const Config &config, UserHandle handle,
                     std::unique_ptr<StreamHandle> *out);
  // Opens a stream of `schema`'s table whose records are protobuf messages of its descriptor
  // (`format` kProto, zb_stream_new_from_schema()) or Avro datums of its writer schema (kAvro,
  // zb_stream_new_avro_from_schema()), and that also takes JSON records, encoding each with
  // `schema`.
  static Status OpenFromSchema(std::shared_ptr<Sdk> sdk, std::shared_ptr<const RecordSchema> schema,
                               RecordFormat format, const Config &config, UserHandle handle,
                               std::unique_ptr<StreamHandle> *out);
  // Opens a persistent stream (`persistence` not kEphemeral), of `schema` when not null as
  // OpenFromSchema() has it. Its offsets are the durable wire offsets, one record per request.
  // ZB_ERR_INVALID_ARG with stream.lanes > 1: lanes are separate server streams, each with
  // offsets of its own, which no single watermark could describe.
  static Status OpenPersistent(std::shared_ptr<Sdk> sdk, std::string table_name,
                               RecordFormat format, std::string descriptor,
                               std::shared_ptr<const RecordSchema> schema, const Config &config,
                               UserHandle handle, Persistence persistence,
                               std::unique_ptr<StreamHandle> *out);
  // Opens an Arrow stream into `table_name` whose record batches are of `schema`: Arrow
  // Flight's DoPut on a connection of its own, one offset per batch. ZB_ERR_INVALID_ARG with
  // stream.lanes above 1 (an Arrow stream has one lane).
  static Status OpenArrow(std::shared_ptr<Sdk> sdk, std::string table_name,
                          std::shared_ptr<const arrow::Schema> schema, const Config &config,
                          UserHandle handle, std::unique_ptr<StreamHandle> *out);
  // Frees the stream (see zb_stream_destroy()): from its own event callback the work happens
  // once the callback returns.
  static void Destroy(std::unique_ptr<StreamHandle> stream);

  // zb_stream_recreate(): a new stream like this one, holding this one's unacknowledged
  // records. ZB_ERR_STATE unless this stream failed or was closed.
  virtual Status Recreate(UserHandle handle, std::unique_ptr<StreamHandle> *out) const = 0;
  // Accepts `count` records of `format`, all or none: ZB_ERR_RECORD_TYPE unless it is the
  // stream's. On a stream opened from a schema, JSON records are encoded to the stream's format
  // first, every one before any is accepted (ZB_ERR_INVALID_RECORD naming the first that does
  // not fit).
  virtual Status Ingest(const RecordView *records, size_t count, RecordFormat format,
                        uint64_t *last_offset) = 0;
  // Accepts one record batch of an Arrow stream under one offset: ZB_ERR_RECORD_TYPE on a
  // record stream; ZB_ERR_EMPTY_BATCH for no rows; ZB_ERR_RECORD_TOO_LARGE when one row does
  // not fit into a FlightData. The batch's buffers are held (not copied, without compression)
  // until the server acknowledges its rows.
  virtual Status IngestBatch(arrow::RecordBatch rows, uint64_t *offset) {
    (void)rows;
    (void)offset;
    return Status(StatusCode::kRecordType, "this stream takes records, not Arrow record batches");
  }
  // An Arrow stream's schema; null for a record stream.
  virtual const arrow::Schema *arrow_schema() const { return nullptr; }
  virtual Status WaitForOffset(uint64_t offset, int32_t timeout_ms) = 0;
  virtual Status Flush(int32_t timeout_ms) = 0;
  // zb_stream_close(): closes the stream once (a later call returns the first one's outcome),
  // logs how it ended, then, unless called from the stream's own event callback, waits until
  // every event is delivered.
  Status Close(int32_t timeout_ms);
  // zb_stream_poll(): see EventQueue::Poll().
  virtual Status Poll(size_t capacity, int32_t timeout_ms, const EventQueue::Take &take,
                      size_t *count) = 0;
  // Every unacknowledged record with its offset, in offset order.
  virtual void CopyUnacked(std::vector<std::pair<uint64_t, std::string>> *out) const = 0;
  virtual StreamInfo GetInfo() const = 0;
  // The stream's statistics (zb_stream_stats_json()).
  virtual void Snapshot(StreamStats *out) const = 0;
  // What the stream is as a persistent stream; `persistent` false for any other.
  virtual PersistentInfo GetPersistentInfo() const { return PersistentInfo(); }

 protected:
  // The queue the stream's events go through.
  virtual EventQueue &events() = 0;
  // Close() but for the log and the events' delivery: once per stream, serialized. `*first`
  // tells whether this call did the closing.
  virtual Status CloseOnce(int32_t timeout_ms, bool *first) = 0;
  // Logs how the stream's first close ended.
  virtual void LogClosed(const Status &result) const = 0;
};

// The outcome of a close that timed out after `timeout_ms` with offsets `first`..`last` still
// unacknowledged.
Status CloseTimedOut(int32_t timeout_ms, uint64_t first, uint64_t last);

// `count` and `noun`, the noun plural unless the count is 1 ("1 record", "3 records"), as the
// streams' messages count things.
std::string Plural(uint64_t count, const char *noun);

// How messages name record `index` of a batch of `count`: "the record" when it is alone.
std::string RecordName(size_t index, size_t count);

// The records a stream of `stream_format` (opened from `schema`, or not when null) takes for
// `count` records given as `given`: `*records` itself, or JSON records encoded with `schema` to
// the stream's format, all or none, `*records` then pointing into `views` and `encoded`.
// ZB_ERR_RECORD_TYPE for a format the stream does not take; ZB_ERR_INVALID_RECORD naming the
// first record that does not fit.
Status PrepareRecords(const RecordSchema *schema, RecordFormat stream_format, RecordFormat given,
                      size_t count, const RecordView **records, std::vector<std::string> *encoded,
                      std::vector<RecordView> *views);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_STREAM_HANDLE_H
