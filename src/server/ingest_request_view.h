// Reads the call's hot request, an ingest_record_batch, straight from its wire bytes: every
// record becomes a view of those bytes, so that a batch costs no allocation per record (a
// parsed EphemeralStreamRequest gives each record a heap string of its own).
#ifndef ZEROBUS_SERVER_INGEST_REQUEST_VIEW_H
#define ZEROBUS_SERVER_INGEST_REQUEST_VIEW_H

#include <cstdint>
#include <string_view>
#include <vector>

namespace zerobus::server {

// The records of one ingest request, as views of the bytes they arrived in; valid as long as
// those bytes are.
struct IngestRequestView {
  // Which member of the record (or batch) oneof the request carries.
  enum class Kind { kProto, kJson, kAvro };

  int64_t offset_id = 0;
  bool batch = false;  // ingest_record_batch, else a single ingest_record
  Kind kind = Kind::kProto;
  std::vector<std::string_view> records;
};

// The field number of ingest_record_batch in each RPC's request message.
constexpr int kEphemeralBatchField = 3;   // EphemeralStreamRequest
constexpr int kPersistentBatchField = 4;  // PersistentStreamRequest

// Fills `*view` and returns true when `request`, a serialized EphemeralStreamRequest (or, with
// kPersistentBatchField, PersistentStreamRequest), is in the shape every client sends: an
// ingest_record_batch and nothing else, holding one offset_id and
// one proto_encoded_batch, json_batch or avro_batch of records and nothing else. Returns false,
// with
// `*view` unspecified, for anything else: another payload, a missing, repeated or unknown
// field, malformed bytes. Those go through a full protobuf parse, which alone decides what such
// a request means (how repeated fields merge, which of two oneof members wins) and whether it
// is valid at all. Never reads outside `request`; `view->records` keeps its capacity.
// Thread-safe (no shared state).
bool ScanIngestBatch(std::string_view request, IngestRequestView *view,
                     int batch_field = kEphemeralBatchField);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_INGEST_REQUEST_VIEW_H
