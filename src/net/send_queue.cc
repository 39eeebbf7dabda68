#include "net/send_queue.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace zerobus::net {
namespace {

// Room a segment of copied bytes starts with, so that the small bytes between two referred
// pieces land in one segment without reallocating: a TLS record's worth.
constexpr size_t kCopiedSegmentBytes = size_t{16} << 10;
// Segments one sendmsg() takes at most: a 256 KiB send of 1 KB records is about 500.
constexpr size_t kMaxIovecs = 512;

}  // namespace

void SendQueue::Copy(std::string_view bytes) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  if (!segments_.empty() && !segments_.back().owner) {
    std::string &tail = segments_.back().copied;
    if (tail.capacity() - tail.size() >= bytes.size()) {
      tail.append(bytes);
      return;
    }
  }
  Segment &segment = segments_.emplace_back();
  segment.copied.reserve(std::max(bytes.size(), kCopiedSegmentBytes));
  segment.copied.append(bytes);
}

void SendQueue::Refer(std::string_view bytes, const std::shared_ptr<const void> &owner) {
  if (bytes.size() < kReferFrom || !owner) {
    Copy(bytes);
    return;
  }
  bytes_ += bytes.size();
  Segment &segment = segments_.emplace_back();
  segment.referred = bytes;
  segment.owner = owner;
}

ssize_t SendQueue::WriteTo(int fd) {
  size_t written = 0;
  while (!segments_.empty()) {
    iovec iovecs[kMaxIovecs];
    size_t count = 0;
    size_t offered = 0;
    for (const Segment &segment : segments_) {
      if (count == kMaxIovecs) break;
      std::string_view span = Bytes(segment);
      if (count == 0) span.remove_prefix(front_taken_);
      iovecs[count++] = iovec{const_cast<char *>(span.data()), span.size()};
      offered += span.size();
    }
    msghdr message{};
    message.msg_iov = iovecs;
    message.msg_iovlen = count;
    const ssize_t sent = sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return -1;
    }
    Consume(static_cast<size_t>(sent));
    written += static_cast<size_t>(sent);
    if (static_cast<size_t>(sent) < offered) break;  // the socket is full
  }
  return static_cast<ssize_t>(written);
}

void SendQueue::Consume(size_t count) {
  bytes_ -= count;
  while (count > 0) {
    const size_t left = Bytes(segments_.front()).size() - front_taken_;
    if (count < left) {
      front_taken_ += count;
      return;
    }
    count -= left;
    segments_.pop_front();
    front_taken_ = 0;
  }
}

void SendQueue::Clear() {
  segments_.clear();
  front_taken_ = 0;
  bytes_ = 0;
}

}  // namespace zerobus::net
