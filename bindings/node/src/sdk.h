// The native object behind a JavaScript Sdk (lib/sdk.js).
#ifndef ZEROBUS_NODE_SDK_H
#define ZEROBUS_NODE_SDK_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <string>

namespace zerobus_node {

/** Which stream an open call makes: an ephemeral one, a new persistent one, or the persistent
 *  stream `resume_id` resumed. */
struct StreamIdentity {
  enum Kind { kEphemeral, kNewPersistent, kResumed } kind = kEphemeral;
  std::string resume_id;
};

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

  /** A call on a pool thread (openStream(), openPersistentStream(), retireStream()) is done
   *  with the zb_sdk. */
  void CallFinished();

 private:
  /** openStream(table, format, options, subjectToken, recordType) -> Promise<NativeStream>: a
   *  protobuf stream when `format` (a serialized DescriptorProto) is a Uint8Array, an Avro
   *  stream when it is a writer schema (a string), a stream from the table's schema when it is
   *  a NativeSchema (Avro when `avro` is true, else protobuf; both also take JSON), a JSON
   *  stream when it is null. The stream is opened on a libuv pool thread. Throws ZB_ERR_CLOSED
   *  after close(). */
  Napi::Value OpenStream(const Napi::CallbackInfo &info);
  /** openPersistentStream(table, format, options, subjectToken, recordType, streamId) ->
   *  Promise<NativeStream>: experimental (zerobus.h, "Persistent streams"). With `streamId`
   *  null, zb_stream_new_persistent(); with a string, zb_stream_resume() of that stream. The
   *  format is a protobuf descriptor (Uint8Array), an Avro writer schema (string) or null for
   *  JSON; a NativeSchema or an Arrow schema throws a TypeError. On a libuv pool thread. */
  Napi::Value OpenPersistentStream(const Napi::CallbackInfo &info);
  /** retireStream(table, streamId, options, subjectToken) -> Promise<void>: experimental,
   *  zb_stream_retire() on a libuv pool thread. */
  Napi::Value RetireStream(const Napi::CallbackInfo &info);
  /** statsJson() -> string: zb_sdk_stats_json(). Throws ZB_ERR_CLOSED after close(). */
  Napi::Value StatsJson(const Napi::CallbackInfo &info);
  /** close(): releases the zb_sdk at once, or when the calls in flight on pool threads end. */
  void Close(const Napi::CallbackInfo &info);

  /** What both open calls share: the arguments checked, the config with its wakeup and
   *  subject token provider registered, the worker queued. */
  Napi::Value QueueOpen(const Napi::CallbackInfo &info, StreamIdentity identity);

  zb_sdk *Live(Napi::Env env) const;
  void Release();

  zb_sdk *sdk_ = nullptr;
  bool closed_ = false;
  int calls_in_flight_ = 0;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_SDK_H
