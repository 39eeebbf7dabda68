#include "server/uc_table_json.h"

#include <cstdio>
#include <functional>

namespace zerobus::server {
namespace {

using nlohmann::json;

json TypeJson(const schema::DeltaType &type) {
  switch (type.kind) {
    case schema::DeltaKind::kString:
    case schema::DeltaKind::kVarchar:
    case schema::DeltaKind::kChar:
      return "string";  // CHAR and VARCHAR keep their length in the field's metadata
    case schema::DeltaKind::kBoolean:
      return "boolean";
    case schema::DeltaKind::kTinyint:
      return "byte";
    case schema::DeltaKind::kSmallint:
      return "short";
    case schema::DeltaKind::kInt:
      return "integer";
    case schema::DeltaKind::kBigint:
      return "long";
    case schema::DeltaKind::kFloat:
      return "float";
    case schema::DeltaKind::kDouble:
      return "double";
    case schema::DeltaKind::kDecimal:
    case schema::DeltaKind::kDate:
    case schema::DeltaKind::kTimestamp:
    case schema::DeltaKind::kTimestampNtz:
    case schema::DeltaKind::kBinary:
    case schema::DeltaKind::kVariant:
      return schema::TypeText(type);
    case schema::DeltaKind::kArray:
      return {
          {"type", "array"}, {"elementType", TypeJson(type.children[0])}, {"containsNull", true}};
    case schema::DeltaKind::kMap:
      return {{"type", "map"},
              {"keyType", TypeJson(type.children[0])},
              {"valueType", TypeJson(type.children[1])},
              {"valueContainsNull", true}};
    case schema::DeltaKind::kStruct: {
      json fields = json::array();
      for (const schema::DeltaField &field : type.fields) fields.push_back(StructFieldJson(field));
      return {{"type", "struct"}, {"fields", fields}};
    }
  }
  return nullptr;
}

}  // namespace

json StructFieldJson(const schema::DeltaField &field) {
  json metadata = json::object();
  if (field.type.kind == schema::DeltaKind::kVarchar ||
      field.type.kind == schema::DeltaKind::kChar) {
    metadata["__CHAR_VARCHAR_TYPE_STRING"] = schema::TypeText(field.type);
  }
  if (!field.comment.empty()) metadata["comment"] = field.comment;
  return {{"name", field.name},
          {"type", TypeJson(field.type)},
          {"nullable", field.nullable},
          {"metadata", metadata}};
}

json TableInfoJson(const schema::TableSchema &table, const std::string &storage_location,
                   int64_t created_at) {
  const size_t first_dot = table.full_name.find('.');
  const size_t second_dot = table.full_name.find('.', first_dot + 1);
  json columns = json::array();
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const schema::DeltaField &column = table.columns[i];
    json info = {{"name", column.name},
                 {"position", i},
                 {"nullable", column.nullable},
                 {"type_name", schema::TypeName(column.type)},
                 {"type_text", schema::TypeText(column.type)},
                 {"type_json", StructFieldJson(column).dump()},
                 {"type_precision", column.type.precision},
                 {"type_scale", column.type.scale}};
    if (!column.comment.empty()) info["comment"] = column.comment;
    columns.push_back(std::move(info));
  }
  // A stable id per table name, shaped like the service's UUIDs.
  char id[37];
  const size_t hash = std::hash<std::string>()(table.full_name);
  std::snprintf(id, sizeof id, "%08zx-0000-4000-8000-%012zx", hash & 0xffffffff,
                (hash >> 16) & 0xffffffffffff);
  return {{"name", table.full_name.substr(second_dot + 1)},
          {"catalog_name", table.full_name.substr(0, first_dot)},
          {"schema_name", table.full_name.substr(first_dot + 1, second_dot - first_dot - 1)},
          {"full_name", table.full_name},
          {"table_type", "MANAGED"},
          {"data_source_format", "DELTA"},
          {"columns", columns},
          {"storage_location", storage_location},
          {"table_id", id},
          {"owner", "zerobus-local"},
          {"created_at", created_at},
          {"created_by", "zerobus-local"},
          {"updated_at", created_at},
          {"updated_by", "zerobus-local"},
          {"properties", json::object()}};
}

}  // namespace zerobus::server
