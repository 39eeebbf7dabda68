// Arrow IPC decoding, for bytes that come from the network: every flatbuffer is verified, every
// count, length, offset and buffer checked against the body it points into and against the type,
// offsets checked to be non-decreasing and within their values, nesting and decompressed sizes
// bounded. A failure is a Status that says what was wrong and where; nothing is read out of
// bounds. Decoded arrays are views into the body (kept alive through its owner) unless they were
// compressed or misaligned, in which case they are ours.
#ifndef ZEROBUS_ARROW_IPC_READER_H
#define ZEROBUS_ARROW_IPC_READER_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "arrow/model.h"
#include "arrow/status.h"

namespace zerobus::arrow {

struct ReadLimits {
  // The most bytes one message's buffers may decompress or expand (dictionaries) to, in all.
  int64_t max_materialized_bytes = int64_t{256} << 20;
  // The most fields (at every level) a schema may have.
  size_t max_fields = 10000;
};

// A Message flatbuffer (FlightData's data_header, or an IPC message's metadata) holding a
// Schema. Refuses dictionary-encoded fields (Zerobus's Flight protocol expands them), big-endian
// data and every type model.h does not list, naming the column and the type.
Status DecodeSchema(const uint8_t *metadata, size_t size, const ReadLimits &limits, Schema *out);

// A Message flatbuffer holding a RecordBatch of `schema`, with its body (FlightData's data_body).
Status DecodeRecordBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                         const Buffer &body, const ReadLimits &limits, RecordBatch *out);

// The same, for a body that arrived in pieces (a gRPC message's slices), in order: a buffer that
// lies within one piece is a view of it (copied if it is not 8-byte aligned), one that straddles
// pieces a copy.
Status DecodeRecordBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                         const std::vector<Buffer> &body, const ReadLimits &limits,
                         RecordBatch *out);

// Every check DecodeRecordBatch makes, for a receiver that keeps nothing of the batch: the
// same Status for the same bytes, and the batch's row count in `*rows` when it is valid. Builds
// no arrays: a buffer whose contents no check reads (values, validity bitmaps, string data) is
// neither copied nor read, only its bounds checked.
Status CheckRecordBatch(const Schema &schema, const uint8_t *metadata, size_t size,
                        const std::vector<Buffer> &body, const ReadLimits &limits, int64_t *rows);

// The IPC stream format: encapsulated messages (continuation marker, metadata length, metadata,
// body), a schema first, then record batches, to the end of the bytes or an end-of-stream
// marker (after which nothing may follow). Unlike DecodeSchema and DecodeRecordBatch (Flight,
// whose Zerobus protocol sends values), it takes dictionary-encoded fields of values that are
// not nested, with their dictionary batches (not deltas), and expands them into values.
Status ReadIpcStream(const Buffer &bytes, const ReadLimits &limits, Schema *schema,
                     std::vector<RecordBatch> *batches);

// The IPC file format (".arrow"): the magic "ARROW1" and 2 bytes of padding, the stream format's
// messages, a footer (an index of them), its 4-byte length and the magic again. The messages are
// read in order as a stream; the footer is not needed for that and is not read.
Status ReadIpcFile(const Buffer &bytes, const ReadLimits &limits, Schema *schema,
                   std::vector<RecordBatch> *batches);

// Whether `bytes` start as an IPC file does (the magic "ARROW1"), not as a stream.
bool IsIpcFile(const Buffer &bytes);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_IPC_READER_H
