// The native object behind a JavaScript Sdk (lib/sdk.js).
#ifndef ZEROBUS_NODE_SDK_H
#define ZEROBUS_NODE_SDK_H

#include <napi.h>
#include <zerobus/zerobus.h>

namespace zerobus_node {

/** Owns one zb_sdk reference, released when the object is garbage-collected; streams opened
 *  from it keep the connection until they are destroyed. Methods run on the JavaScript
 *  thread. */
class NativeSdk : public Napi::ObjectWrap<NativeSdk> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  /** new NativeSdk(endpoint, options): options of scope "sdk"; throws a ZerobusError for a
   *  malformed endpoint or option. */
  explicit NativeSdk(const Napi::CallbackInfo &info);
  ~NativeSdk() override { zb_sdk_destroy(sdk_); }

 private:
  /** openStream(table, descriptor, options) -> Promise<NativeStream>: a protobuf stream when
   *  `descriptor` (a serialized DescriptorProto) is a Uint8Array, a JSON stream when it is
   *  null. The stream is opened on a libuv pool thread. */
  Napi::Value OpenStream(const Napi::CallbackInfo &info);

  zb_sdk *sdk_ = nullptr;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_SDK_H
