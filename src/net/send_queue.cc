#include "net/send_queue.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zerobus::net {
namespace {

// The chunks copies go into, and how many full ones are kept for reuse (256 KiB; one written
// beyond them is freed).
constexpr size_t kChunkBytes = size_t{32} << 10;
constexpr size_t kKeptChunks = 8;
// Segments one sendmsg() takes at most (under Linux's IOV_MAX of 1024): a send of 1 KB records
// takes about two segments a record, so a 1 MiB flush of them is a few sendmsg() calls.
constexpr size_t kMaxIovecs = 512;

}  // namespace

void SendQueue::Copy(std::string_view bytes) {
  bytes_ += bytes.size();
  while (!bytes.empty()) {
    if (!chunk_ || chunk_used_ == kChunkBytes) NextChunk();
    const size_t count = std::min(bytes.size(), kChunkBytes - chunk_used_);
    char *at = chunk_->data() + chunk_used_;
    std::memcpy(at, bytes.data(), count);
    chunk_used_ += count;
    bytes.remove_prefix(count);
    // Bytes copied right after the last segment's own extend it.
    if (!segments_.empty()) {
      Segment &last = segments_.back();
      if (last.owner == chunk_ && last.bytes.data() + last.bytes.size() == at) {
        last.bytes = std::string_view(last.bytes.data(), last.bytes.size() + count);
        continue;
      }
    }
    segments_.push_back(Segment{std::string_view(at, count), chunk_});
  }
}

void SendQueue::NextChunk() {
  if (chunk_) filled_.push_back(std::move(chunk_));
  chunk_used_ = 0;
  // The oldest full chunk is the first the socket is done with.
  if (!filled_.empty() && filled_.front().use_count() == 1) {
    chunk_ = std::move(filled_.front());
    filled_.pop_front();
    return;
  }
  if (filled_.size() > kKeptChunks) filled_.pop_front();  // freed once its bytes are written
  chunk_ = std::make_shared<std::string>(kChunkBytes, '\0');
}

void SendQueue::Refer(std::string_view bytes, const std::shared_ptr<const void> &owner) {
  if (bytes.size() < kReferFrom || !owner) {
    Copy(bytes);
    return;
  }
  bytes_ += bytes.size();
  segments_.push_back(Segment{bytes, owner});
}

ssize_t SendQueue::WriteTo(int fd) {
  size_t written = 0;
  while (!segments_.empty()) {
    iovec iovecs[kMaxIovecs];
    size_t count = 0;
    size_t offered = 0;
    for (const Segment &segment : segments_) {
      if (count == kMaxIovecs) break;
      std::string_view span = segment.bytes;
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
    const size_t left = segments_.front().bytes.size() - front_taken_;
    if (count < left) {
      front_taken_ += count;
      return;
    }
    count -= left;
    segments_.pop_front();
    front_taken_ = 0;
  }
  // Nothing refers to the chunk copies go into: the next ones start at its beginning.
  if (segments_.empty()) chunk_used_ = 0;
}

void SendQueue::Clear() {
  segments_.clear();
  front_taken_ = 0;
  bytes_ = 0;
  chunk_used_ = 0;
}

}  // namespace zerobus::net
