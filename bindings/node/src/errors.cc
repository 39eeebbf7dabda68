#include "errors.h"

#include <string>

#include "addon_data.h"

namespace zerobus_node {
namespace {

// `code` is the library's symbolic name, so that JavaScript and C users compare the same
// strings; codes newer than this library version still get a stable name.
std::string CodeName(zb_status status) {
  const char *name = zb_status_name(status);
  return name != nullptr ? name : "ZB_ERR_UNKNOWN_" + std::to_string(status);
}

Napi::Object NewError(Napi::Env env, zb_status status, const char *message, bool retryable,
                      int32_t grpc_status) {
  Napi::Object details = Napi::Object::New(env);
  details.Set("code", CodeName(status));
  details.Set("status", status);
  details.Set("retryable", retryable);
  details.Set("grpcStatus", grpc_status < 0 ? env.Null() : Napi::Number::New(env, grpc_status));
  return AddonData::Of(env).error_class.New({Napi::String::New(env, message), details});
}

}  // namespace

Napi::Object MakeError(Napi::Env env, zb_status status, const zb_error *err) {
  if (err == nullptr) {
    const char *description = zb_status_describe(status);
    return NewError(env, status, description != nullptr ? description : "unknown error", false, -1);
  }
  return NewError(env, zb_error_code(err), zb_error_message(err), zb_error_is_retryable(err) != 0,
                  zb_error_grpc_status(err));
}

Napi::Object MakeError(Napi::Env env, zb_status status, const char *message) {
  return NewError(env, status, message, false, -1);
}

void ThrowError(Napi::Env env, zb_status status, const zb_error *err) {
  throw Napi::Error(env, MakeError(env, status, err));
}

void ThrowError(Napi::Env env, zb_status status, const char *message) {
  throw Napi::Error(env, MakeError(env, status, message));
}

}  // namespace zerobus_node
