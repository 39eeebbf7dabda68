// What a stream's records are, with the numbers of zerobus.h's ZB_RECORD_* (and of the wire's
// RecordType): serialized protobuf messages of its descriptor, JSON objects, raw Avro datums of
// its writer schema, or Arrow record batches (an Arrow stream, over Flight).
#ifndef ZEROBUS_CORE_RECORD_FORMAT_H
#define ZEROBUS_CORE_RECORD_FORMAT_H

#include <cstdint>

namespace zerobus {

enum class RecordFormat : int32_t { kProto = 1, kJson = 2, kAvro = 4, kArrow = 8 };

// "protobuf", "JSON" or "Avro", for messages.
inline const char *RecordFormatName(RecordFormat format) {
  switch (format) {
    case RecordFormat::kProto:
      return "protobuf";
    case RecordFormat::kJson:
      return "JSON";
    case RecordFormat::kAvro:
      return "Avro";
    case RecordFormat::kArrow:
      return "Arrow";
  }
  return "unknown";
}

}  // namespace zerobus

#endif  // ZEROBUS_CORE_RECORD_FORMAT_H
