#include "core/record_schema.h"

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
  *out = std::move(made);
  return Status::Ok();
}

Status RecordSchema::EncodeJson(std::string_view json, std::string *out) const {
  std::string error;
  if (!encoder_.Encode(json, out, &error)) return Status(StatusCode::kInvalidRecord, error);
  return Status::Ok();
}

}  // namespace zerobus
