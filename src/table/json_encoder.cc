#include "table/json_encoder.h"

#include <cstring>
#include <deque>
#include <vector>

#include "table/json_record_reader.h"
#include "table/proto_schema.h"
#include "table/value_checks.h"

namespace zerobus::table {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void PutVarint(uint64_t value, std::string *out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutTag(int32_t number, WireType wire_type, std::string *out) {
  PutVarint((static_cast<uint64_t>(number) << 3) | wire_type, out);
}

void PutLittleEndian(uint64_t bits, int bytes, std::string *out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
}

void PutBytes(int32_t number, std::string_view bytes, std::string *out) {
  PutTag(number, kLengthDelimited, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

// Writes a record as the message BuildDescriptor() describes: each value as the field number
// of the field it belongs to (every element of an ARRAY as its repeated field's, a map entry's
// key as 1 and value as 2), each STRUCT and map entry as a nested message.
class ProtoWriter : public RecordWriter {
 public:
  explicit ProtoWriter(std::string *out) : levels_{Level{out, 0, 0}} {}

  void Null(size_t, const DeltaField &) override {}  // absent: proto2 optional, or no elements
  void Field(size_t index, const DeltaField &) override { top().number = FieldNumber(index); }

  void Boolean(bool value) override {
    PutTag(Number(), kVarint, top().out);
    PutVarint(value ? 1 : 0, top().out);
  }
  void Integer(int64_t value, const DeltaType &) override {
    PutTag(Number(), kVarint, top().out);
    // Negative int32 values too are ten-byte sign-extended varints, as protobuf has them.
    PutVarint(static_cast<uint64_t>(value), top().out);
  }
  void Real(double value, const DeltaType &type) override {
    if (type.kind == DeltaKind::kFloat) {
      const float narrow = NarrowToFloat(value);
      uint32_t bits;
      std::memcpy(&bits, &narrow, sizeof bits);
      PutTag(Number(), kFixed32, top().out);
      PutLittleEndian(bits, 4, top().out);
    } else {
      uint64_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      PutTag(Number(), kFixed64, top().out);
      PutLittleEndian(bits, 8, top().out);
    }
  }
  void Text(std::string_view text, const DeltaType &) override {
    PutBytes(Number(), text, top().out);
  }
  void Bytes(std::string_view bytes) override { PutBytes(Number(), bytes, top().out); }

  void BeginStruct() override { Nest(); }
  void EndStruct() override { Unnest(); }
  void BeginArray(size_t) override {}  // its elements are the repeated field's values
  void EndArray() override {}
  void BeginMap(size_t) override {}
  void EndMap() override {}
  void BeginEntry() override { Nest(); }
  void EndEntry() override { Unnest(); }

 private:
  struct Level {
    std::string *out;
    int32_t number;  // the field the next value belongs to
    int values;      // values written at this level: a map entry's key is 1, its value 2
  };

  Level &top() { return levels_.back(); }

  // The field number of the next value: the current field's, or within a map entry 1 for the
  // key and 2 for the value.
  int32_t Number() {
    Level &level = top();
    return level.number != 0 ? level.number : ++level.values;
  }

  void Nest() {
    buffers_.emplace_back();
    levels_.push_back(Level{&buffers_.back(), 0, 0});
  }

  void Unnest() {
    const std::string nested = std::move(*top().out);
    levels_.pop_back();
    buffers_.pop_back();
    PutBytes(Number(), nested, top().out);
  }

  std::vector<Level> levels_;
  // The nested messages being written, innermost last; a deque, so that the levels' pointers
  // to them stay valid as more are added.
  std::deque<std::string> buffers_;
};

}  // namespace

bool JsonEncoder::Encode(std::string_view record, std::string *out, std::string *error) const {
  const size_t before = out->size();
  ProtoWriter writer(out);
  if (!ReadJsonRecord(*table_, fields_, record, &writer, error)) {
    out->resize(before);
    return false;
  }
  return true;
}

}  // namespace zerobus::table
