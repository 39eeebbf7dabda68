// Arrow IPC encoding of schemas and record batches (columnar format specification, "IPC
// streaming format"). A message comes out as slices: the flatbuffer metadata, which we own, and
// the body, whose buffers are the caller's own bytes wherever the format allows it (uncompressed,
// byte-aligned), with our padding and the few buffers we must rewrite (offsets of a slice that
// does not start at 0, bitmaps that do not start on a byte). A Flight writer hands the metadata
// and the body slices to gRPC as they are; the stream format puts a prefix before each.
#ifndef ZEROBUS_ARROW_IPC_WRITER_H
#define ZEROBUS_ARROW_IPC_WRITER_H

#include <cstdint>
#include <string>
#include <vector>

#include "arrow/compression.h"
#include "arrow/model.h"
#include "arrow/status.h"

namespace zerobus::arrow {

// One IPC message. Concatenated, `body` is `body_length` bytes (a multiple of 8), every buffer
// at an offset that is a multiple of 8. Every slice keeps what it points into alive.
struct EncodedMessage {
  Buffer metadata;  // a flatbuffer Message: FlightData's data_header as it is
  std::vector<Buffer> body;
  int64_t body_length = 0;
};

struct WriteOptions {
  Codec compression = Codec::kNone;
};

EncodedMessage EncodeSchema(const Schema &schema);

// `batch` must hold arrays of `schema`'s types (as imported or decoded: their offsets checked).
// Fails when the column counts differ or a compressor fails.
Status EncodeRecordBatch(const Schema &schema, const RecordBatch &batch,
                         const WriteOptions &options, EncodedMessage *out);

// `message` in the encapsulated form of the IPC stream format, appended to `out`: the
// continuation marker 0xFFFFFFFF, the metadata's length (padded to 8), the metadata, its
// padding, then the body slices.
void AppendEncapsulated(const EncodedMessage &message, std::vector<Buffer> *out);

// The stream format's end-of-stream marker: 0xFFFFFFFF followed by a length of 0.
Buffer EndOfStream();

// The slices' bytes, one after another (a copy: for IPC bytes handed back, files and tests).
std::string Concatenate(const std::vector<Buffer> &slices);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_IPC_WRITER_H
