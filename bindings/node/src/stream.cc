#include "stream.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "addon_data.h"
#include "counters.h"
#include "errors.h"
#include "library_string.h"

namespace zerobus_node {
namespace {

// One poll() returns at most this many events, so that one drain step stays short.
constexpr uint32_t kMaxEventsPerPoll = 1024;
// Offsets travel as JavaScript numbers, exact up to 2^53 - 1.
constexpr double kMaxSafeInteger = 9007199254740991.0;

struct RecordsFree {
  void operator()(zb_records *records) const { zb_records_free(records); }
};

// Copies the UTF-8 encoding of `value`, a string, into `out`.
void CopyUtf8(Napi::Env env, Napi::Value value, std::string &out) {
  size_t length = 0;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_value_string_utf8(env, value, nullptr, 0, &length));
  out.resize(length + 1);  // room for the NUL napi writes
  NAPI_THROW_IF_FAILED_VOID(
      env, napi_get_value_string_utf8(env, value, out.data(), out.size(), &length));
  out.resize(length);
}

// One record argument's bytes, and whether it was JSON text.
struct RecordArg {
  const char *data;
  size_t length;
  bool text;
};

// The bytes of one record argument: a Uint8Array (Buffer included) as it is, a string as
// UTF-8 into `utf8`. Strings are JSON text, handed to the library as such: a stream opened
// from a schema encodes them, any other stream but a JSON one refuses them
// (ZB_ERR_RECORD_TYPE).
RecordArg RecordBytes(Napi::Env env, Napi::Value value, std::string &utf8) {
  // One napi call on the hot path: it fails for anything that is not a typed array.
  napi_typedarray_type type;
  size_t length = 0;
  void *data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    return {static_cast<const char *>(data), length, false};
  }
  if (value.IsString()) {
    CopyUtf8(env, value, utf8);
    return {utf8.data(), utf8.size(), true};
  }
  throw Napi::TypeError::New(env, "a record is a Buffer, a Uint8Array or a JSON string");
}

int32_t TimeoutArg(const Napi::CallbackInfo &info, size_t index) {
  Napi::Value value = info[index];
  double timeout = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -2;
  if (timeout != std::floor(timeout) || timeout < ZB_TIMEOUT_INFINITE || timeout > INT32_MAX) {
    throw Napi::RangeError::New(info.Env(),
                                "a timeout is an integer of milliseconds from -1 (no limit) "
                                "to 2147483647");
  }
  return static_cast<int32_t>(timeout);
}

uint64_t OffsetArg(const Napi::CallbackInfo &info, size_t index) {
  Napi::Value value = info[index];
  double offset = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (offset != std::floor(offset) || offset < 0 || offset > kMaxSafeInteger) {
    throw Napi::RangeError::New(info.Env(), "an offset is a non-negative safe integer");
  }
  return static_cast<uint64_t>(offset);
}

Napi::Number OffsetValue(Napi::Env env, uint64_t offset) {
  return Napi::Number::New(env, static_cast<double>(offset));
}

// The library's name for the state; a state newer than this addon reads "unknown".
const char *StateName(zb_stream_state state) {
  const char *name = zb_stream_state_name(state);
  return name != nullptr ? name : "unknown";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Waker

Waker::Waker() {
  live_wakers.fetch_add(1, std::memory_order_relaxed);
}

Waker::~Waker() {
  live_wakers.fetch_sub(1, std::memory_order_relaxed);
}

Waker *Waker::New(Napi::Env env) {
  auto *waker = new Waker();
  // An unbounded queue never refuses a non-blocking call; coalescing keeps it at one entry.
  waker->function_ = WakerFunction::New(env, "zerobus:wakeup", 0, 1, waker, OnFunctionFinalized,
                                        static_cast<void *>(nullptr));
  return waker;
}

zb_status Waker::RegisterOn(zb_config *cfg, zb_error **err) {
  // The config is never NULL here: a failure is ZB_ERR_NO_MEMORY, after the library has run
  // OnRegistrationFreed already.
  return zb_config_set_wakeup(cfg, OnWakeup, this, OnRegistrationFreed, err);
}

void Waker::AddOwner(Napi::Env env, NativeStream *owner) {
  owners_.push_back(owner);
  KeepLoopAlive(env, owner, true);
}

void Waker::RemoveOwner(Napi::Env env, NativeStream *owner) {
  owners_.erase(std::remove(owners_.begin(), owners_.end(), owner), owners_.end());
  KeepLoopAlive(env, owner, false);
}

void Waker::ForgetOwner(NativeStream *owner) {
  owners_.erase(std::remove(owners_.begin(), owners_.end(), owner), owners_.end());
  keepers_.erase(std::remove(keepers_.begin(), keepers_.end(), owner), keepers_.end());
}

void Waker::KeepLoopAlive(Napi::Env env, NativeStream *owner, bool keep) {
  const bool kept = !keepers_.empty();
  auto found = std::find(keepers_.begin(), keepers_.end(), owner);
  if (keep && found == keepers_.end()) keepers_.push_back(owner);
  if (!keep && found != keepers_.end()) keepers_.erase(found);
  if (keepers_.empty() != kept) return;  // still held, or still not
  if (kept) {
    function_.Unref(env);
  } else {
    function_.Ref(env);
  }
}

// A library thread: must not block nor call the library.
void Waker::OnWakeup(void *self) {
  auto *waker = static_cast<Waker *>(self);
  if (!waker->call_pending_.exchange(true)) waker->function_.NonBlockingCall();
}

// Any thread, once: no wakeup runs after this.
void Waker::OnRegistrationFreed(void *self) {
  auto *waker = static_cast<Waker *>(self);
  waker->function_.Release();
  waker->Drop();
}

void Waker::OnFunctionFinalized(Napi::Env, void *, Waker *self) {
  self->Drop();
}

void Waker::Drop() {
  if (holders_.fetch_sub(1) == 1) delete this;
}

void CallWakerJs(Napi::Env env, Napi::Function, Waker *waker, void *) {
  if (env == nullptr) return;  // the environment is going away: nobody to tell
  // Cleared before the dispatcher polls, so that events queued from now on wake it again.
  waker->call_pending_.store(false);
  // A delivery may destroy a stream, or drop one to the garbage collector: each is looked up
  // again before its turn. A throw from one leaves the others their delivery.
  const std::vector<NativeStream *> owners = waker->owners_;
  std::optional<Napi::Error> thrown;
  for (NativeStream *owner : owners) {
    if (std::find(waker->owners_.begin(), waker->owners_.end(), owner) == waker->owners_.end()) {
      continue;
    }
    try {
      owner->DeliverWakeup();
    } catch (const Napi::Error &error) {
      if (!thrown) thrown = error;
    }
  }
  if (thrown) thrown->ThrowAsJavaScriptException();
}

// ---------------------------------------------------------------------------------------------
// Calls that wait, on the libuv pool

/** Runs one waiting call (close, whose wait is bounded: see lib/stream.js) on a pool thread
 *  and settles a Promise with its outcome. It holds a reference to the stream's JavaScript object,
 * so the stream is neither collected nor destroyed while the call runs. */
class StreamCallWorker : public Napi::AsyncWorker {
 public:
  using Call = std::function<zb_status(zb_stream *, zb_error **)>;

  StreamCallWorker(Napi::Env env, const char *name, NativeStream *target, Call call)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        target_(target),
        keep_target_(Napi::Persistent(target->Value())),
        stream_(target->stream_),
        call_(std::move(call)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    zb_error *err = nullptr;
    status_ = call_(stream_, &err);
    error_.reset(err);
  }

  void OnOK() override {
    target_->CallFinished();
    if (status_ == ZB_OK) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(MakeError(Env(), status_, error_.get()));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  NativeStream *target_;
  Napi::ObjectReference keep_target_;
  zb_stream *stream_;
  Call call_;
  zb_status status_ = ZB_OK;
  ErrorPtr error_;
};

// ---------------------------------------------------------------------------------------------
// NativeStream

Napi::Function NativeStream::DefineClass(Napi::Env env) {
  return ObjectWrap<NativeStream>::DefineClass(
      env, "NativeStream",
      {
          InstanceMethod<&NativeStream::Ingest>("ingest"),
          InstanceMethod<&NativeStream::IngestBatch>("ingestBatch"),
          InstanceMethod<&NativeStream::IngestArrowIpc>("ingestArrowIpc"),
          InstanceMethod<&NativeStream::Poll>("poll"),
          InstanceMethod<&NativeStream::IsDurable>("isDurable"),
          InstanceMethod<&NativeStream::Close>("close"),
          InstanceMethod<&NativeStream::Recreate>("recreate"),
          InstanceMethod<&NativeStream::Unacked>("unacked"),
          InstanceMethod<&NativeStream::Info>("info"),
          InstanceMethod<&NativeStream::StatsJson>("statsJson"),
          InstanceMethod<&NativeStream::PersistentId>("persistentId"),
          InstanceMethod<&NativeStream::ResumeWatermark>("resumeWatermark"),
          InstanceMethod<&NativeStream::Destroy>("destroy"),
          InstanceMethod<&NativeStream::KeepLoopAlive>("keepLoopAlive"),
      });
}

NativeStream::NativeStream(const Napi::CallbackInfo &info)
    : ObjectWrap<NativeStream>(info), data_(&AddonData::Of(info.Env())) {
  if (!info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "streams are opened with Sdk.openStream()");
  }
  OpenedStream *opened = info[0].As<Napi::External<OpenedStream>>().Data();
  stream_ = std::exchange(opened->stream, nullptr);
  record_type_ = opened->record_type;
  waker_ = opened->waker;
  waker_->AddOwner(info.Env(), this);
  data_->Adopt(this);
}

// Garbage collection, or the environment's end after DestroyAtTeardown(). No call is in
// flight: each holds a reference to this object.
NativeStream::~NativeStream() {
  if (destroyed_) return;
  Detach();
  data_->DestroyLater(std::exchange(stream_, nullptr));
}

void NativeStream::Detach() {
  destroyed_ = true;
  waker_->RemoveOwner(Env(), this);
  data_->Forget(this);
}

void NativeStream::DestroyAtTeardown() {
  if (!destroyed_) {
    destroyed_ = true;
    waker_->ForgetOwner(this);
  }
  if (stream_ != nullptr) DestroyStreamHandle(std::exchange(stream_, nullptr));
}

void NativeStream::DeliverWakeup() {
  // Between garbage collection and the finalizer that destroys the stream, the JavaScript
  // object is gone already: its events have nobody to go to.
  Napi::Object self = Value();
  if (self.IsEmpty()) return;
  data_->dispatch.Call({self});
}

zb_stream *NativeStream::Live(Napi::Env env) const {
  if (destroyed_) ThrowError(env, ZB_ERR_STATE, "the stream was destroyed");
  return stream_;
}

Napi::Value NativeStream::Ingest(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_stream *stream = Live(env);
  const RecordArg record = RecordBytes(env, info[0], data_->utf8_scratch());
  uint64_t offset = 0;
  zb_error *err = nullptr;
  zb_status status;
  if (record_type_ == ZB_RECORD_JSON || record.text) {
    status = zb_stream_ingest_json(stream, record.data, record.length, &offset, &err);
  } else if (record_type_ == ZB_RECORD_AVRO) {
    status = zb_stream_ingest_avro(stream, record.data, record.length, &offset, &err);
  } else {
    status = zb_stream_ingest_proto(stream, record.data, record.length, &offset, &err);
  }
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  return OffsetValue(env, offset);
}

Napi::Value NativeStream::IngestBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_stream *stream = Live(env);
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "ingestBatch() takes an array");
  auto array = info[0].As<Napi::Array>();
  const uint32_t count = array.Length();
  // Strings are copied first into their own buffers, which never move afterwards.
  std::vector<std::string> utf8(count);
  std::vector<const char *> records(count);
  std::vector<size_t> lengths(count);
  // A batch is all binary records or all JSON text: one library call takes it.
  bool text = record_type_ == ZB_RECORD_JSON;
  for (uint32_t i = 0; i < count; ++i) {
    const RecordArg record = RecordBytes(env, array.Get(i), utf8[i]);
    if (record_type_ != ZB_RECORD_JSON) {
      if (i == 0) {
        text = record.text;
      } else if (record.text != text) {
        throw Napi::TypeError::New(env, "a batch is all binary records or all JSON records");
      }
    }
    records[i] = record.data;
    lengths[i] = record.length;
  }
  uint64_t last_offset = 0;
  zb_error *err = nullptr;
  const auto *binary = reinterpret_cast<const void *const *>(records.data());
  zb_status status;
  if (text) {
    status = zb_stream_ingest_json_batch(stream, records.data(), lengths.data(), count,
                                         &last_offset, &err);
  } else if (record_type_ == ZB_RECORD_AVRO) {
    status = zb_stream_ingest_avro_batch(stream, binary, lengths.data(), count, &last_offset, &err);
  } else {
    status =
        zb_stream_ingest_proto_batch(stream, binary, lengths.data(), count, &last_offset, &err);
  }
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  return OffsetValue(env, last_offset);
}

Napi::Value NativeStream::IngestArrowIpc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_stream *stream = Live(env);
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "ingestArrowIpc() takes the IPC stream as a Uint8Array");
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  uint64_t last_offset = 0;
  zb_error *err = nullptr;
  // The library copies the bytes before it returns: the JavaScript buffer is free after.
  const zb_status status = zb_stream_ingest_arrow_ipc(stream, bytes.Data(), bytes.ByteLength(),
                                                      &last_offset, nullptr, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  return OffsetValue(env, last_offset);
}

Napi::Value NativeStream::Poll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array result = Napi::Array::New(env);
  if (destroyed_) return result;
  std::vector<zb_event> &events = data_->event_scratch();
  if (events.size() != kMaxEventsPerPoll) events.assign(kMaxEventsPerPoll, zb_event ZB_EVENT_INIT);
  size_t count = 0;
  zb_error *err = nullptr;
  zb_status status =
      zb_stream_poll(stream_, events.data(), sizeof(zb_event), events.size(), 0, &count, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  // Own every event's error first, so that none leaks if building an object throws.
  std::vector<ErrorPtr> event_errors;
  event_errors.reserve(count);
  for (size_t i = 0; i < count; ++i) event_errors.emplace_back(events[i].error);
  for (size_t i = 0; i < count; ++i) {
    const zb_event &event = events[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("firstOffset", OffsetValue(env, event.first_offset));
    object.Set("lastOffset", OffsetValue(env, event.last_offset));
    if (event.type == ZB_EVENT_ERROR) {
      object.Set("type", "error");
      object.Set("error", MakeError(env, zb_error_code(event.error), event.error));
    } else {
      object.Set("type", "ack");
    }
    result.Set(static_cast<uint32_t>(i), object);
  }
  return result;
}

Napi::Value NativeStream::RunOffThread(Napi::Env env, const char *name,
                                       std::function<zb_status(zb_stream *, zb_error **)> call) {
  Live(env);
  auto *worker = new StreamCallWorker(env, name, this, std::move(call));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  ++calls_in_flight_;
  return promise;
}

void NativeStream::CallFinished() {
  if (--calls_in_flight_ == 0 && destroyed_ && stream_ != nullptr) {
    data_->DestroyLater(std::exchange(stream_, nullptr));
  }
}

Napi::Value NativeStream::IsDurable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const uint64_t offset = OffsetArg(info, 0);
  zb_error *err = nullptr;
  const zb_status status = zb_stream_wait_for_offset(Live(env), offset, 0, &err);
  ErrorPtr error(err);
  if (status == ZB_ERR_INVALID_ARG) ThrowError(env, status, error.get());
  return Napi::Boolean::New(env, status == ZB_OK);
}

Napi::Value NativeStream::Close(const Napi::CallbackInfo &info) {
  int32_t timeout = TimeoutArg(info, 0);
  return RunOffThread(info.Env(), "zerobus:close", [timeout](zb_stream *stream, zb_error **err) {
    return zb_stream_close(stream, timeout, err);
  });
}

/** Runs zb_stream_recreate() on a pool thread (it opens a stream: a connection and the server's
 *  answer) and resolves with the new stream's NativeStream, which shares the waker. Holds a
 *  reference to the old stream's JavaScript object, as StreamCallWorker does. */
class RecreateWorker : public Napi::AsyncWorker {
 public:
  RecreateWorker(Napi::Env env, NativeStream *target)
      : Napi::AsyncWorker(env, "zerobus:recreate"),
        deferred_(Napi::Promise::Deferred::New(env)),
        target_(target),
        keep_target_(Napi::Persistent(target->Value())),
        stream_(target->stream_),
        opened_{nullptr, target->record_type_, target->waker_} {}

  // A stream that never reached JavaScript (the environment went away first) is freed here.
  ~RecreateWorker() override {
    if (opened_.stream != nullptr) DestroyStreamHandle(opened_.stream);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    zb_error *err = nullptr;
    status_ = zb_stream_recreate(stream_, &opened_.stream, &err);
    error_.reset(err);
    if (status_ == ZB_OK) CountStreamHandle();
  }

  void OnOK() override {
    Napi::Env env = Env();
    target_->CallFinished();
    if (status_ != ZB_OK) {
      deferred_.Reject(MakeError(env, status_, error_.get()));
      return;
    }
    // The constructor takes the handle out of opened_.
    deferred_.Resolve(
        AddonData::Of(env).stream_class.New({Napi::External<OpenedStream>::New(env, &opened_)}));
  }

 private:
  Napi::Promise::Deferred deferred_;
  NativeStream *target_;
  Napi::ObjectReference keep_target_;
  zb_stream *stream_;
  OpenedStream opened_;
  zb_status status_ = ZB_OK;
  ErrorPtr error_;
};

Napi::Value NativeStream::Recreate(const Napi::CallbackInfo &info) {
  Live(info.Env());
  auto *worker = new RecreateWorker(info.Env(), this);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  ++calls_in_flight_;
  return promise;
}

Napi::Value NativeStream::Unacked(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_records *raw = nullptr;
  zb_error *err = nullptr;
  zb_status status = zb_stream_unacked(Live(env), &raw, &err);
  ErrorPtr error(err);
  std::unique_ptr<zb_records, RecordsFree> records(raw);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  const size_t count = zb_records_count(records.get());
  Napi::Array result = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    const void *data = nullptr;
    size_t length = 0;
    uint64_t offset = 0;
    status = zb_records_get(records.get(), i, &data, &length, &offset, &err);
    error.reset(err);
    if (status != ZB_OK) ThrowError(env, status, error.get());
    Napi::Object record = Napi::Object::New(env);
    record.Set("offset", OffsetValue(env, offset));
    record.Set("record",
               Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t *>(data), length));
    result.Set(static_cast<uint32_t>(i), record);
  }
  return result;
}

Napi::Value NativeStream::StatsJson(const Napi::CallbackInfo &info) {
  return LibraryString(info.Env(), Live(info.Env()), zb_stream_stats_json);
}

Napi::Value NativeStream::PersistentId(const Napi::CallbackInfo &info) {
  return LibraryString(info.Env(), Live(info.Env()), zb_stream_persistent_id);
}

Napi::Value NativeStream::ResumeWatermark(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int32_t has_committed = 0;
  uint64_t last_committed = 0;
  zb_error *err = nullptr;
  zb_status status = zb_stream_resume_watermark(Live(env), &has_committed, &last_committed, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  return has_committed ? Napi::Value(OffsetValue(env, last_committed)) : env.Null();
}

Napi::Value NativeStream::Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  zb_stream_info snapshot = ZB_STREAM_INFO_INIT;
  zb_error *err = nullptr;
  zb_status status = zb_stream_get_info(Live(env), &snapshot, &err);
  ErrorPtr error(err);
  if (status != ZB_OK) ThrowError(env, status, error.get());
  Napi::Object result = Napi::Object::New(env);
  result.Set("state", StateName(snapshot.state));
  result.Set("recordsAccepted", OffsetValue(env, snapshot.records_accepted));
  result.Set("recordsAcked", OffsetValue(env, snapshot.records_acked));
  result.Set("recordsInFlight", OffsetValue(env, snapshot.records_in_flight));
  result.Set("bytesInFlight", OffsetValue(env, snapshot.bytes_in_flight));
  result.Set("recoveries", OffsetValue(env, snapshot.recoveries));
  result.Set("recordsReplayed", OffsetValue(env, snapshot.records_replayed));
  return result;
}

void NativeStream::Destroy(const Napi::CallbackInfo &) {
  if (destroyed_) return;
  Detach();
  // A waiting call still uses the handle: the last one to finish hands it over.
  if (calls_in_flight_ == 0) data_->DestroyLater(std::exchange(stream_, nullptr));
}

void NativeStream::KeepLoopAlive(const Napi::CallbackInfo &info) {
  if (destroyed_) return;
  waker_->KeepLoopAlive(info.Env(), this, info[0].ToBoolean());
}

}  // namespace zerobus_node
