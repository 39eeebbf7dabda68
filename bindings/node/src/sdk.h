// The native object behind a JavaScript Sdk (lib/sdk.js).
#ifndef ZEROBUS_NODE_SDK_H
#define ZEROBUS_NODE_SDK_H

#include <napi.h>
#include <zerobus/zerobus.h>

namespace zerobus_node {

/** Owns one zb_sdk reference, released by close() or when the object is garbage-collected;
 *  streams opened from it keep the connection until they are destroyed. Methods run on the
 *  JavaScript thread. */
class NativeSdk : public Napi::ObjectWrap<NativeSdk> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  /** new NativeSdk(endpoint, options, notify, log, stats): options of scope "sdk"; with
   *  `log` / `stats` true, the SDK's log messages / statistics go to `notify` (a Notifier);
   *  throws a ZerobusError for a malformed endpoint or option. */
  explicit NativeSdk(const Napi::CallbackInfo &info);
  ~NativeSdk() override { Release(); }

  /** An openStream() call is done with the zb_sdk. */
  void OpenFinished();

 private:
  /** openStream(table, format, options, subjectToken, avro) -> Promise<NativeStream>: a
   *  protobuf stream when `format` (a serialized DescriptorProto) is a Uint8Array, an Avro
   *  stream when it is a writer schema (a string), a stream from the table's schema when it is
   *  a NativeSchema (Avro when `avro` is true, else protobuf; both also take JSON), a JSON
   *  stream when it is null. The stream is opened on a libuv pool thread. Throws ZB_ERR_CLOSED
   *  after close(). */
  Napi::Value OpenStream(const Napi::CallbackInfo &info);
  /** statsJson() -> string: zb_sdk_stats_json(). Throws ZB_ERR_CLOSED after close(). */
  Napi::Value StatsJson(const Napi::CallbackInfo &info);
  /** close(): releases the zb_sdk at once, or when the openStream() calls in flight end. */
  void Close(const Napi::CallbackInfo &info);

  zb_sdk *Live(Napi::Env env) const;
  void Release();

  zb_sdk *sdk_ = nullptr;
  bool closed_ = false;
  int opens_in_flight_ = 0;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_SDK_H
