// The outcome of an Arrow operation: ok, or refused with a message that names what was wrong
// (the column, the type, the offset in the bytes). The arrow layer depends on nothing else of
// ours but the table model, so it has its own small Status rather than the engine's.
#ifndef ZEROBUS_ARROW_STATUS_H
#define ZEROBUS_ARROW_STATUS_H

#include <string>
#include <utility>

namespace zerobus::arrow {

class [[nodiscard]] Status {
 public:
  static Status Ok() { return Status(); }
  static Status Invalid(std::string message) { return Status(std::move(message)); }

  bool ok() const { return message_.empty(); }
  const std::string &message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string message)
      : message_(message.empty() ? "invalid Arrow data" : std::move(message)) {}
  std::string message_;
};

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_STATUS_H
