// A table's schema as streams use it: the table's columns, the protobuf descriptor a stream of
// the table is opened with, the .proto source of that descriptor, the Avro writer schema, and
// the encoder that turns JSON records into protobuf records. Immutable once made, so shared freely
// between threads and between the zb_schema handle and the streams opened from it.
#ifndef ZEROBUS_CORE_RECORD_SCHEMA_H
#define ZEROBUS_CORE_RECORD_SCHEMA_H

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/record_format.h"
#include "core/status.h"
#include "table/avro_encoder.h"
#include "table/delta_type.h"
#include "table/json_encoder.h"

namespace zerobus {

class RecordSchema {
 public:
  // From Unity Catalog's TableInfo JSON, or from one Delta DDL statement. ZB_ERR_INVALID_SCHEMA
  // says what is wrong with the text.
  static Status FromTableInfo(std::string_view json, std::shared_ptr<const RecordSchema> *out);
  static Status FromDdl(std::string_view ddl, std::shared_ptr<const RecordSchema> *out);

  RecordSchema(const RecordSchema &) = delete;
  RecordSchema &operator=(const RecordSchema &) = delete;

  const std::string &table_name() const { return table_.full_name; }
  // A serialized google.protobuf.DescriptorProto.
  const std::string &descriptor() const { return descriptor_; }
  const std::string &proto_source() const { return proto_source_; }
  // The Avro writer schema (Avro JSON) of the table; ZB_ERR_INVALID_SCHEMA for a table with no
  // Avro form (table/avro_schema.h).
  Status AvroSchema(const std::string **schema) const;

  // Appends the JSON object `json` encoded as `format` (kProto: a protobuf record of the
  // descriptor; kAvro: an Avro datum of the writer schema, for a table that has one) to
  // `*out`; ZB_ERR_INVALID_RECORD naming the column otherwise (`*out` unchanged). Thread-safe.
  Status EncodeJson(RecordFormat format, std::string_view json, std::string *out) const;

 private:
  explicit RecordSchema(table::TableSchema table) : table_(std::move(table)) {}
  static Status Make(table::TableSchema table, std::shared_ptr<const RecordSchema> *out);

  table::TableSchema table_;
  std::string descriptor_;
  std::string proto_source_;
  std::string avro_schema_;
  std::string avro_error_;  // why the table has no Avro form, else empty
  table::JsonEncoder encoder_{&table_};
  table::AvroJsonEncoder avro_encoder_{&table_};
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_RECORD_SCHEMA_H
