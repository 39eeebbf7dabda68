// A string the library allocates (statistics JSON, a persistent stream's id), as a JavaScript
// string.
#ifndef ZEROBUS_NODE_LIBRARY_STRING_H
#define ZEROBUS_NODE_LIBRARY_STRING_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <memory>

#include "errors.h"

namespace zerobus_node {

/** Calls `get` (zb_sdk_stats_json, zb_stream_stats_json, zb_stream_persistent_id) on
 *  `object` and returns the string, freed on the C side; throws a ZerobusError on failure. */
template <typename Object>
Napi::String LibraryString(Napi::Env env, Object *object,
                           zb_status (*get)(Object *, char **, size_t *, zb_error **)) {
  char *json = nullptr;
  size_t len = 0;
  zb_error *err = nullptr;
  zb_status status = get(object, &json, &len, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  std::unique_ptr<char, void (*)(char *)> owned(json, zb_string_free);
  return Napi::String::New(env, json, len);
}

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_LIBRARY_STRING_H
