// Versions, status codes and error objects.
#include <zerobus/zerobus.h>

#include "c_api/guard.h"
#include "c_api/handles.h"
#include "c_api/public_types.h"
#include "core/status.h"

#define ZB_STRINGIFY_(x) #x
#define ZB_STRINGIFY(x) ZB_STRINGIFY_(x)

extern "C" {

ZB_API uint32_t zb_version(void) {
  return ZB_VERSION_NUM;
}

ZB_API const char *zb_version_str(void) {
  return ZB_STRINGIFY(ZB_VERSION_MAJOR) "." ZB_STRINGIFY(ZB_VERSION_MINOR) "." ZB_STRINGIFY(
      ZB_VERSION_PATCH);
}

ZB_API const char *zb_status_name(zb_status status) {
  return zerobus::StatusName(static_cast<zerobus::StatusCode>(status));
}

ZB_API const char *zb_status_describe(zb_status status) {
  return zerobus::StatusDescription(static_cast<zerobus::StatusCode>(status));
}

// A failed call leaves *err NULL only when it could not allocate the error object.
ZB_API zb_status zb_error_code(const zb_error *err) {
  return err ? zerobus::c_api::ToPublic(err->status.code()) : ZB_ERR_NO_MEMORY;
}

ZB_API const char *zb_error_name(const zb_error *err) {
  return zb_status_name(zb_error_code(err));
}

ZB_API const char *zb_error_message(const zb_error *err) {
  return err ? err->status.message().c_str() : "";
}

ZB_API int32_t zb_error_is_retryable(const zb_error *err) {
  return err && err->status.retryable() ? 1 : 0;
}

ZB_API int32_t zb_error_grpc_status(const zb_error *err) {
  return err ? err->status.grpc_status() : zerobus::Status::kNoGrpcStatus;
}

ZB_API zb_error *zb_error_new(zb_status code, const char *message, int32_t retryable) {
  try {
    return new zb_error{zerobus::Status(static_cast<zerobus::StatusCode>(code),
                                        message ? message : "", retryable != 0)};
  } catch (...) {
    return nullptr;
  }
}

ZB_API zb_error *zb_error_dup(const zb_error *err) {
  if (!err) return nullptr;
  try {
    return new zb_error(*err);
  } catch (...) {
    return nullptr;
  }
}

ZB_API void zb_error_free(zb_error *err) {
  delete err;
}

}  // extern "C"
