#include "core/record_schema.h"

#include "table/avro_schema.h"
#include "table/ddl_parser.h"
#include "table/proto_schema.h"
#include "table/table_info.h"

namespace zerobus {

Status RecordSchema::FromTableInfo(std::string_view json,
                                   std::shared_ptr<const RecordSchema> *out) {
  table::TableSchema table;
  std::string error;
  if (!table::ParseTableInfo(json, &table, &error)) {
    return Status(StatusCode::kInvalidSchema, "table description: " + error);
  }
  return Make(std::move(table), out);
}

Status RecordSchema::FromDdl(std::string_view ddl, std::shared_ptr<const RecordSchema> *out) {
  table::TableSchema table;
  std::string error;
  if (!table::ParseTableDdl(ddl, &table, &error)) {
    return Status(StatusCode::kInvalidSchema, "table DDL: " + error);
  }
  return Make(std::move(table), out);
}

Status RecordSchema::Make(table::TableSchema table, std::shared_ptr<const RecordSchema> *out) {
  // Not make_shared: the constructor is private.
  std::shared_ptr<RecordSchema> made(new RecordSchema(std::move(table)));
  google::protobuf::DescriptorProto message;
  std::string error;
  if (!table::BuildDescriptor(made->table_, &message, &error) ||
      !table::ProtoSource(message, &made->proto_source_, &error)) {
    return Status(StatusCode::kInvalidSchema, "table " + made->table_.full_name + ": " + error);
  }
  made->descriptor_ = message.SerializeAsString();
  // A table the service maps to protobuf may still have no Avro form; only its Avro streams
  // are refused.
  if (!table::AvroSchemaFor(made->table_, &made->avro_schema_, &error)) {
    made->avro_schema_.clear();
    made->avro_error_ = "table " + made->table_.full_name + " has no Avro form: " + error;
  }
  *out = std::move(made);
  return Status::Ok();
}

Status RecordSchema::AvroSchema(const std::string **schema) const {
  if (!avro_error_.empty()) return Status(StatusCode::kInvalidSchema, avro_error_);
  *schema = &avro_schema_;
  return Status::Ok();
}

Status RecordSchema::EncodeJson(RecordFormat format, std::string_view json,
                                std::string *out) const {
  std::string error;
  const bool encoded = format == RecordFormat::kAvro ? avro_encoder_.Encode(json, out, &error)
                                                     : encoder_.Encode(json, out, &error);
  if (!encoded) return Status(StatusCode::kInvalidRecord, error);
  return Status::Ok();
}

}  // namespace zerobus
