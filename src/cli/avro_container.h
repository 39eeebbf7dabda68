// Avro object container files (the Avro specification, "Object Container Files"), as
// `zerobus ingest` takes them: the writer schema from the header, then every datum of every
// block, one at a time. The codecs are null, deflate, snappy and zstandard; a block is checked
// against the file's sync marker, and a snappy block against its CRC-32. Used by one thread; it
// borrows the FILE, which the caller closes.
//
// Nothing in the file is trusted: a block's count and size are bounded (kMaxBlockBytes, before
// and after decompression), and where the datums of a block end is found by walking the writer
// schema (table/avro_datum.h), never assumed.
#ifndef ZEROBUS_CLI_AVRO_CONTAINER_H
#define ZEROBUS_CLI_AVRO_CONTAINER_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/record_readers.h"
#include "table/avro_datum.h"

namespace zerobus::cli {

class AvroContainerReader {
 public:
  // The most bytes one block may hold, compressed or not. Avro's writers close a block at a
  // few tens of kilobytes by default (a "sync interval"); this leaves room for records up to
  // the service's message limit, several to a block.
  static constexpr size_t kMaxBlockBytes = 64 * 1024 * 1024;

  explicit AvroContainerReader(std::FILE *file) : file_(file) {}
  AvroContainerReader(const AvroContainerReader &) = delete;
  AvroContainerReader &operator=(const AvroContainerReader &) = delete;

  // Reads the header: the magic bytes, the metadata (avro.schema, avro.codec) and the sync
  // marker. False when it is not the header of a container file this reader can read, with
  // why in `*malformed`, or on a read error (ReadError()).
  bool ReadHeader(std::string *malformed);
  // The writer schema of the file (Avro JSON), once the header is read.
  const std::string &schema() const { return schema_; }

  // Reads the next datum into `*datum`. `where->number` counts datums from 1 across the file,
  // `where->byte_offset` is where the datum's block starts (a datum of a compressed block has
  // no place of its own in the file). A datum over kMaxRecordBytes is reported in
  // `*oversized`, its first kOversizedPrefixBytes in `*datum`.
  //
  // A block whose datums do not walk the writer schema gives one more record: the rest of the
  // block from the first datum that does not, with `*malformed` saying so; reading goes on
  // with the next block. False at the end of the file, on a read error (ReadError()), or when
  // the file's framing is broken (a block's count or size out of bounds, a sync marker that is
  // not the header's, a block that does not decompress, bytes left in a block after the datums
  // it announced, the file ending inside a block): then
  // `*malformed` says how and nothing more is read.
  bool Next(std::string *datum, SourcePosition *where, std::string *malformed, uint64_t *oversized);
  const std::string &ReadError() const { return error_; }

 private:
  // Reads a long of Avro's encoding off the file; false at its end (`*at_end` when no byte of
  // it was read) or when it is not one.
  bool ReadLong(int64_t *value, bool *at_end);
  // Reads exactly `size` bytes into `*out`; false at the end of the file or on an error.
  bool ReadExactly(size_t size, std::string *out);
  // Reads the next block into block_ (decompressed); false at the end of the file or when the
  // framing is broken (`*malformed`).
  bool ReadBlock(std::string *malformed);
  bool Decompress(std::string *compressed, std::string *malformed);

  std::FILE *file_;
  std::string schema_;
  std::string codec_;
  std::string sync_;
  table::AvroDatumWalker walker_;
  std::string block_;       // the current block's datums, decompressed
  size_t block_read_ = 0;   // how much of block_ the datums read so far took
  int64_t block_left_ = 0;  // datums of block_ not yet read
  uint64_t block_offset_ = 0;
  uint64_t offset_ = 0;  // bytes read from the file
  uint64_t datums_ = 0;
  bool broken_ = false;
  std::string error_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_AVRO_CONTAINER_H
