// A Zerobus server that misbehaves on purpose, for tests of what the client makes of it.
//
// It speaks HTTP/2 and gRPC's framing by hand, without gRPC's server library, so that it can
// send what a gRPC server would refuse to or could not send cheaply: a grpc-status outside
// 0..16, a response of any announced length streamed out of nothing, a close signal of absurd
// length. Every call runs the same script of steps; a script that ends without a status leaves
// the call open until the client ends it or the server stops. Plaintext on 127.0.0.1 only.
#ifndef ZBTEST_HOSTILE_SERVER_H
#define ZBTEST_HOSTILE_SERVER_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zbtest {

// One thing the server does on a call.
struct HostileStep {
  enum class Kind {
    kAwaitRequests,   // wait until the call has received `count` requests in all
    kAwaitHalfClose,  // wait until the client has ended its side of the call (END_STREAM)
    kMessage,         // send `bytes` as one response message
    kOversized,       // announce a message of `count` bytes, send `sent` of them, then hang
    kStatus,          // end the call with grpc-status `count` and grpc-message `bytes`
  };
  Kind kind;
  uint64_t count = 0;
  uint64_t sent = 0;
  std::string bytes;
};

HostileStep AwaitRequests(uint64_t requests);
HostileStep AwaitHalfClose();
HostileStep SendMessage(std::string bytes);
HostileStep SendOversized(uint64_t announced, uint64_t sent);
HostileStep EndWithStatus(uint32_t grpc_status, std::string message);

// EphemeralStreamResponse messages, encoded with the generated protobuf code.
std::string CreatedResponse(const std::string &stream_id);
std::string AckResponse(int64_t offset);
std::string CloseSignalResponse(int64_t seconds, int32_t nanos);

class HostileServer {
 public:
  // Listens on a free port of 127.0.0.1 and runs `script` on every call. Aborts the test
  // program when it cannot listen.
  explicit HostileServer(std::vector<HostileStep> script);
  // Closes every connection and joins every thread.
  ~HostileServer();
  HostileServer(const HostileServer &) = delete;
  HostileServer &operator=(const HostileServer &) = delete;

  // "http://127.0.0.1:PORT".
  std::string endpoint() const;
  // Calls started so far, over all connections.
  int64_t calls() const { return calls_.load(); }
  // Bytes of kOversized bodies sent so far.
  uint64_t oversized_bytes_sent() const { return oversized_sent_.load(); }
  // How the client ended its side of calls so far: calls it half-closed (END_STREAM on a
  // request frame, a graceful end), and calls it cancelled (RST_STREAM with CANCEL).
  struct ClientEnds {
    int64_t half_closes = 0;
    int64_t cancels = 0;
  };
  ClientEnds client_ends() const;
  // Waits until client_ends() holds at least `at_least` in both counts; false on timeout.
  bool WaitForClientEnds(ClientEnds at_least, std::chrono::milliseconds timeout) const;

 private:
  class Connection;
  void Accept();
  void CountClientEnd(int64_t ClientEnds::*count);

  const std::vector<HostileStep> script_;
  int listener_ = -1;
  int stop_event_ = -1;  // an eventfd, readable once the server stops
  int port_ = 0;
  std::atomic<int64_t> calls_{0};
  std::atomic<uint64_t> oversized_sent_{0};
  mutable std::mutex ends_mu_;
  mutable std::condition_variable ends_changed_;
  ClientEnds ends_;  // guarded by ends_mu_
  std::thread acceptor_;
  // The acceptor's alone until it is joined.
  std::vector<std::thread> connections_;
  std::vector<int> connection_fds_;
};

}  // namespace zbtest

#endif  // ZBTEST_HOSTILE_SERVER_H
