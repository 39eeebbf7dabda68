#include "server/uc_table_json.h"

#include <cstdio>
#include <functional>

namespace zerobus::server {
namespace {

using nlohmann::json;

json TypeJson(const table::DeltaType &type) {
  switch (type.kind) {
    case table::DeltaKind::kString:
    case table::DeltaKind::kVarchar:
    case table::DeltaKind::kChar:
      return "string";  // CHAR and VARCHAR keep their length in the field's metadata
    case table::DeltaKind::kBoolean:
      return "boolean";
    case table::DeltaKind::kTinyint:
      return "byte";
    case table::DeltaKind::kSmallint:
      return "short";
    case table::DeltaKind::kInt:
      return "integer";
    case table::DeltaKind::kBigint:
      return "long";
    case table::DeltaKind::kFloat:
      return "float";
    case table::DeltaKind::kDouble:
      return "double";
    case table::DeltaKind::kDecimal:
    case table::DeltaKind::kDate:
    case table::DeltaKind::kTimestamp:
    case table::DeltaKind::kTimestampNtz:
    case table::DeltaKind::kBinary:
    case table::DeltaKind::kVariant:
      return table::TypeText(type);
    case table::DeltaKind::kArray:
      return {
          {"type", "array"}, {"elementType", TypeJson(type.children[0])}, {"containsNull", true}};
    case table::DeltaKind::kMap:
      return {{"type", "map"},
              {"keyType", TypeJson(type.children[0])},
              {"valueType", TypeJson(type.children[1])},
              {"valueContainsNull", true}};
    case table::DeltaKind::kStruct: {
      json fields = json::array();
      for (const table::DeltaField &field : type.fields) fields.push_back(StructFieldJson(field));
      return {{"type", "struct"}, {"fields", fields}};
    }
  }
  return nullptr;
}

}  // namespace

json StructFieldJson(const table::DeltaField &field) {
  json metadata = json::object();
  if (field.type.kind == table::DeltaKind::kVarchar || field.type.kind == table::DeltaKind::kChar) {
    metadata["__CHAR_VARCHAR_TYPE_STRING"] = table::TypeText(field.type);
  }
  if (!field.comment.empty()) metadata["comment"] = field.comment;
  return {{"name", field.name},
          {"type", TypeJson(field.type)},
          {"nullable", field.nullable},
          {"metadata", metadata}};
}

json TableInfoJson(const table::TableSchema &table, const std::string &storage_location,
                   int64_t created_at) {
  const size_t first_dot = table.full_name.find('.');
  const size_t second_dot = table.full_name.find('.', first_dot + 1);
  json columns = json::array();
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const table::DeltaField &column = table.columns[i];
    json info = {{"name", column.name},
                 {"position", i},
                 {"nullable", column.nullable},
                 {"type_name", table::TypeName(column.type)},
                 {"type_text", table::TypeText(column.type)},
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
