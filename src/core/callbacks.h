// What the user registered through zb_config_set_*(), as the engine calls it. The C shim
// implements each over the user's function and user_data, and destroying one runs its
// free_user_data: configs, streams and SDKs share them, and whichever lets go last frees them,
// exactly once.
#ifndef ZEROBUS_CORE_CALLBACKS_H
#define ZEROBUS_CORE_CALLBACKS_H

#include <memory>
#include <mutex>
#include <string>

#include "core/callback_scope.h"
#include "core/event.h"
#include "core/log_level.h"
#include "core/status.h"

namespace zerobus {

struct Headers;

// The handle the user knows a stream or an SDK by, which its callbacks receive back. The engine
// only passes it through.
using UserHandle = void *;

// Run by the stream's dispatcher thread only, one event at a time.
class EventCallback {
 public:
  virtual ~EventCallback() = default;
  virtual void OnEvent(UserHandle stream, const Event &event) const = 0;
};

// Run when events become available to poll: by the stream's dispatcher thread, or, when
// RunsOnAnyThread(), by the thread that queued them.
class Wakeup {
 public:
  virtual ~Wakeup() = default;
  virtual void Wake() const = 0;
  // True for a wakeup of the library's own that runs no user code and never blocks, so that
  // it may run on a gRPC thread, sparing a hop through the dispatch threads.
  virtual bool RunsOnAnyThread() const { return false; }
};

// Run on any thread, several at once (see zb_log_cb).
class LogCallback {
 public:
  virtual ~LogCallback() = default;
  virtual void Log(LogLevel level, const char *component, const char *message) const = 0;
};

// Run by the SDK's statistics thread.
class StatsCallback {
 public:
  virtual ~StatsCallback() = default;
  virtual void Report(UserHandle sdk, const std::string &json) const = 0;
};

// Fills the headers of a connection attempt. Several streams may reconnect at once: Call()
// serializes the calls.
class HeadersProvider {
 public:
  virtual ~HeadersProvider() = default;
  StatusCode Call(Headers *headers) const {
    std::lock_guard<std::mutex> lock(call_mutex_);
    const StreamCloseRefusingScope scope;
    return Provide(headers);
  }

 protected:
  virtual StatusCode Provide(Headers *headers) const = 0;

 private:
  mutable std::mutex call_mutex_;
};

// Supplies the subject token of token federation (RFC 8693): a JWT from an external identity
// provider, which the stream exchanges for a Zerobus token. Called whenever a new token is
// needed; several streams may need one at once: Call() serializes the calls.
class SubjectTokenProvider {
 public:
  virtual ~SubjectTokenProvider() = default;
  StatusCode Call(std::string *token) const {
    std::lock_guard<std::mutex> lock(call_mutex_);
    return Provide(token);
  }

 protected:
  virtual StatusCode Provide(std::string *token) const = 0;

 private:
  mutable std::mutex call_mutex_;
};

using EventCallbackRef = std::shared_ptr<const EventCallback>;
using WakeupRef = std::shared_ptr<const Wakeup>;
using LogCallbackRef = std::shared_ptr<const LogCallback>;
using StatsCallbackRef = std::shared_ptr<const StatsCallback>;
using HeadersProviderRef = std::shared_ptr<const HeadersProvider>;
using SubjectTokenProviderRef = std::shared_ptr<const SubjectTokenProvider>;

}  // namespace zerobus

#endif  // ZEROBUS_CORE_CALLBACKS_H
