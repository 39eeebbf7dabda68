// zb_config objects made from JavaScript option objects.
#ifndef ZEROBUS_NODE_CONFIG_H
#define ZEROBUS_NODE_CONFIG_H

#include <napi.h>
#include <zerobus/zerobus.h>

#include <memory>

namespace zerobus_node {

struct ConfigDestroy {
  void operator()(zb_config *cfg) const { zb_config_destroy(cfg); }
};
using ConfigPtr = std::unique_ptr<zb_config, ConfigDestroy>;

/** A config holding the defaults, overridden by each own enumerable property of `options`
 *  (a key of docs/CONFIGURATION.md and a string, number, boolean or bigint value); undefined
 *  and null mean defaults. Throws a TypeError for other values and a ZerobusError
 *  (ZB_ERR_UNKNOWN_KEY, ZB_ERR_INVALID_VALUE) for what the library refuses. */
ConfigPtr NewConfig(Napi::Env env, Napi::Value options);

/** zb_config_set(), throwing a ZerobusError on failure. */
void SetOption(Napi::Env env, zb_config *cfg, const char *key, const char *value);

}  // namespace zerobus_node

#endif  // ZEROBUS_NODE_CONFIG_H
