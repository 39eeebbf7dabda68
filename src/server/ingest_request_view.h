// Reads the call's hot requests, ingest_record_batch and ingest_record, straight from the pieces
// (gRPC slices) they arrived in: every record becomes a view of the piece it lies in, so that a
// request costs neither a flattening copy nor an allocation per record (a parsed
// EphemeralStreamRequest gives each record a heap string of its own).
#ifndef ZEROBUS_SERVER_INGEST_REQUEST_VIEW_H
#define ZEROBUS_SERVER_INGEST_REQUEST_VIEW_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zerobus::server {

// The records of one ingest request, as views of the bytes they arrived in; valid as long as
// those bytes are.
struct IngestRequestView {
  // Which member of the record (or batch) oneof the request carries.
  enum class Kind { kProto, kJson, kAvro };

  // Where one record's bytes are: parts[first_part, first_part + part_count), in order. One
  // part for a record that lies in one piece, more for one that straddles pieces, none for an
  // empty record.
  struct Record {
    size_t size = 0;
    size_t first_part = 0;
    size_t part_count = 0;
  };

  // Forgets the records, keeping the vectors' capacity.
  void ClearRecords();
  // Adds a record whose bytes lie in one run.
  void AddRecord(std::string_view bytes);
  // Record `index`'s bytes in one run: a view of its piece, or, for a record that straddles
  // pieces, of `scratch`, where they are put together (valid until the next call).
  std::string_view Contiguous(size_t index);
  // A copy of record `index`'s bytes.
  std::string Copy(size_t index) const;

  int64_t offset_id = 0;
  bool batch = false;  // ingest_record_batch, else a single ingest_record
  Kind kind = Kind::kProto;
  std::vector<Record> records;
  std::vector<std::string_view> parts;  // the records' bytes, record by record
  std::string scratch;
};

// The field numbers of ingest_record and ingest_record_batch in each RPC's request message.
struct IngestFields {
  int record;
  int batch;
};
constexpr IngestFields kEphemeralFields{2, 3};   // EphemeralStreamRequest
constexpr IngestFields kPersistentFields{3, 4};  // PersistentStreamRequest

// Fills `*view` and returns true when `pieces`, which hold one serialized EphemeralStreamRequest
// (or, with kPersistentFields, PersistentStreamRequest) in order, are in the shape every client
// sends: an ingest_record_batch and nothing else, holding one offset_id and one
// proto_encoded_batch, json_batch or avro_batch of records and nothing else; or an ingest_record
// and nothing else, holding one offset_id and one proto_encoded_record, json_record or
// avro_encoded_record and nothing else. Returns false, with `*view` unspecified, for anything
// else: another payload, a missing, repeated or unknown field, malformed bytes. Those go through
// a full protobuf parse, which alone decides what such a request means (how repeated fields
// merge, which of two oneof members wins) and whether it is valid at all. How the bytes are cut
// into pieces changes nothing but where the records' parts lie. Copies no record; never reads
// outside the pieces; `view`'s vectors keep their capacity. Thread-safe (no shared state).
bool ScanIngestRequest(const std::vector<std::string_view> &pieces, IngestRequestView *view,
                       IngestFields fields = kEphemeralFields);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_INGEST_REQUEST_VIEW_H
