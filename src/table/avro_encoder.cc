#include "table/avro_encoder.h"

#include "table/avro_binary.h"
#include "table/json_record_reader.h"
#include "table/value_checks.h"

namespace zerobus::table {
namespace {

// Writes a record in Avro's binary encoding of AvroSchemaFor()'s schema: fields in order, a
// nullable one as the union ["null", T] (branch 0 for null, 1 for a value), arrays and maps as
// one block of all their items followed by the empty block.
class AvroWriter : public RecordWriter {
 public:
  explicit AvroWriter(std::string *out) : out_(out) {}

  void Null(size_t, const DeltaField &) override { PutAvroLong(0, out_); }
  void Field(size_t, const DeltaField &field) override {
    if (field.nullable) PutAvroLong(1, out_);
  }

  void Boolean(bool value) override { out_->push_back(value ? 1 : 0); }
  void Integer(int64_t value, const DeltaType &) override { PutAvroLong(value, out_); }
  void Real(double value, const DeltaType &type) override {
    if (type.kind == DeltaKind::kFloat) {
      PutAvroFloat(NarrowToFloat(value), out_);
    } else {
      PutAvroDouble(value, out_);
    }
  }
  void Text(std::string_view text, const DeltaType &type) override {
    if (type.kind != DeltaKind::kDecimal) {
      PutAvroBytes(text, out_);
      return;
    }
    // The reader has checked that the text fits the column's precision and scale, which is
    // all DecimalToAvro() needs; should the two ever disagree, the record is refused rather
    // than written wrong.
    std::string unscaled;
    if (!DecimalToAvro(text, type.scale, &unscaled)) {
      unencodable_ = "'" + Excerpt(text) + "' has no Avro decimal form";
    }
    PutAvroBytes(unscaled, out_);
  }
  void Bytes(std::string_view bytes) override { PutAvroBytes(bytes, out_); }

  void BeginStruct() override {}
  void EndStruct() override {}
  void BeginArray(size_t count) override { BeginBlock(count); }
  void EndArray() override { EndBlock(); }
  void BeginMap(size_t count) override { BeginBlock(count); }
  void EndMap() override { EndBlock(); }
  void BeginEntry() override {}
  void EndEntry() override {}

  const std::string &unencodable() const { return unencodable_; }

 private:
  void BeginBlock(size_t count) {
    if (count > 0) PutAvroLong(static_cast<int64_t>(count), out_);
  }
  void EndBlock() { PutAvroLong(0, out_); }

  std::string *out_;
  std::string unencodable_;  // a value the reader took that Avro cannot hold
};

}  // namespace

bool AvroJsonEncoder::Encode(std::string_view record, std::string *out, std::string *error) const {
  const size_t before = out->size();
  AvroWriter writer(out);
  bool read = ReadJsonRecord(*table_, fields_, record, &writer, error);
  if (read && !writer.unencodable().empty()) {
    *error = "record: " + writer.unencodable();
    read = false;
  }
  if (!read) out->resize(before);
  return read;
}

}  // namespace zerobus::table
