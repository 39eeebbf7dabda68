// Avro's binary encoding of single values (the Avro specification, "Binary Encoding"): read
// from bytes that may come from anywhere, every length and count checked against what is left,
// and written for records a client encodes. Also the decimal logical type's bytes.
#ifndef ZEROBUS_TABLE_AVRO_BINARY_H
#define ZEROBUS_TABLE_AVRO_BINARY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zerobus::table {

// Reads values off the front of a datum. Each Read...() returns false, consuming nothing
// certain, when the bytes left do not hold a whole valid value; the caller then refuses the
// datum.
class AvroReader {
 public:
  explicit AvroReader(std::string_view bytes) : rest_(bytes) {}

  // A zig-zag varint of at most 10 bytes (long) that must fit 64 bits.
  bool ReadLong(int64_t *value);
  // A long that fits 32 bits (int).
  bool ReadInt(int32_t *value);
  bool ReadBoolean(bool *value);   // one byte, 0 or 1
  bool ReadFloat(float *value);    // 4 bytes, little-endian IEEE 754
  bool ReadDouble(double *value);  // 8 bytes
  // bytes and string: a long length, then that many bytes (a view into the datum).
  bool ReadBytes(std::string_view *value);
  bool ReadFixed(size_t size, std::string_view *value);
  // The count of the next block of an array or map: 0 ends it. A negative count is followed
  // by the block's size in bytes, which is read and checked; `*count` is then its absolute
  // value. A count larger than the bytes left is refused: every item this reader is asked for
  // takes at least a byte (ResolveAvroSchema() refuses the types that take none).
  bool ReadBlockCount(int64_t *count);

  bool done() const { return rest_.empty(); }
  size_t left() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

void PutAvroLong(int64_t value, std::string *out);
void PutAvroFloat(float value, std::string *out);
void PutAvroDouble(double value, std::string *out);
void PutAvroBytes(std::string_view bytes, std::string *out);

// A decimal's unscaled value as Avro's decimal holds it (two's complement, big-endian, the
// fewest bytes), from its text ("-12.30") at `scale` digits after the point; false when the
// text is not a decimal that fits 38 digits at that scale.
bool DecimalToAvro(std::string_view text, int scale, std::string *bytes);
// The text of an Avro decimal's unscaled `bytes` at `scale` ("-12.30"); false for more than
// 16 bytes (past 38 digits) or none.
bool DecimalFromAvro(std::string_view bytes, int scale, std::string *text);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_AVRO_BINARY_H
