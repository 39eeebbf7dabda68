#include "schema.h"

#include <string>
#include <vector>

#include "errors.h"

namespace zerobus_node {

Napi::Function NativeSchema::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeSchema>::DefineClass(
      env, "NativeSchema",
      {InstanceMethod<&NativeSchema::TableName>("tableName"),
       InstanceMethod<&NativeSchema::Descriptor>("descriptor"),
       InstanceMethod<&NativeSchema::ProtoSource>("protoSource"),
       InstanceMethod<&NativeSchema::Avro>("avro"),
       InstanceMethod<&NativeSchema::EncodeJson>("encodeJson")});
}

NativeSchema::NativeSchema(const Napi::CallbackInfo &info) : ObjectWrap<NativeSchema>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "NativeSchema(kind, text) takes two strings");
  }
  const std::string kind = info[0].As<Napi::String>();
  const std::string text = info[1].As<Napi::String>();
  zb_error *err = nullptr;
  zb_status status;
  if (kind == "ddl") {
    status = zb_schema_from_ddl(text.c_str(), &schema_, &err);
  } else if (kind == "tableJson") {
    status = zb_schema_from_table_json(text.data(), text.size(), &schema_, &err);
  } else {
    throw Napi::TypeError::New(env, "NativeSchema: kind is 'ddl' or 'tableJson'");
  }
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
}

Napi::Value NativeSchema::TableName(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), zb_schema_table_name(schema_));
}

Napi::Value NativeSchema::Descriptor(const Napi::CallbackInfo &info) {
  const void *data = nullptr;
  size_t len = 0;
  zb_error *err = nullptr;
  zb_status status = zb_schema_descriptor(schema_, &data, &len, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(info.Env(), status, error.get());
  return Napi::Buffer<uint8_t>::Copy(info.Env(), static_cast<const uint8_t *>(data), len);
}

Napi::Value NativeSchema::ProtoSource(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), zb_schema_proto_source(schema_));
}

Napi::Value NativeSchema::Avro(const Napi::CallbackInfo &info) {
  const char *avro_json = nullptr;
  zb_error *err = nullptr;
  zb_status status = zb_schema_avro(schema_, &avro_json, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(info.Env(), status, error.get());
  return Napi::String::New(info.Env(), avro_json);
}

Napi::Value NativeSchema::EncodeJson(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "encodeJson(text) takes a string");
  const std::string json = info[0].As<Napi::String>();
  // A record is rarely longer than its JSON text; when it is, the library says how long, and
  // a second call encodes into that.
  std::vector<uint8_t> record(json.size() + 16);
  for (;;) {
    size_t size = record.size();
    zb_error *err = nullptr;
    zb_status status =
        zb_schema_encode_json(schema_, json.data(), json.size(), record.data(), &size, &err);
    ErrorPtr error(err);
    if (status != ZB_OK) ThrowError(env, status, error.get());
    if (size <= record.size()) return Napi::Buffer<uint8_t>::Copy(env, record.data(), size);
    record.resize(size);
  }
}

}  // namespace zerobus_node
