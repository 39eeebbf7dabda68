// zb_sdk: an endpoint and its shared connection.
#include <zerobus/zerobus.h>

#include "c_api/guard.h"
#include "c_api/handles.h"
#include "core/sdk.h"

using zerobus::Status;
using zerobus::c_api::Guard;
using zerobus::c_api::NullArgument;

extern "C" {

ZB_API zb_status zb_sdk_new(const char *endpoint, const zb_config *cfg, zb_sdk **out,
                            zb_error **err) {
  return Guard(err, [&] {
    if (!endpoint) return NullArgument("endpoint");
    if (!out) return NullArgument("out");
    const zerobus::Config defaults;
    const zerobus::Config &config = cfg ? cfg->config : defaults;
    auto sdk = std::make_unique<zb_sdk>();
    Status created = zerobus::Sdk::Create(endpoint, config, sdk.get(), &sdk->impl);
    if (!created.ok()) return created;
    *out = sdk.release();
    return Status::Ok();
  });
}

ZB_API zb_status zb_sdk_stats_json(zb_sdk *sdk, char **json_out, size_t *len_out, zb_error **err) {
  return Guard(err, [&] {
    if (!sdk) return NullArgument("sdk");
    if (!json_out) return NullArgument("json_out");
    return zerobus::c_api::HandOutString(sdk->impl->StatsJson(), json_out, len_out);
  });
}

ZB_API void zb_sdk_destroy(zb_sdk *sdk) {
  if (sdk) sdk->impl->Release();
  delete sdk;
}

}  // extern "C"
