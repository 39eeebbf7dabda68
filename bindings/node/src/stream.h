// A stream's native half: the zb_stream handle, its wakeup, and the calls that reach it.
#ifndef ZEROBUS_NODE_STREAM_H
#define ZEROBUS_NODE_STREAM_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <atomic>
#include <functional>
#include <vector>

namespace zerobus_node {

class AddonData;
class NativeStream;
class Waker;

void CallWakerJs(Napi::Env env, Napi::Function unused, Waker *waker, void *unused_data);
using WakerFunction = Napi::TypedThreadSafeFunction<Waker, void, CallWakerJs>;

/** Carries one stream's wakeups (zb_config_set_wakeup) from library threads to the JavaScript
 *  thread through a threadsafe function, and those of the streams recreated from it, which the
 *  library wakes through the same registration. Wakeups coalesce: at most one call is queued
 *  at a time, and the JavaScript side drains every event of each stream that arrived before it
 *  runs.
 *
 *  A Waker has two holders and frees itself when both have let go: the library's wakeup
 *  registration (until the stream or config holding it is destroyed) and the threadsafe
 *  function (until Node finalizes it on the JavaScript thread, after its last queued call). */
class Waker {
 public:
  /** Creates a waker and its threadsafe function, which keeps the event loop alive until
   *  KeepLoopAlive(false). JavaScript thread. */
  static Waker *New(Napi::Env env);

  /** Registers the waker as the wakeup of streams created from `cfg`. From then on the
   *  library owns the registration, and releases it when nothing created from `cfg` holds it.
   *  @return as zb_config_set_wakeup(); on failure (no memory) the library has released the
   *  registration already. */
  zb_status RegisterOn(zb_config *cfg, zb_error **err);

  /** Routes wakeups to `owner` too, which keeps the process alive until it says otherwise
   *  (KeepLoopAlive). JavaScript thread. */
  void AddOwner(Napi::Env env, NativeStream *owner);
  /** Stops routing wakeups to `owner`, and lets go of its hold on the process. JavaScript
   *  thread. */
  void RemoveOwner(Napi::Env env, NativeStream *owner);
  /** RemoveOwner() as the environment goes away, when the threadsafe function takes no more
   *  calls. */
  void ForgetOwner(NativeStream *owner);

  /** Whether `owner`, which waits for events or not, keeps the process alive: the process
   *  stays alive while one owner does. JavaScript thread. */
  void KeepLoopAlive(Napi::Env env, NativeStream *owner, bool keep);

 private:
  friend void CallWakerJs(Napi::Env env, Napi::Function unused, Waker *waker, void *unused_data);

  Waker();
  ~Waker();
  static void OnWakeup(void *self);
  static void OnRegistrationFreed(void *self);
  static void OnFunctionFinalized(Napi::Env env, void *unused, Waker *self);
  void Drop();

  WakerFunction function_;
  std::atomic<bool> call_pending_{false};
  std::atomic<int> holders_{2};
  // The streams it wakes, and of them those that keep the process alive.
  std::vector<NativeStream *> owners_;
  std::vector<NativeStream *> keepers_;
};

/** What Sdk.openStream hands to the NativeStream it creates. */
struct OpenedStream {
  zb_stream *stream;
  zb_record_type record_type;
  Waker *waker;
};

/** The native object behind a JavaScript Stream (lib/stream.js). Created only by
 *  Sdk.openStream; every method runs on the JavaScript thread of the environment that opened
 *  the stream. It owns the zb_stream until destroy(), garbage collection or the environment's
 *  teardown, and hands it to the reaper then, so that the event loop never waits for
 *  zb_stream_destroy(). */
class NativeStream : public Napi::ObjectWrap<NativeStream> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit NativeStream(const Napi::CallbackInfo &info);
  ~NativeStream() override;

  /** Calls the JavaScript dispatcher with this stream: events are waiting. */
  void DeliverWakeup();

  /** Destroys the stream on this thread: the environment is going away. */
  void DestroyAtTeardown();

 private:
  friend class StreamCallWorker;
  friend class RecreateWorker;

  Napi::Value Ingest(const Napi::CallbackInfo &info);
  Napi::Value IngestBatch(const Napi::CallbackInfo &info);
  /** ingestArrowIpc(bytes) -> number: zb_stream_ingest_arrow_ipc(), the last batch's offset. */
  Napi::Value IngestArrowIpc(const Napi::CallbackInfo &info);
  Napi::Value Poll(const Napi::CallbackInfo &info);
  /** isDurable(offset) -> boolean: whether the library counts `offset` acknowledged
   *  (zb_stream_wait_for_offset without waiting); false while it is pending, and when it is
   *  lost (its 'error' event says so). Throws ZB_ERR_INVALID_ARG for an offset never issued. */
  Napi::Value IsDurable(const Napi::CallbackInfo &info);
  /** close(timeoutMs) -> Promise: zb_stream_close() on a pool thread. */
  Napi::Value Close(const Napi::CallbackInfo &info);
  /** recreate() -> Promise<NativeStream>: zb_stream_recreate() on a pool thread; the new stream
   *  shares this one's waker. */
  Napi::Value Recreate(const Napi::CallbackInfo &info);
  Napi::Value Unacked(const Napi::CallbackInfo &info);
  Napi::Value Info(const Napi::CallbackInfo &info);
  /** persistentId() -> string: zb_stream_persistent_id() (experimental). Throws ZB_ERR_STATE
   *  for a stream that is not persistent. */
  Napi::Value PersistentId(const Napi::CallbackInfo &info);
  /** resumeWatermark() -> number | null: zb_stream_resume_watermark() (experimental), the last
   *  offset the server had committed when the stream was resumed, or null when it had committed
   *  none. Throws ZB_ERR_STATE for a stream that is not persistent. */
  Napi::Value ResumeWatermark(const Napi::CallbackInfo &info);
  /** statsJson() -> string: zb_stream_stats_json(). */
  Napi::Value StatsJson(const Napi::CallbackInfo &info);
  void Destroy(const Napi::CallbackInfo &info);
  void KeepLoopAlive(const Napi::CallbackInfo &info);

  /** The handle, or throws ZB_ERR_STATE once the stream was destroyed. */
  zb_stream *Live(Napi::Env env) const;
  /** Runs `call` on a libuv pool thread and settles the returned Promise with its result. */
  Napi::Value RunOffThread(Napi::Env env, const char *name,
                           std::function<zb_status(zb_stream *, zb_error **)> call);
  void CallFinished();
  /** Stops events and calls reaching the handle; the caller takes care of the handle. */
  void Detach();

  AddonData *data_;
  zb_stream *stream_;
  zb_record_type record_type_;
  Waker *waker_;
  bool destroyed_ = false;
  int calls_in_flight_ = 0;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_STREAM_H
