#include "net/framing.h"

namespace zerobus::net {

std::string GrpcPrefix(size_t message_length) {
  return std::string{0, static_cast<char>(message_length >> 24),
                     static_cast<char>(message_length >> 16),
                     static_cast<char>(message_length >> 8), static_cast<char>(message_length)};
}

MessageReader::Result MessageReader::Next(std::string *message, uint64_t *announced) {
  const size_t available = buffered_.size() - offset_;
  if (available < kGrpcPrefixBytes) return Result::kNeedMore;
  const auto *prefix = reinterpret_cast<const uint8_t *>(buffered_.data() + offset_);
  const uint64_t length = (uint64_t{prefix[1]} << 24) | (uint64_t{prefix[2]} << 16) |
                          (uint64_t{prefix[3]} << 8) | uint64_t{prefix[4]};
  *announced = length;
  if (prefix[0] != 0) return Result::kCompressed;
  if (length > max_message_bytes_) return Result::kTooLarge;
  if (available - kGrpcPrefixBytes < length) {
    // Keep the buffer from growing with what was already handed out.
    if (offset_ > 0) {
      buffered_.erase(0, offset_);
      offset_ = 0;
    }
    return Result::kNeedMore;
  }
  message->assign(buffered_, offset_ + kGrpcPrefixBytes, static_cast<size_t>(length));
  offset_ += kGrpcPrefixBytes + static_cast<size_t>(length);
  if (offset_ == buffered_.size()) {
    buffered_.clear();
    offset_ = 0;
  }
  return Result::kMessage;
}

TunnelAnswer ReadTunnelAnswer(std::string_view bytes) {
  // A status line and a few headers: a proxy has no reason to send more before the tunnel.
  constexpr size_t kMaxAnswerBytes = 16 << 10;
  constexpr size_t kMaxQuotedBytes = 200;
  TunnelAnswer answer;
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() > kMaxAnswerBytes) answer.state = TunnelAnswer::State::kTooLong;
    return answer;
  }
  const std::string_view status_line = bytes.substr(0, bytes.find("\r\n"));
  answer.status_line = std::string(status_line.substr(0, kMaxQuotedBytes));
  answer.consumed = end + 4;
  // "HTTP/1.1 200 Connection established": any 2xx opens the tunnel.
  const size_t code_at = status_line.find(' ');
  const bool open = status_line.substr(0, 7) == "HTTP/1." && code_at != std::string_view::npos &&
                    code_at + 1 < status_line.size() && status_line[code_at + 1] == '2';
  answer.state = open ? TunnelAnswer::State::kOpen : TunnelAnswer::State::kRefused;
  return answer;
}

}  // namespace zerobus::net
