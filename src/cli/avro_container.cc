#include "cli/avro_container.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "table/avro_binary.h"

namespace zerobus::cli {
namespace {

constexpr char kMagic[] = {'O', 'b', 'j', 1};
constexpr size_t kSyncBytes = 16;
// The header's metadata holds a schema and a codec's name, and perhaps a writer's own keys.
constexpr size_t kMaxHeaderBytes = 16 * 1024 * 1024;

std::string Bytes(size_t size) {
  return std::to_string(size) + " bytes";
}

// Raw deflate (RFC 1951), as the deflate codec writes it, into at most `limit` bytes.
bool Inflate(const std::string &in, size_t limit, std::string *out, std::string *why) {
  z_stream stream{};
  if (inflateInit2(&stream, -15) != Z_OK) {
    *why = "zlib cannot start";
    return false;
  }
  std::unique_ptr<z_stream, int (*)(z_stream *)> end(&stream, inflateEnd);
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  out->clear();
  char chunk[64 * 1024];
  for (;;) {
    stream.next_out = reinterpret_cast<Bytef *>(chunk);
    stream.avail_out = sizeof chunk;
    const int status = inflate(&stream, Z_NO_FLUSH);
    out->append(chunk, sizeof chunk - stream.avail_out);
    if (out->size() > limit) {
      *why = "it inflates to over " + Bytes(limit);
      return false;
    }
    if (status == Z_STREAM_END) return true;
    if (status != Z_OK || (stream.avail_in == 0 && stream.avail_out != 0)) {
      *why = std::string("it does not inflate (") + (stream.msg ? stream.msg : "truncated") + ")";
      return false;
    }
  }
}

// One or more zstd frames into at most `limit` bytes.
bool Unzstd(const std::string &in, size_t limit, std::string *out, std::string *why) {
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream *)> stream(ZSTD_createDStream(),
                                                                   ZSTD_freeDStream);
  if (!stream) {
    *why = "zstd cannot start";
    return false;
  }
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  out->clear();
  char chunk[64 * 1024];
  size_t status = 0;
  do {
    ZSTD_outBuffer output{chunk, sizeof chunk, 0};
    status = ZSTD_decompressStream(stream.get(), &output, &input);
    if (ZSTD_isError(status)) {
      *why = std::string("it does not decompress (") + ZSTD_getErrorName(status) + ")";
      return false;
    }
    out->append(chunk, output.pos);
    if (out->size() > limit) {
      *why = "it decompresses to over " + Bytes(limit);
      return false;
    }
    if (input.pos == input.size && output.pos < output.size && status != 0) {
      *why = "it ends inside a zstd frame";
      return false;
    }
  } while (input.pos < input.size || status != 0);
  return true;
}

// Snappy's raw format followed by the CRC-32 of what it holds, big-endian.
bool Unsnappy(const std::string &in, size_t limit, std::string *out, std::string *why) {
  if (in.size() < 4) {
    *why = "it is too short for its checksum";
    return false;
  }
  const size_t body = in.size() - 4;
  size_t size = 0;
  if (!snappy::GetUncompressedLength(in.data(), body, &size) || size > limit) {
    *why = size > limit ? "it decompresses to over " + Bytes(limit) : "it is not snappy";
    return false;
  }
  // Checked before the output is made, so that a few bytes claiming a large block cost none.
  if (!snappy::IsValidCompressedBuffer(in.data(), body) ||
      !snappy::Uncompress(in.data(), body, out)) {
    *why = "it does not decompress";
    return false;
  }
  uint32_t expected = 0;
  for (size_t i = body; i < in.size(); ++i) {
    expected = (expected << 8) | static_cast<uint8_t>(in[i]);
  }
  const uLong actual = crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef *>(out->data()),
                             static_cast<uInt>(out->size()));
  if (actual != expected) {
    *why = "its CRC-32 is not that of its contents";
    return false;
  }
  return true;
}

}  // namespace

bool AvroContainerReader::ReadLong(int64_t *value, bool *at_end) {
  std::string bytes;
  *at_end = false;
  for (;;) {
    const int c = getc_unlocked(file_);
    if (c == EOF) {
      error_ = FailureOf(file_);
      *at_end = bytes.empty();
      return false;
    }
    ++offset_;
    bytes.push_back(static_cast<char>(c));
    if ((c & 0x80) == 0) break;
    if (bytes.size() == 10) return false;
  }
  table::AvroReader reader(bytes);
  return reader.ReadLong(value);
}

bool AvroContainerReader::ReadExactly(size_t size, std::string *out) {
  // In bounded steps, so that a corrupt, huge size costs no more memory than the file has.
  constexpr size_t kStep = 1024 * 1024;
  out->clear();
  while (out->size() < size) {
    const size_t want = std::min(kStep, size - out->size());
    const size_t before = out->size();
    out->resize(before + want);
    const size_t got = std::fread(out->data() + before, 1, want, file_);
    offset_ += got;
    if (got < want) {
      out->resize(before + got);
      error_ = FailureOf(file_);
      return false;
    }
  }
  return true;
}

bool AvroContainerReader::ReadHeader(std::string *malformed) {
  std::string magic;
  if (!ReadExactly(sizeof kMagic, &magic) || magic != std::string(kMagic, sizeof kMagic)) {
    *malformed = "not an Avro object container file (it does not begin with \"Obj\\x01\")";
    return false;
  }
  // The metadata: a map of bytes, in blocks as any Avro map.
  std::map<std::string, std::string> metadata;
  size_t header_bytes = 0;
  for (;;) {
    int64_t count = 0;
    bool at_end = false;
    if (!ReadLong(&count, &at_end)) {
      *malformed = "the header ends inside its metadata";
      return false;
    }
    if (count == 0) break;
    if (count < 0) {
      int64_t size = 0;
      if (!ReadLong(&size, &at_end)) {
        *malformed = "the header ends inside its metadata";
        return false;
      }
      count = count == INT64_MIN ? 0 : -count;
    }
    for (int64_t i = 0; i < count; ++i) {
      std::string entry[2];
      for (std::string &part : entry) {
        int64_t size = 0;
        if (!ReadLong(&size, &at_end) || size < 0 ||
            static_cast<uint64_t>(size) > kMaxHeaderBytes - header_bytes) {
          *malformed = "the header's metadata is malformed or over " + Bytes(kMaxHeaderBytes);
          return false;
        }
        header_bytes += static_cast<size_t>(size);
        if (!ReadExactly(static_cast<size_t>(size), &part)) {
          *malformed = "the header ends inside its metadata";
          return false;
        }
      }
      metadata[entry[0]] = std::move(entry[1]);
    }
  }
  if (!ReadExactly(kSyncBytes, &sync_)) {
    *malformed = "the header ends before its sync marker";
    return false;
  }
  const auto schema = metadata.find("avro.schema");
  if (schema == metadata.end()) {
    *malformed = "the header has no avro.schema";
    return false;
  }
  schema_ = schema->second;
  std::string error;
  if (!walker_.Parse(schema_, &error)) {
    *malformed = "the header's avro.schema is not an Avro schema: " + error;
    return false;
  }
  const auto codec = metadata.find("avro.codec");
  codec_ = codec == metadata.end() ? "null" : codec->second;
  if (codec_ != "null" && codec_ != "deflate" && codec_ != "snappy" && codec_ != "zstandard") {
    *malformed = "the codec \"" + codec_ +
                 "\" is not one this reader has (null, deflate, snappy, zstandard)";
    return false;
  }
  return true;
}

bool AvroContainerReader::Decompress(std::string *compressed, std::string *malformed) {
  std::string why;
  bool ok = true;
  if (codec_ == "null") {
    block_.swap(*compressed);
  } else if (codec_ == "deflate") {
    ok = Inflate(*compressed, kMaxBlockBytes, &block_, &why);
  } else if (codec_ == "snappy") {
    ok = Unsnappy(*compressed, kMaxBlockBytes, &block_, &why);
  } else {
    ok = Unzstd(*compressed, kMaxBlockBytes, &block_, &why);
  }
  if (!ok)
    *malformed =
        "the " + codec_ + " block at byte " + std::to_string(block_offset_) + " is broken: " + why;
  return ok;
}

bool AvroContainerReader::ReadBlock(std::string *malformed) {
  block_offset_ = offset_;
  const std::string at = "the block at byte " + std::to_string(block_offset_);
  int64_t count = 0;
  int64_t size = 0;
  bool at_end = false;
  if (!ReadLong(&count, &at_end)) {
    if (!at_end && error_.empty()) *malformed = at + " has a malformed count";
    return false;
  }
  if (!ReadLong(&size, &at_end) || size < 0 || static_cast<uint64_t>(size) > kMaxBlockBytes) {
    if (error_.empty()) {
      *malformed = at + " has a size that is malformed or over " + Bytes(kMaxBlockBytes);
    }
    return false;
  }
  std::string compressed;
  std::string sync;
  if (!ReadExactly(static_cast<size_t>(size), &compressed) || !ReadExactly(kSyncBytes, &sync)) {
    if (error_.empty()) *malformed = "the file ends inside " + at;
    return false;
  }
  if (sync != sync_) {
    *malformed = at + " does not end with the header's sync marker";
    return false;
  }
  if (!Decompress(&compressed, malformed)) return false;
  // Each datum of a table's record takes at least a byte, which bounds the count.
  if (count < 0 || static_cast<uint64_t>(count) > std::max<size_t>(block_.size(), 1)) {
    *malformed = at + " announces " + std::to_string(count) + " datums in " + Bytes(block_.size());
    return false;
  }
  block_left_ = count;
  block_read_ = 0;
  return true;
}

bool AvroContainerReader::Next(std::string *datum, SourcePosition *where, std::string *malformed,
                               uint64_t *oversized) {
  datum->clear();
  malformed->clear();
  *oversized = 0;
  if (broken_ || !error_.empty()) return false;
  while (block_left_ == 0) {
    if (block_read_ != block_.size()) {
      // The block's datums are read and bytes are left: the walk and the writer disagree.
      *malformed = "the block at byte " + std::to_string(block_offset_) + " has " +
                   Bytes(block_.size() - block_read_) + " after the datums it announced";
      broken_ = true;
      return false;
    }
    if (!ReadBlock(malformed)) {
      broken_ = !malformed->empty();
      block_.clear();
      block_read_ = 0;
      return false;
    }
  }
  where->number = ++datums_;
  where->byte_offset = block_offset_;
  const std::string_view rest = std::string_view(block_).substr(block_read_);
  table::AvroReader reader(rest);
  if (!walker_.Skip(&reader)) {
    *malformed = "datum " + std::to_string(datums_) + " (in the block at byte " +
                 std::to_string(block_offset_) +
                 ") is not one of the writer schema; the rest of its block is passed over";
    const size_t size = rest.size();
    if (size > kMaxRecordBytes) *oversized = size;
    datum->assign(rest.substr(0, size > kMaxRecordBytes ? kOversizedPrefixBytes : size));
    block_read_ = block_.size();
    block_left_ = 0;
    return true;
  }
  const size_t size = rest.size() - reader.left();
  if (size > kMaxRecordBytes) *oversized = size;
  datum->assign(rest.substr(0, size > kMaxRecordBytes ? kOversizedPrefixBytes : size));
  block_read_ += size;
  --block_left_;
  return true;
}

}  // namespace zerobus::cli
