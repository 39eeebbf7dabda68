// The body compression codecs of the IPC format (each buffer compressed on its own): LZ4's frame
// format (lz4frame.h, not LZ4's raw block format) and Zstandard.
#ifndef ZEROBUS_ARROW_COMPRESSION_H
#define ZEROBUS_ARROW_COMPRESSION_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "arrow/status.h"

namespace zerobus::arrow {

enum class Codec { kNone, kLz4Frame, kZstd };

const char *CodecName(Codec codec);

// `size` bytes at `data`, compressed with `codec` (not kNone) into `out`.
Status Compress(Codec codec, const uint8_t *data, size_t size, std::vector<uint8_t> *out);

// Decompresses `size` bytes at `data` into `out`, which must come to exactly `expected` bytes
// (the length the IPC body states); anything else, or corrupt input, is refused.
Status Decompress(Codec codec, const uint8_t *data, size_t size, size_t expected,
                  std::vector<uint8_t> *out);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_COMPRESSION_H
