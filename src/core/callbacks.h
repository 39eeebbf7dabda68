// User callbacks registered through zb_config_set_*: the function, its user_data, and the
// promise to call free_user_data exactly once, when the last holder lets go.
#ifndef ZEROBUS_CORE_CALLBACKS_H
#define ZEROBUS_CORE_CALLBACKS_H

#include <zerobus/zerobus.h>

#include <memory>
#include <mutex>

namespace zerobus {

template <typename Fn>
class Registration {
 public:
  Registration(Fn fn, void *user_data, zb_free_cb free_user_data)
      : fn_(fn), user_data_(user_data), free_user_data_(free_user_data) {}
  ~Registration() {
    if (free_user_data_) free_user_data_(user_data_);
  }
  Registration(const Registration &) = delete;
  Registration &operator=(const Registration &) = delete;

  Fn fn() const { return fn_; }
  void *user_data() const { return user_data_; }

 private:
  Fn fn_;
  void *user_data_;
  zb_free_cb free_user_data_;
};

// Configs and streams share registrations; whichever drops the last reference frees them.
using EventCallbackRef = std::shared_ptr<const Registration<zb_event_cb>>;
using WakeupRef = std::shared_ptr<const Registration<zb_wakeup_cb>>;
using LogCallbackRef = std::shared_ptr<const Registration<zb_log_cb>>;
using StatsCallbackRef = std::shared_ptr<const Registration<zb_stats_cb>>;

// A headers provider also serializes its calls: several streams may reconnect at once.
class HeadersProvider : public Registration<zb_headers_cb> {
 public:
  using Registration::Registration;
  zb_status Call(zb_headers *headers) const {
    std::lock_guard<std::mutex> lock(call_mutex_);
    return fn()(headers, user_data());
  }

 private:
  mutable std::mutex call_mutex_;
};
using HeadersProviderRef = std::shared_ptr<const HeadersProvider>;

}  // namespace zerobus

#endif  // ZEROBUS_CORE_CALLBACKS_H
