#include "config.h"

#include <string>

#include "errors.h"

namespace zerobus_node {

ConfigPtr NewConfig(Napi::Env env, Napi::Value options) {
  zb_config *raw = nullptr;
  zb_error *err = nullptr;
  zb_status status = zb_config_new(&raw, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  ConfigPtr cfg(raw);
  if (options.IsUndefined() || options.IsNull()) return cfg;
  if (!options.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object object = options.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).ToString();
    Napi::Value value = object.Get(key);
    if (!value.IsString() && !value.IsNumber() && !value.IsBoolean() && !value.IsBigInt()) {
      throw Napi::TypeError::New(
          env, "option '" + key + "' must be a string, number, boolean or bigint");
    }
    SetOption(env, cfg.get(), key.c_str(), value.ToString().Utf8Value().c_str());
  }
  return cfg;
}

void SetOption(Napi::Env env, zb_config *cfg, const char *key, const char *value) {
  zb_error *err = nullptr;
  zb_status status = zb_config_set(cfg, key, value, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
}

}  // namespace zerobus_node
