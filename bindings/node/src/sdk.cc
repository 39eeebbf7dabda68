#include "sdk.h"

#include <string>
#include <utility>
#include <vector>

#include "addon_data.h"
#include "config.h"
#include "counters.h"
#include "errors.h"
#include "stream.h"

namespace zerobus_node {
namespace {

/** Runs zb_stream_new() on a pool thread: it returns only once the server accepted the
 *  stream. Holds a reference to the Sdk's JavaScript object, so the zb_sdk outlives the call. */
class OpenStreamWorker : public Napi::AsyncWorker {
 public:
  OpenStreamWorker(Napi::Env env, Napi::Object sdk_object, zb_sdk *sdk, std::string table,
                   zb_record_type record_type, std::vector<uint8_t> descriptor, ConfigPtr cfg,
                   Waker *waker)
      : Napi::AsyncWorker(env, "zerobus:openStream"),
        deferred_(Napi::Promise::Deferred::New(env)),
        keep_sdk_(Napi::Persistent(sdk_object)),
        sdk_(sdk),
        table_(std::move(table)),
        record_type_(record_type),
        descriptor_(std::move(descriptor)),
        cfg_(std::move(cfg)),
        opened_{nullptr, record_type, waker} {}

  // A stream that never reached JavaScript (the environment went away first) is freed here.
  ~OpenStreamWorker() override {
    if (opened_.stream != nullptr) DestroyStreamHandle(opened_.stream);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    zb_error *err = nullptr;
    status_ = zb_stream_new(sdk_, table_.c_str(), record_type_,
                            descriptor_.empty() ? nullptr : descriptor_.data(), descriptor_.size(),
                            cfg_.get(), &opened_.stream, &err);
    error_.reset(err);
    if (status_ == ZB_OK) CountStreamHandle();
    // The stream holds the wakeup now; without a stream this releases it.
    cfg_.reset();
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (status_ != ZB_OK) {
      deferred_.Reject(MakeError(env, status_, error_.get()));
      return;
    }
    // The constructor takes the handle out of opened_.
    Napi::Object stream =
        AddonData::Of(env).stream_class.New({Napi::External<OpenedStream>::New(env, &opened_)});
    deferred_.Resolve(stream);
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_sdk_;
  zb_sdk *sdk_;
  std::string table_;
  zb_record_type record_type_;
  std::vector<uint8_t> descriptor_;
  ConfigPtr cfg_;
  OpenedStream opened_;
  zb_status status_ = ZB_OK;
  ErrorPtr error_;
};

}  // namespace

Napi::Function NativeSdk::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeSdk>::DefineClass(env, "NativeSdk",
                                            {InstanceMethod<&NativeSdk::OpenStream>("openStream")});
}

NativeSdk::NativeSdk(const Napi::CallbackInfo &info) : ObjectWrap<NativeSdk>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "the endpoint must be a string");
  ConfigPtr cfg = NewConfig(env, info[1]);
  zb_error *err = nullptr;
  zb_status status =
      zb_sdk_new(info[0].As<Napi::String>().Utf8Value().c_str(), cfg.get(), &sdk_, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
}

Napi::Value NativeSdk::OpenStream(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "the table name must be a string");
  std::vector<uint8_t> descriptor;
  zb_record_type record_type = ZB_RECORD_JSON;
  if (info[1].IsTypedArray() &&
      info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto bytes = info[1].As<Napi::Uint8Array>();
    descriptor.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
    record_type = ZB_RECORD_PROTO;
  } else if (!info[1].IsNull()) {
    throw Napi::TypeError::New(env, "the descriptor must be a Uint8Array, or null for JSON");
  }
  ConfigPtr cfg = NewConfig(env, info[2]);
  // Ingest runs on the event loop, so it must never wait for room in the window: a full
  // window throws ZB_ERR_QUEUE_FULL at once.
  SetOption(env, cfg.get(), "stream.ingest.timeout.ms", "0");

  Waker *waker = Waker::New(env);
  zb_error *err = nullptr;
  zb_status status = waker->RegisterOn(cfg.get(), &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  AddonData::Of(env).KeepTeardownFirst();

  auto *worker = new OpenStreamWorker(env, Value(), sdk_, info[0].As<Napi::String>().Utf8Value(),
                                      record_type, std::move(descriptor), std::move(cfg), waker);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace zerobus_node
