// zb_sdk: an endpoint and its shared connection.
#include <zerobus/zerobus.h>

#include "guard.h"
#include "handles.h"
#include "sdk.h"

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
    auto sdk = std::make_unique<zb_sdk>();
    Status created =
        zerobus::Sdk::Create(endpoint, (cfg ? cfg->config : defaults).settings(), &sdk->impl);
    if (!created.ok()) return created;
    *out = sdk.release();
    return Status::Ok();
  });
}

ZB_API void zb_sdk_destroy(zb_sdk *sdk) {
  delete sdk;
}

}  // extern "C"
