// The bytes a connection has for its socket, in order, with the big ones not copied: a request's
// pieces (a window's records, an Arrow batch's buffers) stay where they are, each kept alive by
// its owner until the socket has taken it, and go to the kernel in one sendmsg() with the small
// bytes around them (frame headers, gRPC's prefixes, nghttp2's other frames, TLS's records),
// which are copied because a copy of a few bytes costs less than keeping track of them.
#ifndef ZEROBUS_NET_SEND_QUEUE_H
#define ZEROBUS_NET_SEND_QUEUE_H

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace zerobus::net {

class SendQueue {
 public:
  // Pieces shorter than this are copied rather than referred to.
  static constexpr size_t kReferFrom = 512;

  // Appends a copy of `bytes`.
  void Copy(std::string_view bytes);
  // Appends `bytes` without copying them (unless they are short, or there is no `owner`): `owner`
  // keeps them alive, and is let go of once the socket has taken them or at Clear().
  void Refer(std::string_view bytes, const std::shared_ptr<const void> &owner);

  // Writes as much as the socket takes (sendmsg, MSG_NOSIGNAL) and drops it from the queue: the
  // bytes written (all of them when the queue empties), or -1 with errno set when sendmsg failed
  // before it wrote anything. A full socket leaves the rest in order for the next call.
  ssize_t WriteTo(int fd);
  // Hands what is queued to `take`, a span at a time in order, then empties the queue (TLS
  // encrypts a connection's bytes this way).
  template <typename Take>
  void Drain(Take take) {
    for (size_t i = 0; i < segments_.size(); ++i) {
      take(segments_[i].bytes.substr(i == 0 ? front_taken_ : 0));
    }
    Clear();
  }
  // Lets go of everything (a failed connection's bytes, never to be sent).
  void Clear();

  size_t bytes() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }

 private:
  // A span of the queue: a referred piece with its owner, or copied bytes in a chunk of the
  // queue's own (the chunk its owner).
  struct Segment {
    std::string_view bytes;
    std::shared_ptr<const void> owner;
  };
  // Drops the first `count` bytes.
  void Consume(size_t count);
  // Starts copying into another chunk: one the socket is done with, or a new one.
  void NextChunk();

  std::deque<Segment> segments_;
  size_t front_taken_ = 0;  // bytes of the first segment already written
  size_t bytes_ = 0;        // not yet written
  // Where copies go, and how much of it they filled; full chunks, oldest first, kept for reuse
  // (a chunk is free once no segment holds it), so that a busy connection copies into the same
  // few chunks rather than allocating and freeing them.
  std::shared_ptr<std::string> chunk_;
  size_t chunk_used_ = 0;
  std::deque<std::shared_ptr<std::string>> filled_;
};

}  // namespace zerobus::net

#endif  // ZEROBUS_NET_SEND_QUEUE_H
