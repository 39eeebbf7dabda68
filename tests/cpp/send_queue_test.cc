// The http2 engine's queue of bytes for the socket, over a real socket pair: what the kernel gets
// of a referred piece is the piece's own memory as it is when the socket takes it (no copy was
// made before), short pieces are copied, every owner lives until the socket has taken its bytes
// and no longer, and a full socket keeps the rest in order.
#include "net/send_queue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace zerobus::net {
namespace {

class SocketPair {
 public:
  SocketPair() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0) << strerror(errno);
    // Non-blocking, as the connection's socket is; a small buffer fills up soon.
    EXPECT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
    const int buffer = 16 << 10;
    EXPECT_EQ(setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer), 0);
    EXPECT_EQ(fcntl(fds_[1], F_SETFL, O_NONBLOCK), 0);
  }
  ~SocketPair() {
    close(fds_[0]);
    close(fds_[1]);
  }
  int writer() const { return fds_[0]; }
  // Everything the reader side can read now.
  std::string ReadAvailable() {
    std::string out;
    char buffer[65536];
    for (;;) {
      const ssize_t got = read(fds_[1], buffer, sizeof buffer);
      if (got <= 0) return out;
      out.append(buffer, static_cast<size_t>(got));
    }
  }

 private:
  int fds_[2] = {-1, -1};
};

std::shared_ptr<std::string> Owned(size_t size, char fill) {
  return std::make_shared<std::string>(size, fill);
}

TEST(SendQueue, SendsAReferredPieceFromItsOwnMemoryAsItIsWhenTheSocketTakesIt) {
  SocketPair sockets;
  auto piece = Owned(4096, 'a');
  SendQueue queue;
  queue.Copy("head");
  queue.Refer(*piece, piece);
  queue.Copy("tail");
  EXPECT_EQ(queue.bytes(), 4 + 4096 + 4u);
  // Changed after it was queued: a queue that had copied it would send the old bytes.
  (*piece)[0] = 'X';
  (*piece)[4095] = 'Y';
  ASSERT_EQ(queue.WriteTo(sockets.writer()), 4 + 4096 + 4);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(sockets.ReadAvailable(), "head" + *piece + "tail");
  EXPECT_EQ(piece.use_count(), 1) << "the queue let go of the piece once the socket took it";
}

TEST(SendQueue, CopiesShortPiecesAndLetsGoOfTheirOwnersAtOnce) {
  SocketPair sockets;
  auto piece = Owned(SendQueue::kReferFrom - 1, 'b');
  const std::string original = *piece;
  SendQueue queue;
  queue.Refer(*piece, piece);
  EXPECT_EQ(piece.use_count(), 1);
  (*piece)[0] = 'X';
  ASSERT_EQ(queue.WriteTo(sockets.writer()), static_cast<ssize_t>(original.size()));
  EXPECT_EQ(sockets.ReadAvailable(), original);
}

TEST(SendQueue, AFullSocketKeepsTheRestInOrderAndEachOwnerUntilItsBytesAreTaken) {
  SocketPair sockets;
  auto first = Owned(300 << 10, 'c');
  auto second = Owned(200 << 10, 'd');
  for (size_t i = 0; i < first->size(); i += 4093) (*first)[i] = static_cast<char>('A' + i % 26);
  for (size_t i = 0; i < second->size(); i += 4091) (*second)[i] = static_cast<char>('a' + i % 26);
  std::string expected;
  SendQueue queue;
  for (int round = 0; round < 3; ++round) {
    const std::string frame_header = "frame" + std::to_string(round);
    queue.Copy(frame_header);
    expected += frame_header;
    queue.Refer(*first, first);
    expected += *first;
    queue.Refer(*second, second);
    expected += *second;
  }
  std::string received;
  int full_socket_writes = 0;
  while (!queue.empty()) {
    const size_t before = queue.bytes();
    const ssize_t written = queue.WriteTo(sockets.writer());
    ASSERT_GE(written, 0) << strerror(errno);
    EXPECT_EQ(queue.bytes(), before - static_cast<size_t>(written));
    if (!queue.empty()) {
      ++full_socket_writes;
      // Both pieces are still to be sent (the last round's second one at least).
      EXPECT_GT(second.use_count(), 1);
    }
    received += sockets.ReadAvailable();
  }
  received += sockets.ReadAvailable();
  EXPECT_GT(full_socket_writes, 0) << "the socket never filled: the test checked nothing";
  EXPECT_EQ(first.use_count(), 1);
  EXPECT_EQ(second.use_count(), 1);
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "the bytes came out of order";
}

TEST(SendQueue, CopiesReuseTheQueuesChunksWithoutOverwritingBytesNotYetWritten) {
  SocketPair sockets;
  auto piece = Owned(3000, 'g');
  SendQueue queue;
  std::string expected, received;
  // Copies of every length up to several chunks, between referred pieces, through a socket
  // that keeps filling up: a chunk reused too soon would send bytes that came later.
  for (size_t round = 0; round < 400; ++round) {
    std::string copied((round * 7919) % (100 << 10) + 1, '\0');
    for (size_t i = 0; i < copied.size(); ++i) {
      copied[i] = static_cast<char>('0' + (round + i / 64) % 75);
    }
    queue.Copy(copied);
    queue.Refer(*piece, piece);
    expected += copied + *piece;
    ASSERT_GE(queue.WriteTo(sockets.writer()), 0) << strerror(errno);
    if (round % 3 == 0) received += sockets.ReadAvailable();
  }
  while (!queue.empty()) {
    ASSERT_GE(queue.WriteTo(sockets.writer()), 0) << strerror(errno);
    received += sockets.ReadAvailable();
  }
  received += sockets.ReadAvailable();
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "bytes were overwritten or came out of order";
}

TEST(SendQueue, ClearLetsGoOfEveryOwner) {
  auto piece = Owned(8192, 'e');
  SendQueue queue;
  queue.Refer(*piece, piece);
  queue.Refer(*piece, piece);
  EXPECT_EQ(piece.use_count(), 3);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(piece.use_count(), 1);
}

TEST(SendQueue, DrainHandsOverWhatIsLeftInOrder) {
  SocketPair sockets;
  auto piece = Owned(100 << 10, 'f');
  SendQueue queue;
  queue.Copy("head");
  queue.Refer(*piece, piece);
  queue.Copy("tail");
  // Part of it written first: the drain starts where the socket stopped.
  const ssize_t written = queue.WriteTo(sockets.writer());
  ASSERT_GT(written, 4);
  ASSERT_FALSE(queue.empty());
  std::string drained;
  queue.Drain([&](std::string_view bytes) { drained.append(bytes); });
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(piece.use_count(), 1);
  EXPECT_EQ(sockets.ReadAvailable() + drained, "head" + *piece + "tail");
}

}  // namespace
}  // namespace zerobus::net
