#include "sdk.h"

#include <string>
#include <utility>
#include <vector>

#include "addon_data.h"
#include "config.h"
#include "counters.h"
#include "errors.h"
#include "library_string.h"
#include "notifier.h"
#include "schema.h"
#include "stream.h"
#include "subject_tokens.h"

namespace zerobus_node {
namespace {

/** Runs zb_stream_new() (or, given a schema, zb_stream_new_from_schema() or
 *  zb_stream_new_avro_from_schema(); for Arrow, zb_stream_new_arrow_ipc(); for a persistent
 *  stream, zb_stream_new_persistent() or zb_stream_resume()) on a pool thread: it returns
 *  only once the server accepted the stream. Holds a reference to the Sdk's JavaScript
 *  object, and to the schema's, so that both outlive the call. */
class OpenStreamWorker : public Napi::AsyncWorker {
 public:
  OpenStreamWorker(Napi::Env env, NativeSdk *owner, zb_sdk *sdk, std::string table,
                   zb_record_type record_type, std::vector<uint8_t> descriptor,
                   NativeSchema *schema, ConfigPtr cfg, Waker *waker, StreamIdentity identity)
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
        identity_(std::move(identity)),
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
    const void *descriptor = descriptor_.empty() ? nullptr : descriptor_.data();
    if (identity_.kind == StreamIdentity::kNewPersistent) {
      status_ = zb_stream_new_persistent(sdk_, table_.c_str(), record_type_, descriptor,
                                         descriptor_.size(), cfg_.get(), &opened_.stream, &err);
    } else if (identity_.kind == StreamIdentity::kResumed) {
      status_ = zb_stream_resume(sdk_, table_.c_str(), identity_.resume_id.c_str(), record_type_,
                                 descriptor, descriptor_.size(), cfg_.get(), &opened_.stream, &err);
    } else if (record_type_ == ZB_RECORD_ARROW) {
      status_ = zb_stream_new_arrow_ipc(sdk_, table_.c_str(), descriptor_.data(),
                                        descriptor_.size(), cfg_.get(), &opened_.stream, &err);
    } else if (schema_ == nullptr) {
      status_ = zb_stream_new(sdk_, table_.c_str(), record_type_, descriptor, descriptor_.size(),
                              cfg_.get(), &opened_.stream, &err);
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
    owner_->CallFinished();
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
  StreamIdentity identity_;
  OpenedStream opened_;
  zb_status status_ = ZB_OK;
  ErrorPtr error_;
};

/** Runs zb_stream_retire() on a pool thread: one call, bounded by recovery.timeout.ms. Holds a
 *  reference to the Sdk's JavaScript object so that it outlives the call. */
class RetireStreamWorker : public Napi::AsyncWorker {
 public:
  RetireStreamWorker(Napi::Env env, NativeSdk *owner, zb_sdk *sdk, std::string table,
                     std::string stream_id, ConfigPtr cfg)
      : Napi::AsyncWorker(env, "zerobus:retireStream"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        keep_sdk_(Napi::Persistent(owner->Value())),
        sdk_(sdk),
        table_(std::move(table)),
        stream_id_(std::move(stream_id)),
        cfg_(std::move(cfg)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    zb_error *err = nullptr;
    status_ = zb_stream_retire(sdk_, table_.c_str(), stream_id_.c_str(), cfg_.get(), &err);
    error_.reset(err);
    cfg_.reset();  // its subject token provider, if any, is released with it
  }

  void OnOK() override {
    owner_->CallFinished();
    if (status_ == ZB_OK) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(MakeError(Env(), status_, error_.get()));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  NativeSdk *owner_;
  Napi::ObjectReference keep_sdk_;
  zb_sdk *sdk_;
  std::string table_;
  std::string stream_id_;
  ConfigPtr cfg_;
  zb_status status_ = ZB_OK;
  ErrorPtr error_;
};

/** The options of a stream (or of a retire, authenticated as a stream would be): `options`,
 *  ingest that never waits, and the subject token provider `provide` when it is a function. */
ConfigPtr StreamConfig(Napi::Env env, Napi::Value options, Napi::Value provide) {
  ConfigPtr cfg = NewConfig(env, options);
  // Ingest runs on the event loop, so it must never wait for room in the window: a full
  // window throws ZB_ERR_QUEUE_FULL at once.
  SetOption(env, cfg.get(), "stream.ingest.timeout.ms", "0");
  // Token federation: `provide(settle)` (lib/sdk.js) runs the async subject token provider.
  if (provide.IsFunction()) {
    zb_error *err = nullptr;
    zb_status status =
        SubjectTokens::New(env, provide.As<Napi::Function>())->Register(cfg.get(), &err);
    ErrorPtr error(err);
    if (status != ZB_OK) ThrowError(env, status, error.get());
  }
  return cfg;
}

}  // namespace

Napi::Function NativeSdk::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeSdk>::DefineClass(
      env, "NativeSdk",
      {InstanceMethod<&NativeSdk::OpenStream>("openStream"),
       InstanceMethod<&NativeSdk::OpenPersistentStream>("openPersistentStream"),
       InstanceMethod<&NativeSdk::RetireStream>("retireStream"),
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

void NativeSdk::CallFinished() {
  if (--calls_in_flight_ == 0 && closed_) Release();
}

void NativeSdk::Close(const Napi::CallbackInfo &) {
  closed_ = true;
  // A call on a pool thread still uses the handle; the last of them releases it.
  if (calls_in_flight_ == 0) Release();
}

Napi::Value NativeSdk::StatsJson(const Napi::CallbackInfo &info) {
  return LibraryString(info.Env(), Live(info.Env()), zb_sdk_stats_json);
}

Napi::Value NativeSdk::OpenStream(const Napi::CallbackInfo &info) {
  return QueueOpen(info, StreamIdentity{});
}

Napi::Value NativeSdk::OpenPersistentStream(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  StreamIdentity identity;
  if (info[5].IsString()) {
    identity.kind = StreamIdentity::kResumed;
    identity.resume_id = info[5].As<Napi::String>().Utf8Value();
  } else if (info[5].IsNull()) {
    identity.kind = StreamIdentity::kNewPersistent;
  } else {
    throw Napi::TypeError::New(env, "the stream id must be a string, or null to create one");
  }
  return QueueOpen(info, std::move(identity));
}

Napi::Value NativeSdk::QueueOpen(const Napi::CallbackInfo &info, StreamIdentity identity) {
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
  // The library's persistent streams take descriptors and writer schemas as bytes only.
  if (identity.kind != StreamIdentity::kEphemeral &&
      (schema != nullptr || record_type == ZB_RECORD_ARROW)) {
    throw Napi::TypeError::New(env,
                               "a persistent stream takes a protobuf descriptor, an Avro writer "
                               "schema or null for JSON");
  }
  ConfigPtr cfg = StreamConfig(env, info[2], info[3]);
  Waker *waker = Waker::New(env);
  zb_error *err = nullptr;
  zb_status status = waker->RegisterOn(cfg.get(), &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  AddonData::Of(env).KeepTeardownFirst();

  auto *worker = new OpenStreamWorker(env, this, sdk, info[0].As<Napi::String>().Utf8Value(),
                                      record_type, std::move(descriptor), schema, std::move(cfg),
                                      waker, std::move(identity));
  ++calls_in_flight_;
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value NativeSdk::RetireStream(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_sdk *sdk = Live(env);
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "the table name must be a string");
  if (!info[1].IsString()) throw Napi::TypeError::New(env, "the stream id must be a string");
  ConfigPtr cfg = StreamConfig(env, info[2], info[3]);
  auto *worker = new RetireStreamWorker(env, this, sdk, info[0].As<Napi::String>().Utf8Value(),
                                        info[1].As<Napi::String>().Utf8Value(), std::move(cfg));
  ++calls_in_flight_;
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace zerobus_node
