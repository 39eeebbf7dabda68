#include "record_schema.h"

#include "core/schema/ddl_parser.h"
#include "core/schema/proto_schema.h"
#include "core/schema/table_info.h"

namespace zerobus {

Status RecordSchema::FromTableInfo(std::string_view json,
                                   std::shared_ptr<const RecordSchema> *out) {
  schema::TableSchema table;
  std::string error;
  if (!schema::ParseTableInfo(json, &table, &error)) {
    return Status(ZB_ERR_INVALID_SCHEMA, "table description: " + error);
  }
  return Make(std::move(table), out);
}

Status RecordSchema::FromDdl(std::string_view ddl, std::shared_ptr<const RecordSchema> *out) {
  schema::TableSchema table;
  std::string error;
  if (!schema::ParseTableDdl(ddl, &table, &error)) {
    return Status(ZB_ERR_INVALID_SCHEMA, "table DDL: " + error);
  }
  return Make(std::move(table), out);
}

Status RecordSchema::Make(schema::TableSchema table, std::shared_ptr<const RecordSchema> *out) {
  // Not make_shared: the constructor is private.
  std::shared_ptr<RecordSchema> made(new RecordSchema(std::move(table)));
  google::protobuf::DescriptorProto message;
  std::string error;
  if (!schema::BuildDescriptor(made->table_, &message, &error) ||
      !schema::ProtoSource(message, &made->proto_source_, &error)) {
    return Status(ZB_ERR_INVALID_SCHEMA, "table " + made->table_.full_name + ": " + error);
  }
  made->descriptor_ = message.SerializeAsString();
  *out = std::move(made);
  return Status::Ok();
}

Status RecordSchema::EncodeJson(std::string_view json, std::string *out) const {
  std::string error;
  if (!encoder_.Encode(json, out, &error)) return Status(ZB_ERR_INVALID_RECORD, error);
  return Status::Ok();
}

}  // namespace zerobus
