// The boundary every extern "C" function crosses: arguments checked, exceptions caught, and a
// Status turned into a zb_status plus an optional zb_error.
#ifndef ZEROBUS_C_API_GUARD_H
#define ZEROBUS_C_API_GUARD_H

#include <zerobus/zerobus.h>

#include <exception>
#include <new>
#include <string>

#include "status.h"

namespace zerobus::c_api {

inline Status NullArgument(const char *name) {
  return Status(ZB_ERR_INVALID_ARG, std::string(name) + " is NULL");
}

// Hands `status` to the caller: its code, and in *err a new error object when it failed.
inline zb_status Report(const Status &status, zb_error **err) noexcept {
  if (err) {
    *err = nullptr;
    if (!status.ok()) {
      try {
        *err = new zb_error{status};
      } catch (...) {
        // The code still tells what happened.
      }
    }
  }
  return status.code();
}

// Runs `body` (returning a Status) so that nothing unwinds into the caller.
template <typename Body>
zb_status Guard(zb_error **err, Body body) noexcept {
  Status status;
  try {
    status = body();
  } catch (const std::bad_alloc &) {
    status = Status(ZB_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception &e) {
    status = Status(ZB_ERR_INTERNAL, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    status = Status(ZB_ERR_INTERNAL, "unexpected exception");
  }
  return Report(status, err);
}

}  // namespace zerobus::c_api

#endif  // ZEROBUS_C_API_GUARD_H
