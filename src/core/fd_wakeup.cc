#include "core/fd_wakeup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace zerobus {

Status FdWakeup::Check(int fd) {
  const int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
  if (flags < 0) {
    return Status(StatusCode::kInvalidArg,
                  "wakeup descriptor " + std::to_string(fd) + " is not an open file descriptor");
  }
  if ((flags & O_ACCMODE) == O_RDONLY) {
    return Status(StatusCode::kInvalidArg,
                  "wakeup descriptor " + std::to_string(fd) + " is not open for writing");
  }
  if ((flags & O_NONBLOCK) == 0) {
    return Status(StatusCode::kInvalidArg,
                  "wakeup descriptor " + std::to_string(fd) +
                      " is blocking: set O_NONBLOCK (a lagging reader must never stall the "
                      "library's threads)");
  }
  return Status::Ok();
}

FdWakeup::~FdWakeup() {
  if (owned_) close(fd_);
}

void FdWakeup::Wake() const {
  const uint64_t one = 1;
  ssize_t written;
  do {
    written = write(fd_, &one, sizeof one);
  } while (written < 0 && errno == EINTR);
  // EAGAIN: the descriptor holds unread wakeups already, which this one joins.
}

}  // namespace zerobus
