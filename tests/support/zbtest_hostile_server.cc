#include "zbtest_hostile_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "zerobus_service.pb.h"

namespace zbtest {
namespace {

// HTTP/2 (RFC 9113 §6): the frame types and flags the server reads or writes.
constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kRstStream = 0x3;
constexpr uint8_t kSettings = 0x4;
constexpr uint8_t kPing = 0x6;
constexpr uint8_t kWindowUpdate = 0x8;
constexpr uint8_t kEndStreamFlag = 0x1;
constexpr uint8_t kAckFlag = 0x1;
constexpr uint8_t kEndHeadersFlag = 0x4;
constexpr uint8_t kPaddedFlag = 0x8;
constexpr uint32_t kCancelErrorCode = 0x8;  // RST_STREAM's CANCEL (RFC 9113 §7)
constexpr uint16_t kSettingsInitialWindowSize = 0x4;
constexpr size_t kFrameHeaderBytes = 9;
constexpr size_t kMaxFrameBytes = 16384;  // the default, which every peer accepts
constexpr int64_t kDefaultWindow = 65535;
constexpr int64_t kMaxWindow = 0x7fffffff;
constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kPrefaceBytes = sizeof(kPreface) - 1;
// gRPC's length prefix of a message: a compression flag and a 32-bit big-endian length.
constexpr size_t kMessagePrefixBytes = 5;

[[noreturn]] void Die(const char *what) {
  std::perror(what);
  std::abort();
}

uint32_t ReadBigEndian32(const uint8_t *p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void AppendBigEndian(std::string *out, uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

// An HPACK string length: an integer with a 7-bit prefix and no Huffman coding (RFC 7541 §5).
void AppendHpackLength(std::string *out, size_t len) {
  if (len < 127) {
    out->push_back(static_cast<char>(len));
    return;
  }
  out->push_back(127);
  for (len -= 127; len >= 128; len >>= 7) out->push_back(static_cast<char>(0x80 | (len & 0x7f)));
  out->push_back(static_cast<char>(len));
}

// A header as a literal without indexing and with a new name (RFC 7541 §6.2.2): it leaves the
// client's dynamic table alone, so the server needs no HPACK state.
void AppendHeader(std::string *block, const std::string &name, const std::string &value) {
  block->push_back(0);
  AppendHpackLength(block, name.size());
  block->append(name);
  AppendHpackLength(block, value.size());
  block->append(value);
}

// grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2.md).
std::string PercentEncode(const std::string &text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 0xf]};
    }
  }
  return out;
}

}  // namespace

HostileStep AwaitRequests(uint64_t requests) {
  return {HostileStep::Kind::kAwaitRequests, requests, 0, ""};
}

HostileStep AwaitHalfClose() {
  return {HostileStep::Kind::kAwaitHalfClose, 0, 0, ""};
}

HostileStep SendMessage(std::string bytes) {
  return {HostileStep::Kind::kMessage, 0, 0, std::move(bytes)};
}

HostileStep SendOversized(uint64_t announced, uint64_t sent) {
  return {HostileStep::Kind::kOversized, announced, std::min(sent, announced), ""};
}

HostileStep EndWithStatus(uint32_t grpc_status, std::string message) {
  return {HostileStep::Kind::kStatus, grpc_status, 0, std::move(message)};
}

std::string CreatedResponse(const std::string &stream_id) {
  databricks::zerobus::EphemeralStreamResponse response;
  response.mutable_create_stream_response()->set_stream_id(stream_id);
  return response.SerializeAsString();
}

std::string AckResponse(int64_t offset) {
  databricks::zerobus::EphemeralStreamResponse response;
  response.mutable_ingest_record_response()->set_durability_ack_up_to_offset(offset);
  return response.SerializeAsString();
}

std::string CloseSignalResponse(int64_t seconds, int32_t nanos) {
  databricks::zerobus::EphemeralStreamResponse response;
  auto *duration = response.mutable_close_stream_signal()->mutable_duration();
  duration->set_seconds(seconds);
  duration->set_nanos(nanos);
  return response.SerializeAsString();
}

// One client connection, served on a thread of its own until the client goes or the server
// stops. Everything it does follows what it read: it never waits for time to pass.
class HostileServer::Connection {
 public:
  Connection(HostileServer *server, int fd) : server_(server), fd_(fd) {}

  void Run() {
    std::string settings;
    AppendBigEndian(&settings, kSettingsInitialWindowSize, 2);
    AppendBigEndian(&settings, kMaxWindow, 4);
    SendFrame(kSettings, 0, 0, settings);
    // The client may send as much as it likes: the server reads and discards it.
    SendWindowUpdate(0, kMaxWindow - kDefaultWindow);
    while (!broken_ && Read()) {
      for (auto &[id, call] : calls_) Advance(&call);
    }
  }

 private:
  struct Call {
    uint32_t id = 0;
    size_t step = 0;
    bool headers_sent = false;
    bool ended = false;
    bool half_closed = false;  // the client sent END_STREAM
    int64_t window = 0;
    uint64_t requests = 0;
    // The request being read: how much of its prefix arrived, and how much body is to come.
    uint8_t prefix[kMessagePrefixBytes] = {};
    size_t prefix_read = 0;
    uint64_t body_left = 0;
    // How much of the current step's message (prefix included) went out.
    uint64_t message_sent = 0;
  };

  // Waits for bytes and handles every whole frame that came. False once the client or the
  // server is gone.
  bool Read() {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {server_->stop_event_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 || fds[1].revents) return false;
    char buf[65536];
    const ssize_t got = recv(fd_, buf, sizeof(buf), 0);
    if (got <= 0) return false;
    input_.append(buf, static_cast<size_t>(got));
    size_t at = 0;
    if (!preface_read_) {
      if (input_.size() < kPrefaceBytes) return true;
      if (input_.compare(0, kPrefaceBytes, kPreface) != 0) return false;
      preface_read_ = true;
      at = kPrefaceBytes;
    }
    while (input_.size() - at >= kFrameHeaderBytes) {
      const auto *header = reinterpret_cast<const uint8_t *>(input_.data() + at);
      const size_t len = (size_t{header[0]} << 16) | (size_t{header[1]} << 8) | header[2];
      if (input_.size() - at < kFrameHeaderBytes + len) break;
      HandleFrame(header[3], header[4], ReadBigEndian32(header + 5) & 0x7fffffff,
                  header + kFrameHeaderBytes, len);
      at += kFrameHeaderBytes + len;
    }
    input_.erase(0, at);
    return true;
  }

  void HandleFrame(uint8_t type, uint8_t flags, uint32_t stream, const uint8_t *payload,
                   size_t len) {
    auto call = calls_.find(stream);
    switch (type) {
      case kData: {
        if (len > 0) SendWindowUpdate(0, len);
        if (call == calls_.end()) return;
        if ((flags & kPaddedFlag) && len > 0) {
          const size_t padding = std::min<size_t>(payload[0], len - 1);
          ReadRequests(&call->second, payload + 1, len - 1 - padding);
        } else {
          ReadRequests(&call->second, payload, len);
        }
        if (flags & kEndStreamFlag) HalfClosed(&call->second);
        return;
      }
      case kHeaders:
        // A new call; the request headers themselves do not matter to any script.
        if (stream > last_stream_ && (stream & 1)) {
          last_stream_ = stream;
          Call &added = calls_[stream];
          added.id = stream;
          added.window = initial_window_;
          ++server_->calls_;
          if (flags & kEndStreamFlag) HalfClosed(&added);
        }
        return;
      case kRstStream:
        if (call == calls_.end()) return;
        if (len >= 4 && ReadBigEndian32(payload) == kCancelErrorCode) {
          server_->CountClientEnd(&ClientEnds::cancels);
        }
        calls_.erase(call);
        return;
      case kSettings:
        if (flags & kAckFlag) return;
        for (size_t i = 0; i + 6 <= len; i += 6) {
          if (((payload[i] << 8) | payload[i + 1]) != kSettingsInitialWindowSize) continue;
          const int64_t window = ReadBigEndian32(payload + i + 2);
          for (auto &[id, open] : calls_) open.window += window - initial_window_;
          initial_window_ = window;
        }
        SendFrame(kSettings, kAckFlag, 0, "");
        return;
      case kPing:
        if (!(flags & kAckFlag)) {
          SendFrame(kPing, kAckFlag, 0, std::string(reinterpret_cast<const char *>(payload), len));
        }
        return;
      case kWindowUpdate:
        if (len < 4) return;
        if (stream == 0) {
          send_window_ += ReadBigEndian32(payload) & 0x7fffffff;
        } else if (call != calls_.end()) {
          call->second.window += ReadBigEndian32(payload) & 0x7fffffff;
        }
        return;
      default:  // GOAWAY, PRIORITY, CONTINUATION and the rest change nothing here
        return;
    }
  }

  void HalfClosed(Call *call) {
    if (call->half_closed) return;
    call->half_closed = true;
    server_->CountClientEnd(&ClientEnds::half_closes);
  }

  // Counts the whole requests in a DATA frame's payload.
  static void ReadRequests(Call *call, const uint8_t *data, size_t len) {
    while (len > 0) {
      if (call->body_left > 0) {
        const size_t skipped = static_cast<size_t>(std::min<uint64_t>(call->body_left, len));
        call->body_left -= skipped;
        data += skipped;
        len -= skipped;
        if (call->body_left == 0) ++call->requests;
        continue;
      }
      call->prefix[call->prefix_read++] = *data++;
      --len;
      if (call->prefix_read < kMessagePrefixBytes) continue;
      call->prefix_read = 0;
      call->body_left = ReadBigEndian32(call->prefix + 1);
      if (call->body_left == 0) ++call->requests;
    }
  }

  // Runs the call's script as far as its requests and the flow-control windows let it.
  void Advance(Call *call) {
    const std::vector<HostileStep> &script = server_->script_;
    while (!broken_ && !call->ended && call->step < script.size()) {
      const HostileStep &step = script[call->step];
      switch (step.kind) {
        case HostileStep::Kind::kAwaitRequests:
          if (call->requests < step.count) return;
          break;
        case HostileStep::Kind::kAwaitHalfClose:
          if (!call->half_closed) return;
          break;
        case HostileStep::Kind::kMessage:
        case HostileStep::Kind::kOversized:
          if (!SendMessageBytes(call, step)) return;
          if (step.kind == HostileStep::Kind::kOversized) return;  // the rest never comes
          call->message_sent = 0;
          break;
        case HostileStep::Kind::kStatus: {
          std::string block;
          if (!call->headers_sent) {  // a trailers-only response
            AppendHeader(&block, ":status", "200");
            AppendHeader(&block, "content-type", "application/grpc");
          }
          AppendHeader(&block, "grpc-status", std::to_string(step.count));
          AppendHeader(&block, "grpc-message", PercentEncode(step.bytes));
          SendFrame(kHeaders, kEndHeadersFlag | kEndStreamFlag, call->id, block);
          call->ended = true;
          return;
        }
      }
      ++call->step;
    }
  }

  // Sends what the windows allow of the step's message; true once all of it that is ever to be
  // sent went out.
  bool SendMessageBytes(Call *call, const HostileStep &step) {
    if (!call->headers_sent) {
      std::string block;
      AppendHeader(&block, ":status", "200");
      AppendHeader(&block, "content-type", "application/grpc");
      SendFrame(kHeaders, kEndHeadersFlag, call->id, block);
      call->headers_sent = true;
    }
    const bool oversized = step.kind == HostileStep::Kind::kOversized;
    const uint64_t announced = oversized ? step.count : step.bytes.size();
    const uint64_t total = kMessagePrefixBytes + (oversized ? step.sent : step.bytes.size());
    std::string prefix(1, '\0');
    AppendBigEndian(&prefix, std::min<uint64_t>(announced, UINT32_MAX), 4);
    while (call->message_sent < total) {
      const int64_t room = std::min({send_window_, call->window, int64_t{kMaxFrameBytes}});
      if (room <= 0 || broken_) return false;
      const uint64_t end = std::min(total, call->message_sent + static_cast<uint64_t>(room));
      std::string chunk;
      for (uint64_t at = call->message_sent; at < std::min<uint64_t>(end, kMessagePrefixBytes);
           ++at) {
        chunk.push_back(prefix[at]);
      }
      const uint64_t body_from = std::max<uint64_t>(call->message_sent, kMessagePrefixBytes);
      if (end > body_from) {
        const uint64_t from = body_from - kMessagePrefixBytes, n = end - body_from;
        if (oversized) {
          chunk.append(n, '\0');
          server_->oversized_sent_ += n;
        } else {
          chunk.append(step.bytes, from, n);
        }
      }
      SendFrame(kData, 0, call->id, chunk);
      send_window_ -= static_cast<int64_t>(chunk.size());
      call->window -= static_cast<int64_t>(chunk.size());
      call->message_sent = end;
    }
    return true;
  }

  void SendWindowUpdate(uint32_t stream, uint64_t increment) {
    std::string payload;
    AppendBigEndian(&payload, increment, 4);
    SendFrame(kWindowUpdate, 0, stream, payload);
  }

  void SendFrame(uint8_t type, uint8_t flags, uint32_t stream, const std::string &payload) {
    std::string frame;
    AppendBigEndian(&frame, payload.size(), 3);
    frame.push_back(static_cast<char>(type));
    frame.push_back(static_cast<char>(flags));
    AppendBigEndian(&frame, stream, 4);
    frame += payload;
    for (size_t at = 0; at < frame.size() && !broken_;) {
      const ssize_t sent = send(fd_, frame.data() + at, frame.size() - at, MSG_NOSIGNAL);
      if (sent <= 0) {
        broken_ = true;
      } else {
        at += static_cast<size_t>(sent);
      }
    }
  }

  HostileServer *const server_;
  const int fd_;
  bool broken_ = false;
  bool preface_read_ = false;
  std::string input_;
  int64_t send_window_ = kDefaultWindow;
  int64_t initial_window_ = kDefaultWindow;
  uint32_t last_stream_ = 0;
  std::map<uint32_t, Call> calls_;
};

HostileServer::HostileServer(std::vector<HostileStep> script) : script_(std::move(script)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) Die("hostile server: socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t address_len = sizeof(address);
  if (bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 ||
      listen(listener_, 16) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr *>(&address), &address_len) != 0) {
    Die("hostile server: listen");
  }
  port_ = ntohs(address.sin_port);
  stop_event_ = eventfd(0, EFD_CLOEXEC);
  if (stop_event_ < 0) Die("hostile server: eventfd");
  acceptor_ = std::thread([this] { Accept(); });
}

void HostileServer::Accept() {
  for (;;) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_event_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 || fds[1].revents) return;
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    connection_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { Connection(this, fd).Run(); });
  }
}

HostileServer::~HostileServer() {
  const uint64_t one = 1;
  if (write(stop_event_, &one, sizeof(one)) != sizeof(one)) Die("hostile server: stop");
  acceptor_.join();
  // A connection blocked in send() to a client that stopped reading wakes up too.
  for (int fd : connection_fds_) shutdown(fd, SHUT_RDWR);
  for (std::thread &connection : connections_) connection.join();
  for (int fd : connection_fds_) close(fd);
  close(listener_);
  close(stop_event_);
}

void HostileServer::CountClientEnd(int64_t ClientEnds::*count) {
  {
    std::lock_guard<std::mutex> lock(ends_mu_);
    ++(ends_.*count);
  }
  ends_changed_.notify_all();
}

HostileServer::ClientEnds HostileServer::client_ends() const {
  std::lock_guard<std::mutex> lock(ends_mu_);
  return ends_;
}

bool HostileServer::WaitForClientEnds(ClientEnds at_least,
                                      std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(ends_mu_);
  return ends_changed_.wait_for(lock, timeout, [&] {
    return ends_.half_closes >= at_least.half_closes && ends_.cancels >= at_least.cancels;
  });
}

std::string HostileServer::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

}  // namespace zbtest
