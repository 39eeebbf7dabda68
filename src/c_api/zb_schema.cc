// zb_schema: table schemas built from Unity Catalog descriptions or DDL.
#include <zerobus/zerobus.h>

#include <cstring>
#include <string>

#include "c_api/guard.h"
#include "c_api/handles.h"
#include "core/table_fetch.h"

using zerobus::RecordSchema;
using zerobus::Status;
using zerobus::c_api::Guard;
using zerobus::c_api::NullArgument;

namespace {

Status Adopt(const Status &made, std::shared_ptr<const RecordSchema> schema, zb_schema **out) {
  if (!made.ok()) return made;
  *out = new zb_schema{std::move(schema)};
  return Status::Ok();
}

}  // namespace

extern "C" {

ZB_API zb_status zb_schema_from_table_json(const char *json, size_t len, zb_schema **out,
                                           zb_error **err) {
  return Guard(err, [&] {
    if (!json) return NullArgument("json");
    if (!out) return NullArgument("out");
    std::shared_ptr<const RecordSchema> schema;
    const Status made = RecordSchema::FromTableInfo(std::string_view(json, len), &schema);
    return Adopt(made, std::move(schema), out);
  });
}

ZB_API zb_status zb_schema_from_ddl(const char *ddl, zb_schema **out, zb_error **err) {
  return Guard(err, [&] {
    if (!ddl) return NullArgument("ddl");
    if (!out) return NullArgument("out");
    std::shared_ptr<const RecordSchema> schema;
    const Status made = RecordSchema::FromDdl(ddl, &schema);
    return Adopt(made, std::move(schema), out);
  });
}

ZB_API zb_status zb_schema_fetch(zb_sdk *sdk, const char *table, const zb_config *cfg,
                                 zb_schema **out, zb_error **err) {
  return Guard(err, [&] {
    if (!sdk) return NullArgument("sdk");
    if (!table) return NullArgument("table");
    if (!out) return NullArgument("out");
    const zerobus::Config defaults;
    std::string json;
    Status fetched =
        zerobus::FetchTableInfo(*sdk->impl, table, cfg ? cfg->config : defaults, &json);
    if (!fetched.ok()) return fetched;
    std::shared_ptr<const RecordSchema> schema;
    const Status made = RecordSchema::FromTableInfo(json, &schema);
    return Adopt(made, std::move(schema), out);
  });
}

ZB_API void zb_schema_destroy(zb_schema *schema) {
  delete schema;
}

ZB_API const char *zb_schema_table_name(const zb_schema *schema) {
  return schema ? schema->impl->table_name().c_str() : nullptr;
}

ZB_API zb_status zb_schema_descriptor(const zb_schema *schema, const void **data, size_t *len,
                                      zb_error **err) {
  return Guard(err, [&] {
    if (!schema) return NullArgument("schema");
    if (!data) return NullArgument("data");
    if (!len) return NullArgument("len");
    *data = schema->impl->descriptor().data();
    *len = schema->impl->descriptor().size();
    return Status::Ok();
  });
}

ZB_API const char *zb_schema_proto_source(const zb_schema *schema) {
  return schema ? schema->impl->proto_source().c_str() : nullptr;
}

ZB_API zb_status zb_schema_avro(const zb_schema *schema, const char **avro_json, zb_error **err) {
  return Guard(err, [&] {
    if (!schema) return NullArgument("schema");
    if (!avro_json) return NullArgument("avro_json");
    const std::string *text = nullptr;
    const Status status = schema->impl->AvroSchema(&text);
    if (!status.ok()) return status;
    *avro_json = text->c_str();
    return Status::Ok();
  });
}

ZB_API zb_status zb_schema_encode_json(const zb_schema *schema, const char *json, size_t len,
                                       void *buf, size_t *size, zb_error **err) {
  return Guard(err, [&] {
    if (!schema) return NullArgument("schema");
    if (!json) return NullArgument("json");
    if (!size) return NullArgument("size");
    std::string record;
    const Status encoded = schema->impl->EncodeJson(zerobus::RecordFormat::kProto,
                                                    std::string_view(json, len), &record);
    if (!encoded.ok()) return encoded;
    if (buf && *size >= record.size()) std::memcpy(buf, record.data(), record.size());
    *size = record.size();
    return Status::Ok();
  });
}

}  // extern "C"
