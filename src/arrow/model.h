// libzerobus's own model of Arrow data: the types a Delta column maps to, schemas, and arrays
// whose buffers are views that keep their owner alive (the producer's C Data struct, the IPC
// bytes they were decoded from, or storage of our own). Imported from C Data (c_data_import.h),
// decoded from IPC (ipc_reader.h), encoded to IPC (ipc_writer.h).
#ifndef ZEROBUS_ARROW_MODEL_H
#define ZEROBUS_ARROW_MODEL_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zerobus::arrow {

// Exactly the types issue 22 lists; anything else is refused where it enters.
enum class TypeId {
  kBoolean,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kUtf8,
  kLargeUtf8,
  kBinary,
  kLargeBinary,
  kDate32,
  kTimestampMicros,
  kDecimal128,
  kList,
  kStruct,
  kMap,
};

struct Field;

// A tree: a list's item in children[0]; a struct's fields in children; a map's entries struct
// (a non-nullable struct of a non-nullable key and a value) in children[0].
struct DataType {
  TypeId id = TypeId::kInt32;
  std::string timezone;      // kTimestampMicros: empty when the timestamp has no time zone
  int precision = 0;         // kDecimal128
  int scale = 0;             // kDecimal128
  bool keys_sorted = false;  // kMap
  std::vector<Field> children;
};

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;
};

struct Schema {
  std::vector<Field> fields;
};

// Bytes owned by `owner` (which may be null for static storage); never written through.
struct Buffer {
  const uint8_t *data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
};

// One array, laid out as the columnar format says (BufferCount() buffers for its type, the first
// the validity bitmap, whose data is null when no value is null). `offset` is the array's first
// slot in its buffers, as in C Data and unlike IPC (where it is always 0).
struct ArrayData {
  int64_t length = 0;
  int64_t null_count = 0;  // -1: not counted (a slice); the encoder counts from the bitmap
  int64_t offset = 0;
  std::vector<Buffer> buffers;
  std::vector<ArrayData> children;
};

struct RecordBatch {
  int64_t length = 0;
  std::vector<ArrayData> columns;  // one per field of the schema, in order
};

// Rows [start, start + length) of `batch` (0 <= start <= start + length <= batch.length),
// sharing its buffers: what a partly acknowledged batch replays, and how a batch too large for
// one message is split into several.
RecordBatch Slice(const RecordBatch &batch, int64_t start, int64_t length);

// The deepest nesting of types accepted anywhere (a field at top level has depth 1); deeper is
// refused before it can exhaust a stack. Delta allows 100 (table::kMaxNestingDepth).
constexpr int kMaxNestingDepth = 100;

// Beyond this many slots an array's buffer sizes could overflow; longer arrays are refused where
// they enter (no real batch comes near it).
constexpr int64_t kMaxSlots = int64_t{1} << 48;

// "column 'a.b'" for messages: a field's path ("outer.inner" for nested fields), which comes
// from the peer, shortened to an excerpt so that no message grows with the input.
std::string ColumnLabel(const std::string &path);

// The path of field `name` inside `parent` ("" at top level), kept short however long the names
// or deep the nesting: only ColumnLabel's excerpt of it is ever shown.
std::string ChildPath(const std::string &parent, const std::string &name);

// How many buffers the columnar format gives an array of type `id` (validity included).
int BufferCount(TypeId id);
// Bytes per value of a fixed-width type, 0 for the others (boolean is bit-packed: 0).
int FixedWidth(TypeId id);
// Whether `id` stores values through 32-bit offsets (utf8, binary, list, map) or 64-bit ones.
bool HasOffsets32(TypeId id);
bool HasOffsets64(TypeId id);
// Whether `id` has a data buffer after its offsets (the string and binary types).
bool HasValueData(TypeId id);

// The type as Arrow spells it in messages: "int64", "timestamp[us, tz=UTC]", "decimal128(10, 2)",
// "list<item: string>", "struct<a: int32, b: utf8>", "map<string, int64>".
std::string TypeToString(const DataType &type);

bool operator==(const DataType &a, const DataType &b);
bool operator==(const Field &a, const Field &b);
inline bool operator!=(const DataType &a, const DataType &b) {
  return !(a == b);
}

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_MODEL_H
