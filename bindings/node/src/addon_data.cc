#include "addon_data.h"

#include "notifier.h"
#include "stream.h"
#include "subject_tokens.h"

namespace zerobus_node {

AddonData::AddonData(Napi::Env env) : env_(env) {
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, Teardown, this));
}

AddonData::~AddonData() {
  reaper_.Stop();
}

void AddonData::KeepTeardownFirst() {
  if (torn_down_) return;
  NAPI_THROW_IF_FAILED_VOID(env_, napi_remove_env_cleanup_hook(env_, Teardown, this));
  NAPI_THROW_IF_FAILED_VOID(env_, napi_add_env_cleanup_hook(env_, Teardown, this));
}

// Runs when the environment goes away (a worker thread ends, or the main thread's environment
// is freed). No JavaScript runs any more and Node has waited for the addon's async work, so
// blocking here is allowed: close every subject token provider (a library thread waiting for a
// promise gives up at once), destroy every stream and close every notifier, so that no library
// thread calls into a threadsafe function Node is about to free.
void AddonData::Teardown(void *self) {
  auto *data = static_cast<AddonData *>(self);
  data->torn_down_ = true;
  for (SubjectTokens *tokens : data->subject_tokens_) tokens->Close();
  std::unordered_set<NativeStream *> streams;
  streams.swap(data->streams_);
  for (NativeStream *stream : streams) stream->DestroyAtTeardown();
  for (Notifier *notifier : data->notifiers_) notifier->Close();
  data->reaper_.Stop();
}

}  // namespace zerobus_node
