// The boundary every extern "C" function crosses: arguments checked, exceptions caught, and a
// Status turned into a zb_status plus an optional zb_error.
#ifndef ZEROBUS_C_API_GUARD_H
#define ZEROBUS_C_API_GUARD_H

#include <zerobus/zerobus.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "c_api/handles.h"
#include "c_api/public_types.h"
#include "core/status.h"

namespace zerobus::c_api {

inline Status NullArgument(const char *name) {
  return Status(StatusCode::kInvalidArg, std::string(name) + " is NULL");
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
  return ToPublic(status.code());
}

// Copies `text` into a new malloc'd, NUL-terminated string for the caller, who frees it with
// zb_string_free(); `*len_out` (unless NULL) receives its length.
inline Status HandOutString(const std::string &text, char **out, size_t *len_out) {
  char *copy = static_cast<char *>(std::malloc(text.size() + 1));
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  *out = copy;
  if (len_out) *len_out = text.size();
  return Status::Ok();
}

// Runs `body` (returning a Status) so that nothing unwinds into the caller.
template <typename Body>
zb_status Guard(zb_error **err, Body body) noexcept {
  Status status;
  try {
    status = body();
  } catch (const std::bad_alloc &) {
    status = Status(StatusCode::kNoMemory, "out of memory");
  } catch (const std::exception &e) {
    status = Status(StatusCode::kInternal, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    status = Status(StatusCode::kInternal, "unexpected exception");
  }
  return Report(status, err);
}

}  // namespace zerobus::c_api

#endif  // ZEROBUS_C_API_GUARD_H
