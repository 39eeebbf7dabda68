#include "notifier.h"

#include <memory>

#include "addon_data.h"
#include "counters.h"

namespace zerobus_node {

Notifier::Notifier() {
  live_notifiers.fetch_add(1, std::memory_order_relaxed);
}

Notifier::~Notifier() {
  live_notifiers.fetch_sub(1, std::memory_order_relaxed);
}

Notifier *Notifier::New(Napi::Env env, Napi::Function notify) {
  auto *notifier = new Notifier();
  // An unbounded queue: NonBlockingCall() never refuses, so a library thread never waits.
  notifier->function_ = NotifierFunction::New(env, notify, "zerobus:notify", 0, 1, notifier,
                                              OnFunctionFinalized, static_cast<void *>(nullptr));
  // Logs and statistics are no reason to keep the process alive.
  notifier->function_.Unref(env);
  AddonData::Of(env).Adopt(notifier);
  AddonData::Of(env).KeepTeardownFirst();
  return notifier;
}

zb_status Notifier::Register(zb_status (*setter)(zb_config *, void *, zb_error **), zb_config *cfg,
                             zb_error **err) {
  registrations_.fetch_add(1);
  holders_.fetch_add(1);
  // The config is never NULL here: a failure is ZB_ERR_NO_MEMORY, after the library has run
  // OnRegistrationFreed already.
  return setter(cfg, this, err);
}

zb_status Notifier::RegisterLog(zb_config *cfg, zb_error **err) {
  return Register(
      [](zb_config *c, void *self, zb_error **e) {
        return zb_config_set_log_callback(c, OnLog, self, OnRegistrationFreed, e);
      },
      cfg, err);
}

zb_status Notifier::RegisterStats(zb_config *cfg, zb_error **err) {
  return Register(
      [](zb_config *c, void *self, zb_error **e) {
        return zb_config_set_stats_callback(c, OnStats, self, OnRegistrationFreed, e);
      },
      cfg, err);
}

void Notifier::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  open_ = false;
}

// Library threads (and the JavaScript thread, for messages of calls made from it).
void Notifier::Queue(Notice *notice) {
  std::unique_ptr<Notice> owned(notice);
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ && function_.NonBlockingCall(owned.get()) == napi_ok) owned.release();
}

void Notifier::OnLog(zb_log_level level, const char *component, const char *message, void *self) {
  static_cast<Notifier *>(self)->Queue(new Notice{Notice::Kind::kLog, level, component, message});
}

void Notifier::OnStats(zb_sdk *, const char *json, size_t len, void *self) {
  static_cast<Notifier *>(self)->Queue(
      new Notice{Notice::Kind::kStats, 0, std::string(), std::string(json, len)});
}

// Any thread, once per registration. With the last, nothing can call Queue() any more.
void Notifier::OnRegistrationFreed(void *self) {
  auto *notifier = static_cast<Notifier *>(self);
  if (notifier->registrations_.fetch_sub(1) == 1) {
    std::lock_guard<std::mutex> lock(notifier->mu_);
    notifier->open_ = false;
    if (notifier->function_usable_) {
      notifier->function_usable_ = false;
      notifier->function_.Release();
    }
  }
  notifier->Drop();
}

// The JavaScript thread: after the last release, or at the environment's teardown.
void Notifier::OnFunctionFinalized(Napi::Env env, void *, Notifier *self) {
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->open_ = false;
    self->function_usable_ = false;
  }
  AddonData::Of(env).Forget(self);
  self->Drop();
}

void Notifier::Drop() {
  if (holders_.fetch_sub(1) == 1) delete this;
}

void CallNotifierJs(Napi::Env env, Napi::Function notify, Notifier *, Notice *notice) {
  std::unique_ptr<Notice> owned(notice);
  if (env == nullptr || notice == nullptr) return;  // the environment is going away
  try {
    if (notice->kind == Notice::Kind::kLog) {
      const char *level = zb_log_level_name(notice->level);
      // A level newer than the binding is more detailed than every level it knows.
      notify.Call({Napi::String::New(env, "log"),
                   Napi::String::New(env, level != nullptr ? level : "debug"),
                   Napi::String::New(env, notice->component),
                   Napi::String::New(env, notice->text)});
    } else {
      notify.Call({Napi::String::New(env, "stats"), Napi::String::New(env, notice->text)});
    }
  } catch (const Napi::Error &error) {
    error.ThrowAsJavaScriptException();
  }
}

}  // namespace zerobus_node
