// zb_config: string-keyed options and callback registrations.
#include <zerobus/zerobus.h>

#include <cstring>
#include <memory>

#include "c_api/callbacks.h"
#include "c_api/guard.h"
#include "c_api/handles.h"
#include "c_api/public_types.h"
#include "core/config.h"
#include "core/fd_wakeup.h"
#include "core/log.h"

using zerobus::Status;
using zerobus::StatusCode;
using zerobus::c_api::Guard;
using zerobus::c_api::NullArgument;

namespace {

// A registration for `cb`, or none when `cb` is NULL. Either way free_user_data runs exactly
// once: at once when nothing will ever be called with user_data, else with the registration.
template <typename Registration, typename Fn>
std::shared_ptr<const Registration> Register(Fn cb, void *user_data, zb_free_cb free_user_data) {
  if (cb) {
    try {
      return std::make_shared<const Registration>(cb, user_data, free_user_data);
    } catch (...) {
      if (free_user_data) free_user_data(user_data);
      throw;
    }
  }
  if (free_user_data) free_user_data(user_data);
  return nullptr;
}

}  // namespace

extern "C" {

ZB_API zb_status zb_config_new(zb_config **out, zb_error **err) {
  return Guard(err, [&] {
    if (!out) return NullArgument("out");
    *out = new zb_config();
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_dup(const zb_config *cfg, zb_config **out, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    if (!out) return NullArgument("out");
    *out = new zb_config(*cfg);
    return Status::Ok();
  });
}

ZB_API void zb_config_destroy(zb_config *cfg) {
  delete cfg;
}

ZB_API zb_status zb_config_set(zb_config *cfg, const char *key, const char *value, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    if (!key) return NullArgument("key");
    if (!value) return NullArgument("value");
    return cfg->config.Set(key, value);
  });
}

ZB_API zb_status zb_config_get(const zb_config *cfg, const char *key, char *buf, size_t *size,
                               zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    if (!key) return NullArgument("key");
    if (!size) return NullArgument("size");
    std::string value;
    Status found = cfg->config.Get(key, &value);
    if (!found.ok()) return found;
    if (buf && *size > value.size()) std::memcpy(buf, value.c_str(), value.size() + 1);
    *size = value.size() + 1;
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_describe(size_t index, zb_config_property *out, zb_error **err) {
  return Guard(err, [&] {
    if (!out) return NullArgument("out");
    if (out->struct_size < offsetof(zb_config_property, type)) {
      return Status(StatusCode::kInvalidArg, "out->struct_size is too small");
    }
    zerobus::PropertyInfo property;
    if (!zerobus::Config::Describe(index, &property)) {
      return Status(StatusCode::kInvalidArg,
                    "there is no configuration key number " + std::to_string(index));
    }
    zerobus::c_api::CopyVersioned(
        zb_config_property{sizeof(zb_config_property), property.name, property.type,
                           property.default_value, property.range, property.scope,
                           property.description},
        out, out->struct_size);
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_set_headers_provider(zb_config *cfg, zb_headers_cb cb, void *user_data,
                                                zb_free_cb free_user_data, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    cfg->config.set_headers_provider(
        Register<zerobus::c_api::CHeadersProvider>(cb, user_data, free_user_data));
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_set_token_federation(zb_config *cfg, zb_token_cb cb, void *user_data,
                                                zb_free_cb free_user_data, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    cfg->config.set_token_federation(
        Register<zerobus::c_api::CSubjectTokenProvider>(cb, user_data, free_user_data));
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_set_event_callback(zb_config *cfg, zb_event_cb cb, void *user_data,
                                              zb_free_cb free_user_data, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    cfg->config.set_event_callback(
        Register<zerobus::c_api::CEventCallback>(cb, user_data, free_user_data));
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_set_log_callback(zb_config *cfg, zb_log_cb cb, void *user_data,
                                            zb_free_cb free_user_data, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    cfg->config.set_log_callback(
        Register<zerobus::c_api::CLogCallback>(cb, user_data, free_user_data));
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_set_stats_callback(zb_config *cfg, zb_stats_cb cb, void *user_data,
                                              zb_free_cb free_user_data, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    cfg->config.set_stats_callback(
        Register<zerobus::c_api::CStatsCallback>(cb, user_data, free_user_data));
    return Status::Ok();
  });
}

ZB_API const char *zb_log_level_name(zb_log_level level) {
  return zerobus::LogLevelName(static_cast<zerobus::LogLevel>(level));
}

ZB_API zb_status zb_config_set_wakeup(zb_config *cfg, zb_wakeup_cb cb, void *user_data,
                                      zb_free_cb free_user_data, zb_error **err) {
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    cfg->config.set_wakeup(Register<zerobus::c_api::CWakeup>(cb, user_data, free_user_data));
    return Status::Ok();
  });
}

ZB_API zb_status zb_config_set_wakeup_fd(zb_config *cfg, int32_t fd, int32_t close_on_release,
                                         zb_error **err) {
  // Whatever the outcome, an owned descriptor is the library's from here on.
  std::unique_ptr<const zerobus::FdWakeup> wakeup;
  if (fd >= 0 && close_on_release) {
    wakeup = std::make_unique<const zerobus::FdWakeup>(fd, true);
  }
  return Guard(err, [&] {
    if (!cfg) return NullArgument("cfg");
    if (fd == -1) {
      cfg->config.set_wakeup(nullptr);
      return Status::Ok();
    }
    Status status = zerobus::FdWakeup::Check(fd);
    if (!status.ok()) return status;
    if (!wakeup) wakeup = std::make_unique<const zerobus::FdWakeup>(fd, false);
    cfg->config.set_wakeup(std::move(wakeup));
    return Status::Ok();
  });
}

}  // extern "C"
