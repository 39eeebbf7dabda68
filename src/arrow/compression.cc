#include "arrow/compression.h"

#include <lz4frame.h>
#include <zstd.h>

#include <memory>
#include <string>

namespace zerobus::arrow {
namespace {

// Zstandard's fastest standard level: batches are compressed on the ingesting path.
constexpr int kZstdLevel = 1;

Status DecompressLz4Frame(const uint8_t *data, size_t size, size_t expected,
                          std::vector<uint8_t> *out) {
  LZ4F_dctx *raw_context = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw_context, LZ4F_VERSION))) {
    return Status::Invalid("LZ4: cannot create a decompression context");
  }
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> context(
      raw_context, LZ4F_freeDecompressionContext);
  out->resize(expected);
  size_t written = 0;
  size_t read = 0;
  while (read < size) {
    size_t out_room = expected - written;
    size_t in_size = size - read;
    size_t hint = LZ4F_decompress(context.get(), out->data() + written, &out_room, data + read,
                                  &in_size, nullptr);
    if (LZ4F_isError(hint)) {
      return Status::Invalid(std::string("LZ4 frame: ") + LZ4F_getErrorName(hint));
    }
    written += out_room;
    read += in_size;
    if (hint == 0) break;  // the frame is complete
    if (in_size == 0 && out_room == 0) {
      return Status::Invalid("LZ4 frame: decompresses to more than the stated " +
                             std::to_string(expected) + " bytes");
    }
  }
  if (read != size || written != expected) {
    return Status::Invalid("LZ4 frame: decompressed to " + std::to_string(written) +
                           " bytes where the body states " + std::to_string(expected));
  }
  return Status::Ok();
}

}  // namespace

const char *CodecName(Codec codec) {
  switch (codec) {
    case Codec::kLz4Frame:
      return "LZ4_FRAME";
    case Codec::kZstd:
      return "ZSTD";
    case Codec::kNone:
      break;
  }
  return "none";
}

Status Compress(Codec codec, const uint8_t *data, size_t size, std::vector<uint8_t> *out) {
  if (codec == Codec::kLz4Frame) {
    out->resize(LZ4F_compressFrameBound(size, nullptr));
    size_t written = LZ4F_compressFrame(out->data(), out->size(), data, size, nullptr);
    if (LZ4F_isError(written)) {
      return Status::Invalid(std::string("LZ4 frame: ") + LZ4F_getErrorName(written));
    }
    out->resize(written);
    return Status::Ok();
  }
  if (codec == Codec::kZstd) {
    out->resize(ZSTD_compressBound(size));
    size_t written = ZSTD_compress(out->data(), out->size(), data, size, kZstdLevel);
    if (ZSTD_isError(written)) {
      return Status::Invalid(std::string("ZSTD: ") + ZSTD_getErrorName(written));
    }
    out->resize(written);
    return Status::Ok();
  }
  return Status::Invalid("no compression codec given");
}

Status Decompress(Codec codec, const uint8_t *data, size_t size, size_t expected,
                  std::vector<uint8_t> *out) {
  if (codec == Codec::kLz4Frame) return DecompressLz4Frame(data, size, expected, out);
  if (codec == Codec::kZstd) {
    out->resize(expected);
    size_t written = ZSTD_decompress(out->data(), expected, data, size);
    if (ZSTD_isError(written)) {
      return Status::Invalid(std::string("ZSTD: ") + ZSTD_getErrorName(written));
    }
    if (written != expected) {
      return Status::Invalid("ZSTD: decompressed to " + std::to_string(written) +
                             " bytes where the body states " + std::to_string(expected));
    }
    return Status::Ok();
  }
  return Status::Invalid("no compression codec given");
}

}  // namespace zerobus::arrow
