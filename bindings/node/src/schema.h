// The native object behind a JavaScript Schema (lib/schema.js): a table's protobuf record type
// as the library derives it, and its JSON encoder.
#ifndef ZEROBUS_NODE_SCHEMA_H
#define ZEROBUS_NODE_SCHEMA_H

#include <napi.h>
#include <zerobus/zerobus.h>

namespace zerobus_node {

/** Owns one zb_schema, freed when the object is garbage-collected. A schema is immutable, and
 *  every method runs on the JavaScript thread without blocking. */
class NativeSchema : public Napi::ObjectWrap<NativeSchema> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  /** new NativeSchema(kind, text): kind 'ddl' (zb_schema_from_ddl) or 'tableJson'
   *  (zb_schema_from_table_json); throws a ZerobusError (ZB_ERR_INVALID_SCHEMA) for what the
   *  library refuses. */
  explicit NativeSchema(const Napi::CallbackInfo &info);
  ~NativeSchema() override { zb_schema_destroy(schema_); }

  /** The schema, owned by this object. */
  const zb_schema *get() const { return schema_; }

 private:
  /** tableName() -> "catalog.schema.table". */
  Napi::Value TableName(const Napi::CallbackInfo &info);
  /** descriptor() -> Buffer: a copy of the serialized DescriptorProto. */
  Napi::Value Descriptor(const Napi::CallbackInfo &info);
  /** protoSource() -> string: the descriptor's proto2 source. */
  Napi::Value ProtoSource(const Napi::CallbackInfo &info);
  /** avro() -> string: the table's Avro writer schema (zb_schema_avro); throws a
   *  ZerobusError (ZB_ERR_INVALID_SCHEMA) naming the column for a table with no Avro form. */
  Napi::Value Avro(const Napi::CallbackInfo &info);
  /** encodeJson(text) -> Buffer: the protobuf record of the JSON object `text`; throws a
   *  ZerobusError (ZB_ERR_INVALID_RECORD) naming the column when it does not fit. */
  Napi::Value EncodeJson(const Napi::CallbackInfo &info);

  zb_schema *schema_ = nullptr;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_SCHEMA_H
