// Turning the library's errors into the JavaScript ZerobusError class (defined in lib/errors.js
// and handed to the addon by init()).
#ifndef ZEROBUS_NODE_ERRORS_H
#define ZEROBUS_NODE_ERRORS_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <memory>

namespace zerobus_node {

struct ErrorFree {
  void operator()(zb_error *err) const { zb_error_free(err); }
};
/** Owns an error the library returned through a `zb_error **` out parameter. */
using ErrorPtr = std::unique_ptr<zb_error, ErrorFree>;

/** A new ZerobusError for a failed call: its code, message, retryable flag and gRPC status
 *  come from `err`, or from `status` alone when the library could not allocate `err`. */
Napi::Object MakeError(Napi::Env env, zb_status status, const zb_error *err);

/** A new ZerobusError for a failure the binding itself detects (a wrong record type, a call
 *  on a destroyed stream), never retryable. */
Napi::Object MakeError(Napi::Env env, zb_status status, const char *message);

/** Throws MakeError(env, status, err) as a JavaScript exception (a C++ Napi::Error). */
[[noreturn]] void ThrowError(Napi::Env env, zb_status status, const zb_error *err);

/** Throws MakeError(env, status, message). */
[[noreturn]] void ThrowError(Napi::Env env, zb_status status, const char *message);

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_ERRORS_H
