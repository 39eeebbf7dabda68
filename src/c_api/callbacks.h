// The user's C callbacks behind the engine's callback interfaces (core/callbacks.h). Each holds
// the function and its user_data, and destroying it runs free_user_data: the engine shares
// them between configs, streams and SDKs, so that runs exactly once, when the last lets go.
#ifndef ZEROBUS_C_API_CALLBACKS_H
#define ZEROBUS_C_API_CALLBACKS_H

#include <zerobus/zerobus.h>

#include <memory>
#include <string>

#include "c_api/handles.h"
#include "c_api/public_types.h"
#include "core/callbacks.h"

namespace zerobus::c_api {

template <typename Fn>
class UserFunction {
 public:
  UserFunction(Fn fn, void *user_data, zb_free_cb free_user_data)
      : fn_(fn), user_data_(user_data), free_user_data_(free_user_data) {}
  ~UserFunction() {
    if (free_user_data_) free_user_data_(user_data_);
  }
  UserFunction(const UserFunction &) = delete;
  UserFunction &operator=(const UserFunction &) = delete;

 protected:
  const Fn fn_;
  void *const user_data_;

 private:
  const zb_free_cb free_user_data_;
};

class CEventCallback final : public EventCallback, private UserFunction<zb_event_cb> {
 public:
  using UserFunction::UserFunction;
  void OnEvent(UserHandle stream, const Event &event) const override {
    // The callback borrows the error object until it returns.
    zb_error *error = nullptr;
    std::unique_ptr<zb_error> made;
    if (event.error) {
      try {
        made.reset(new zb_error{*event.error});
        error = made.get();
      } catch (...) {
        error = &OutOfMemory();
      }
    }
    const zb_event delivered = ToPublic(event, error);
    fn_(static_cast<zb_stream *>(stream), &delivered, user_data_);
  }

 private:
  // Stands in for an error the library has no memory left to copy.
  static zb_error &OutOfMemory() {
    static zb_error out_of_memory{Status(StatusCode::kNoMemory, "out of memory")};
    return out_of_memory;
  }
};

class CWakeup final : public Wakeup, private UserFunction<zb_wakeup_cb> {
 public:
  using UserFunction::UserFunction;
  void Wake() const override { fn_(user_data_); }
};

class CLogCallback final : public LogCallback, private UserFunction<zb_log_cb> {
 public:
  using UserFunction::UserFunction;
  void Log(LogLevel level, const char *component, const char *message) const override {
    fn_(static_cast<zb_log_level>(level), component, message, user_data_);
  }
};

class CStatsCallback final : public StatsCallback, private UserFunction<zb_stats_cb> {
 public:
  using UserFunction::UserFunction;
  void Report(UserHandle sdk, const std::string &json) const override {
    fn_(static_cast<zb_sdk *>(sdk), json.c_str(), json.size(), user_data_);
  }
};

class CHeadersProvider final : public HeadersProvider, private UserFunction<zb_headers_cb> {
 public:
  using UserFunction::UserFunction;

 protected:
  StatusCode Provide(Headers *headers) const override {
    zb_headers handle{headers};
    return static_cast<StatusCode>(fn_(&handle, user_data_));
  }
};

class CSubjectTokenProvider final : public SubjectTokenProvider, private UserFunction<zb_token_cb> {
 public:
  using UserFunction::UserFunction;

 protected:
  StatusCode Provide(std::string *token) const override {
    zb_token_sink sink{token};
    return static_cast<StatusCode>(fn_(&sink, user_data_));
  }
};

}  // namespace zerobus::c_api

#endif  // ZEROBUS_C_API_CALLBACKS_H
