// Token federation: the stream's JavaScript subject token provider, an async function, called
// from the library thread that needs a token.
#ifndef ZEROBUS_NODE_SUBJECT_TOKENS_H
#define ZEROBUS_NODE_SUBJECT_TOKENS_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>

namespace zerobus_node {

/** One call of the provider: the library thread waits for it to be settled, from the
 *  JavaScript thread when the provider's promise settles, or by the teardown of the
 *  environment. Shared by both, so that a promise settling after the wait gave up touches
 *  nothing freed. */
class TokenRequest {
 public:
  /** The first call wins: a token, or none (the provider failed or gave no string). */
  void Settle(std::optional<std::string> token);
  /** Waits up to `bound` for Settle(); the token, or none when it failed or took too long. */
  std::optional<std::string> Wait(std::chrono::milliseconds bound);

 private:
  std::mutex mu_;
  std::condition_variable settled_cv_;
  bool settled_ = false;
  std::optional<std::string> token_;
};

class SubjectTokens;
void CallProviderJs(Napi::Env env, Napi::Function provide, SubjectTokens *tokens,
                    std::shared_ptr<TokenRequest> *request);
using ProviderFunction =
    Napi::TypedThreadSafeFunction<SubjectTokens, std::shared_ptr<TokenRequest>, CallProviderJs>;

/** The token federation callback of one stream. zb_token_cb must return the token, but the
 *  provider is an async function of the JavaScript thread: the library thread queues a
 *  TokenRequest for a threadsafe function, which calls `provide(settle)` (lib/sdk.js) on the
 *  JavaScript thread, and blocks until the promise settles, at most kWait. zerobus.h offers no
 *  asynchronous form of the sink. The library calls it from zb_stream_new() (on a pool thread
 *  of the addon's, never the JavaScript thread) and from its supervision threads; a call on the
 *  JavaScript thread itself could never be answered and is refused at once.
 *
 *  Holders: the threadsafe function (until Node finalizes it) and the library's registration
 *  (until its free_user_data); the last to let go frees it. */
class SubjectTokens {
 public:
  /** How long a library thread waits for the provider's promise: one that has not settled by
   *  then counts as a refused token (ZB_ERR_AUTH), retried as the recovery options say. */
  static constexpr std::chrono::seconds kWait{30};

  /** A provider calling `provide`; it does not keep the event loop alive. JavaScript thread. */
  static SubjectTokens *New(Napi::Env env, Napi::Function provide);

  /** Registers the token federation callback on `cfg`. On failure (no memory) the library
   *  has released the registration already. */
  zb_status Register(zb_config *cfg, zb_error **err);

  /** The environment is going away: the requests waiting are refused now, and later ones at
   *  once. JavaScript thread. */
  void Close();

 private:
  SubjectTokens() = default;
  static zb_status OnToken(zb_token_sink *sink, void *self);
  static void OnRegistrationFreed(void *self);
  static void OnFunctionFinalized(Napi::Env env, void *unused, SubjectTokens *self);
  void Drop();

  ProviderFunction function_;
  std::thread::id js_thread_;
  std::mutex mu_;        // orders calls against the function's release
  bool usable_ = true;   // under mu_: neither released nor finalized
  bool closed_ = false;  // under mu_: Close() ran
  std::unordered_set<std::shared_ptr<TokenRequest>> waiting_;  // under mu_
  std::atomic<int> holders_{1};
};

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_SUBJECT_TOKENS_H
