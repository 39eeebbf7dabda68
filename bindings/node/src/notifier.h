// Carries an SDK's log messages and statistics from library threads to JavaScript.
#ifndef ZEROBUS_NODE_NOTIFIER_H
#define ZEROBUS_NODE_NOTIFIER_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <atomic>
#include <mutex>
#include <string>

namespace zerobus_node {

/** One log message or statistics report on its way to the JavaScript thread. */
struct Notice {
  enum class Kind { kLog, kStats } kind;
  zb_log_level level;
  std::string component;  // a log message's
  std::string text;       // the message, or the statistics JSON
};

class Notifier;
void CallNotifierJs(Napi::Env env, Napi::Function notify, Notifier *notifier, Notice *notice);
using NotifierFunction = Napi::TypedThreadSafeFunction<Notifier, Notice, CallNotifierJs>;

/** The log and statistics callbacks of one SDK. A library thread copies each message into a
 *  Notice and queues it for a threadsafe function without waiting; on the JavaScript thread the
 *  function calls `notify(kind, ...)` (lib/sdk.js), which emits the Sdk's 'log' or 'stats'
 *  event. The queue is unbounded: a callback never blocks a library thread.
 *
 *  Holders: the threadsafe function (until Node finalizes it) and each registration the
 *  library holds (until its free_user_data); the last to let go frees the Notifier. Close()
 *  stops deliveries before the environment frees the threadsafe function. */
class Notifier {
 public:
  /** A notifier calling `notify`; it does not keep the event loop alive. JavaScript thread. */
  static Notifier *New(Napi::Env env, Napi::Function notify);

  /** Registers the log callback, or the statistics callback, on `cfg`. On failure (no
   *  memory) the library has released the registration already. */
  zb_status RegisterLog(zb_config *cfg, zb_error **err);
  zb_status RegisterStats(zb_config *cfg, zb_error **err);

  /** Drops every later message: the environment is going away. */
  void Close();

 private:
  friend void CallNotifierJs(Napi::Env, Napi::Function, Notifier *, Notice *);

  Notifier();
  ~Notifier();
  void Queue(Notice *notice);
  static void OnLog(zb_log_level level, const char *component, const char *message, void *self);
  static void OnStats(zb_sdk *sdk, const char *json, size_t len, void *self);
  static void OnRegistrationFreed(void *self);
  static void OnFunctionFinalized(Napi::Env env, void *unused, Notifier *self);
  void Drop();

  zb_status Register(zb_status (*setter)(zb_config *, void *, zb_error **), zb_config *cfg,
                     zb_error **err);

  NotifierFunction function_;
  std::mutex mu_;                // orders Queue() against the function's release
  bool open_ = true;             // under mu_: deliveries go on
  bool function_usable_ = true;  // under mu_: neither released nor finalized
  std::atomic<int> registrations_{0};
  std::atomic<int> holders_{1};  // the threadsafe function, and each registration
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_NOTIFIER_H
