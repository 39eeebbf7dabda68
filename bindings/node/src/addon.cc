// The addon's entry point: the native classes and a few functions. lib/*.js builds the public
// API on top of them.
#include <napi.h>
#include <zerobus/zerobus.h>

#include "addon_data.h"
#include "counters.h"
#include "schema.h"
#include "sdk.h"
#include "stream.h"

namespace zerobus_node {

std::atomic<int64_t> live_stream_handles{0};
std::atomic<int64_t> live_wakers{0};
std::atomic<int64_t> live_sdk_handles{0};
std::atomic<int64_t> live_notifiers{0};

namespace {

// init(ZerobusError, dispatch): the error class native code throws, and the function a
// stream's wakeup calls with the native stream whose events are waiting.
void Init(const Napi::CallbackInfo &info) {
  if (!info[0].IsFunction() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "init(ZerobusError, dispatch) takes two functions");
  }
  AddonData &data = AddonData::Of(info.Env());
  data.error_class = Napi::Persistent(info[0].As<Napi::Function>());
  data.dispatch = Napi::Persistent(info[1].As<Napi::Function>());
}

Napi::Value Version(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), zb_version_str());
}

// The symbolic name of every status code the loaded library knows, indexed by code.
Napi::Value StatusNames(const Napi::CallbackInfo &info) {
  Napi::Array names = Napi::Array::New(info.Env());
  for (zb_status status = ZB_OK;; ++status) {
    const char *name = zb_status_name(status);
    if (name == nullptr) break;
    names.Set(static_cast<uint32_t>(status), name);
  }
  return names;
}

Napi::Value Counters(const Napi::CallbackInfo &info) {
  Napi::Object counters = Napi::Object::New(info.Env());
  counters.Set("streamHandles",
               static_cast<double>(live_stream_handles.load(std::memory_order_relaxed)));
  counters.Set("wakers", static_cast<double>(live_wakers.load(std::memory_order_relaxed)));
  counters.Set("sdkHandles", static_cast<double>(live_sdk_handles.load(std::memory_order_relaxed)));
  counters.Set("notifiers", static_cast<double>(live_notifiers.load(std::memory_order_relaxed)));
  return counters;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto *data = new AddonData(env);
  env.SetInstanceData(data);
  Napi::Function stream_class = NativeStream::DefineClass(env);
  data->stream_class = Napi::Persistent(stream_class);
  exports.Set("NativeSdk", NativeSdk::DefineClass(env));
  exports.Set("NativeStream", stream_class);
  Napi::Function schema_class = NativeSchema::DefineClass(env);
  data->schema_class = Napi::Persistent(schema_class);
  exports.Set("NativeSchema", schema_class);
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("version", Napi::Function::New<Version>(env, "version"));
  exports.Set("statusNames", Napi::Function::New<StatusNames>(env, "statusNames"));
  exports.Set("counters", Napi::Function::New<Counters>(env, "counters"));
  return exports;
}

}  // namespace
}  // namespace zerobus_node

// NODE_API_MODULE wants a plain name.
static Napi::Object InitZerobus(Napi::Env env, Napi::Object exports) {
  return zerobus_node::InitModule(env, exports);
}

NODE_API_MODULE(zerobus, InitZerobus)
