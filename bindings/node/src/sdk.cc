#include "sdk.h"

#include <string>
#include <utility>
#include <vector>

#include "addon_data.h"
#include "config.h"
#include "counters.h"
#include "errors.h"
#include "notifier.h"
#include "schema.h"
#include "stats_json.h"
#include "stream.h"
#include "subject_tokens.h"

namespace zerobus_node {
namespace {

/** Runs zb_stream_new() (or, given a schema, zb_stream_new_from_schema() or
 *  zb_stream_new_avro_from_schema(); for Arrow, zb_stream_new_arrow_ipc()) on a pool
 *  thread: it returns only once the server accepted the stream. Holds a reference to the
 *  Sdk's JavaScript object, and to the schema's, so that both outlive the call. */
class OpenStreamWorker : public Napi::AsyncWorker {
 public:
  OpenStreamWorker(Napi::Env env, NativeSdk *owner, zb_sdk *sdk, std::string table,
                   zb_record_type record_type, std::vector<uint8_t> descriptor,
                   NativeSchema *schema, ConfigPtr cfg, Waker *waker)
      : Napi::AsyncWorker(env, "zerobus:openStream"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        keep_sdk_(Napi::Persistent(owner->Value())),
        sdk_(sdk),
        table_(std::move(table)),
        record_type_(record_type),
        descriptor_(std::move(descriptor)),
        schema_(schema == nullptr ? nullptr : schema->get()),
        cfg_(std::move(cfg)),
        opened_{nullptr, record_type, waker} {
    if (schema != nullptr) keep_schema_ = Napi::Persistent(schema->Value());
  }

  // A stream that never reached JavaScript (the environment went away first) is freed here.
  ~OpenStreamWorker() override {
    if (opened_.stream != nullptr) DestroyStreamHandle(opened_.stream);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    zb_error *err = nullptr;
    if (record_type_ == ZB_RECORD_ARROW) {
      status_ = zb_stream_new_arrow_ipc(sdk_, table_.c_str(), descriptor_.data(),
                                        descriptor_.size(), cfg_.get(), &opened_.stream, &err);
    } else if (schema_ == nullptr) {
      status_ = zb_stream_new(sdk_, table_.c_str(), record_type_,
                              descriptor_.empty() ? nullptr : descriptor_.data(),
                              descriptor_.size(), cfg_.get(), &opened_.stream, &err);
    } else if (record_type_ == ZB_RECORD_AVRO) {
      status_ = zb_stream_new_avro_from_schema(sdk_, schema_, cfg_.get(), &opened_.stream, &err);
    } else {
      status_ = zb_stream_new_from_schema(sdk_, schema_, cfg_.get(), &opened_.stream, &err);
    }
    error_.reset(err);
    if (status_ == ZB_OK) CountStreamHandle();
    // The stream holds the wakeup now; without a stream this releases it.
    cfg_.reset();
  }

  void OnOK() override {
    Napi::Env env = Env();
    owner_->OpenFinished();
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
  NativeSdk *owner_;
  Napi::ObjectReference keep_sdk_;
  zb_sdk *sdk_;
  std::string table_;
  zb_record_type record_type_;
  std::vector<uint8_t> descriptor_;
  const zb_schema *schema_;
  Napi::ObjectReference keep_schema_;
  ConfigPtr cfg_;
  OpenedStream opened_;
  zb_status status_ = ZB_OK;
  ErrorPtr error_;
};

}  // namespace

Napi::Function NativeSdk::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeSdk>::DefineClass(env, "NativeSdk",
                                            {InstanceMethod<&NativeSdk::OpenStream>("openStream"),
                                             InstanceMethod<&NativeSdk::StatsJson>("statsJson"),
                                             InstanceMethod<&NativeSdk::Close>("close")});
}

NativeSdk::NativeSdk(const Napi::CallbackInfo &info) : ObjectWrap<NativeSdk>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "the endpoint must be a string");
  ConfigPtr cfg = NewConfig(env, info[1]);
  const bool log = info[3].ToBoolean(), stats = info[4].ToBoolean();
  if (log || stats) {
    if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "notify must be a function");
    Notifier *notifier = Notifier::New(env, info[2].As<Napi::Function>());
    zb_error *err = nullptr;
    zb_status status = ZB_OK;
    // The notifier frees itself once no registration holds it, the first one included.
    if (log) status = notifier->RegisterLog(cfg.get(), &err);
    if (status == ZB_OK && stats) status = notifier->RegisterStats(cfg.get(), &err);
    ErrorPtr error(err);
    if (status != ZB_OK) ThrowError(env, status, error.get());
  }
  zb_error *err = nullptr;
  zb_status status =
      zb_sdk_new(info[0].As<Napi::String>().Utf8Value().c_str(), cfg.get(), &sdk_, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  live_sdk_handles.fetch_add(1, std::memory_order_relaxed);
}

zb_sdk *NativeSdk::Live(Napi::Env env) const {
  if (closed_) ThrowError(env, ZB_ERR_CLOSED, "the SDK is closed");
  return sdk_;
}

void NativeSdk::Release() {
  if (sdk_ == nullptr) return;
  // Stops the statistics callback: once this returns it will not run again.
  zb_sdk_destroy(std::exchange(sdk_, nullptr));
  live_sdk_handles.fetch_sub(1, std::memory_order_relaxed);
}

void NativeSdk::OpenFinished() {
  if (--opens_in_flight_ == 0 && closed_) Release();
}

void NativeSdk::Close(const Napi::CallbackInfo &) {
  closed_ = true;
  // zb_stream_new() on a pool thread still uses the handle; the last of them releases it.
  if (opens_in_flight_ == 0) Release();
}

Napi::Value NativeSdk::StatsJson(const Napi::CallbackInfo &info) {
  return zerobus_node::StatsJson(info.Env(), Live(info.Env()), zb_sdk_stats_json);
}

Napi::Value NativeSdk::OpenStream(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_sdk *sdk = Live(env);
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "the table name must be a string");
  std::vector<uint8_t> descriptor;
  zb_record_type record_type = ZB_RECORD_JSON;
  NativeSchema *schema = nullptr;
  // info[4] is the record type lib/sdk.js chose: "proto", "json", "avro" or "arrow".
  const std::string kind = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  if (info[1].IsTypedArray() &&
      info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    // A protobuf descriptor, or for Arrow the schema as IPC bytes.
    auto bytes = info[1].As<Napi::Uint8Array>();
    descriptor.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
    record_type = kind == "arrow" ? ZB_RECORD_ARROW : ZB_RECORD_PROTO;
  } else if (info[1].IsString()) {  // an Avro writer schema
    const std::string writer_schema = info[1].As<Napi::String>();
    descriptor.assign(writer_schema.begin(), writer_schema.end());
    record_type = ZB_RECORD_AVRO;
  } else if (info[1].IsObject() &&
             info[1].As<Napi::Object>().InstanceOf(AddonData::Of(env).schema_class.Value())) {
    // A stream from the table's schema: an Avro one when info[4] says so, else protobuf.
    schema = NativeSchema::Unwrap(info[1].As<Napi::Object>());
    record_type = kind == "avro" ? ZB_RECORD_AVRO : ZB_RECORD_PROTO;
  } else if (!info[1].IsNull()) {
    throw Napi::TypeError::New(env,
                               "the descriptor must be a Uint8Array (protobuf, or an Arrow "
                               "schema's IPC bytes), an Avro writer schema, a NativeSchema, or "
                               "null for JSON");
  }
  ConfigPtr cfg = NewConfig(env, info[2]);
  // Ingest runs on the event loop, so it must never wait for room in the window: a full
  // window throws ZB_ERR_QUEUE_FULL at once.
  SetOption(env, cfg.get(), "stream.ingest.timeout.ms", "0");

  // Token federation: `provide(settle)` (lib/sdk.js) runs the stream's async subject token
  // provider.
  if (info[3].IsFunction()) {
    zb_error *err = nullptr;
    zb_status status =
        SubjectTokens::New(env, info[3].As<Napi::Function>())->Register(cfg.get(), &err);
    ErrorPtr error(err);
    if (status != ZB_OK) ThrowError(env, status, error.get());
  }

  Waker *waker = Waker::New(env);
  zb_error *err = nullptr;
  zb_status status = waker->RegisterOn(cfg.get(), &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  AddonData::Of(env).KeepTeardownFirst();

  auto *worker =
      new OpenStreamWorker(env, this, sdk, info[0].As<Napi::String>().Utf8Value(), record_type,
                           std::move(descriptor), schema, std::move(cfg), waker);
  ++opens_in_flight_;
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace zerobus_node
