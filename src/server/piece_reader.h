// Reads protobuf wire bytes forwards across the pieces a message arrived in (a gRPC message's
// slices), so that the scanners of the server's hot requests (flight_data_view,
// ingest_request_view) take fields where they lie instead of flattening the message first.
#ifndef ZEROBUS_SERVER_PIECE_READER_H
#define ZEROBUS_SERVER_PIECE_READER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zerobus::server {

// Never reads past the last piece. Holds a reference to `pieces` (and reads the bytes they
// view), which must outlive it. Not thread-safe: one reader per scan.
class PieceReader {
 public:
  explicit PieceReader(const std::vector<std::string_view> &pieces) : pieces_(pieces) {
    for (std::string_view piece : pieces) remaining_ += piece.size();
  }

  // Bytes read so far, and bytes left.
  size_t position() const { return position_; }
  size_t remaining() const { return remaining_; }

  // A varint of at most `max_bytes` bytes; null, or why it could not be read.
  const char *Varint(int max_bytes, uint64_t *value) {
    uint64_t result = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (remaining_ == 0) return "a varint cut off by the end of the message";
      const uint8_t byte = NextByte();
      // A tenth byte may only carry the 64th bit.
      if (i == 9 && byte > 1) return "a varint beyond 64 bits";
      result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if ((byte & 0x80) == 0) {
        *value = result;
        return nullptr;
      }
    }
    return max_bytes == 5 ? "a tag longer than 5 bytes" : "a varint longer than 10 bytes";
  }

  // The next `length` bytes (at most remaining()), as a view of their piece when they lie in
  // one, else put together in `*copy`.
  std::string_view Contiguous(size_t length, std::string *copy) {
    SkipEmptyPieces();
    if (length == 0) return {};
    const std::string_view rest = pieces_[index_].substr(offset_);
    if (length <= rest.size()) {
      Advance(length);
      return rest.substr(0, length);
    }
    copy->clear();
    Take(length, [copy](std::string_view part) { copy->append(part); });
    return *copy;
  }

  // The next `length` bytes (at most remaining()) appended to `parts` as views of the pieces,
  // none of them empty.
  void Views(size_t length, std::vector<std::string_view> *parts) {
    Take(length, [parts](std::string_view part) { parts->push_back(part); });
  }

  // Passes over the next `length` bytes (at most remaining()).
  void Skip(size_t length) {
    Take(length, [](std::string_view) {});
  }

 private:
  void SkipEmptyPieces() {
    while (index_ < pieces_.size() && offset_ == pieces_[index_].size()) {
      ++index_;
      offset_ = 0;
    }
  }

  uint8_t NextByte() {
    SkipEmptyPieces();
    const auto byte = static_cast<uint8_t>(pieces_[index_][offset_]);
    Advance(1);
    return byte;
  }

  void Advance(size_t length) {
    offset_ += length;
    position_ += length;
    remaining_ -= length;
  }

  // Hands the next `length` bytes to `part`, a piece's share at a time.
  template <typename Part>
  void Take(size_t length, Part part) {
    while (length > 0) {
      SkipEmptyPieces();
      const std::string_view rest = pieces_[index_].substr(offset_);
      const size_t share = rest.size() < length ? rest.size() : length;
      part(rest.substr(0, share));
      Advance(share);
      length -= share;
    }
  }

  const std::vector<std::string_view> &pieces_;
  size_t index_ = 0;     // the piece being read
  size_t offset_ = 0;    // within it
  size_t position_ = 0;  // within the message
  size_t remaining_ = 0;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_PIECE_READER_H
