// The wakeup of zb_config_set_wakeup_fd(): a write to the user's pipe or eventfd, made by the
// library itself from the thread that queued the event, so that an event loop watching the
// descriptor learns of an event with no hop through the dispatch threads.
#ifndef ZEROBUS_CORE_FD_WAKEUP_H
#define ZEROBUS_CORE_FD_WAKEUP_H

#include "core/callbacks.h"
#include "core/status.h"

namespace zerobus {

class FdWakeup final : public Wakeup {
 public:
  // Checks that `fd` is open for writing and non-blocking: a blocking descriptor whose reader
  // lags would stall the gRPC thread that writes it. ZB_ERR_INVALID_ARG otherwise.
  static Status Check(int fd);

  // `owned`: the descriptor is closed with the last config or stream that holds this wakeup.
  FdWakeup(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdWakeup() override;
  FdWakeup(const FdWakeup &) = delete;
  FdWakeup &operator=(const FdWakeup &) = delete;
  // Writes the 8-byte value 1, which an eventfd adds to its counter and a pipe's reader drains
  // with the rest. A write that would block is dropped: the descriptor holds unread wakeups.
  void Wake() const override;
  bool RunsOnAnyThread() const override { return true; }

 private:
  const int fd_;
  const bool owned_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_FD_WAKEUP_H
