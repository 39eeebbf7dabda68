// The addon's state for one JavaScript environment (the main thread or one worker thread).
#ifndef ZEROBUS_NODE_ADDON_DATA_H
#define ZEROBUS_NODE_ADDON_DATA_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "reaper.h"

namespace zerobus_node {

class NativeStream;
class Notifier;
class SubjectTokens;

/** Everything the addon keeps per environment, so that it works in any number of worker
 *  threads at once. Used on the environment's JavaScript thread only. It is the instance data
 *  of the environment and is deleted after the environment's teardown. */
class AddonData {
 public:
  explicit AddonData(Napi::Env env);
  AddonData(const AddonData &) = delete;
  AddonData &operator=(const AddonData &) = delete;
  ~AddonData();

  static AddonData &Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

  /** The ZerobusError class and the function that drains a stream's events, both from
   *  lib/native.js through init(). */
  Napi::FunctionReference error_class;
  Napi::FunctionReference dispatch;
  /** The NativeStream class, which Sdk.openStream instantiates from C++. */
  Napi::FunctionReference stream_class;

  /** Tracks a stream until Forget(): teardown destroys the streams still tracked. */
  void Adopt(NativeStream *stream) { streams_.insert(stream); }
  void Forget(NativeStream *stream) { streams_.erase(stream); }

  /** Tracks a notifier until Forget(): teardown closes the notifiers still tracked. */
  void Adopt(Notifier *notifier) { notifiers_.insert(notifier); }
  void Forget(Notifier *notifier) { notifiers_.erase(notifier); }

  /** Tracks a subject token provider until Forget(): teardown closes those still tracked
   *  first, so that no stream's destroy waits for a promise that can no longer settle. */
  void Adopt(SubjectTokens *tokens) { subject_tokens_.insert(tokens); }
  void Forget(SubjectTokens *tokens) { subject_tokens_.erase(tokens); }

  /** Hands `stream` to the reaper, which destroys it off the JavaScript thread. */
  void DestroyLater(zb_stream *stream) { reaper_.Destroy(stream); }

  /** Moves the teardown hook in front of every threadsafe function created so far. Node runs
   *  environment cleanup hooks in the reverse order of their registration and frees each
   *  threadsafe function in a hook of its own; the streams that call a threadsafe function
   *  from library threads must be destroyed, and the notifiers closed, before that. Call
   *  after creating one. */
  void KeepTeardownFirst();

  /** A buffer reused for the UTF-8 bytes of string records. */
  std::string &utf8_scratch() { return utf8_scratch_; }
  /** A buffer reused by poll(). */
  std::vector<zb_event> &event_scratch() { return event_scratch_; }

 private:
  static void Teardown(void *self);

  napi_env env_;
  bool torn_down_ = false;
  std::unordered_set<NativeStream *> streams_;
  std::unordered_set<Notifier *> notifiers_;
  std::unordered_set<SubjectTokens *> subject_tokens_;
  Reaper reaper_;
  std::string utf8_scratch_;
  std::vector<zb_event> event_scratch_;
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_ADDON_DATA_H
