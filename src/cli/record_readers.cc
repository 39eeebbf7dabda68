#include "cli/record_readers.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zerobus::cli {
namespace {

// JSON Lines are read in chunks of this size, and protobuf records past the limit skipped in
// steps of it.
constexpr size_t kChunkBytes = 64 * 1024;
// A CSV record keeps at most this many fields (a table has at most 2,000 columns); past it,
// a record of commas would cost tens of bytes per byte of text.
constexpr size_t kMaxCsvFields = 65536;

bool IsBlank(const char *text, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') return false;
  }
  return true;
}

}  // namespace

std::string FailureOf(std::FILE *file) {
  return std::ferror(file) ? std::string(std::strerror(errno != 0 ? errno : EIO)) : std::string();
}

JsonLinesReader::JsonLinesReader(std::FILE *file) : file_(file), chunk_(kChunkBytes) {}

bool JsonLinesReader::Fill() {
  if (!error_.empty()) return false;
  begin_ = 0;
  end_ = 0;
  for (;;) {
    const ssize_t got = read(fileno(file_), chunk_.data(), chunk_.size());
    if (got >= 0) {
      end_ = static_cast<size_t>(got);
      return got > 0;
    }
    if (errno != EINTR) {
      error_ = std::strerror(errno);
      return false;
    }
  }
}

bool JsonLinesReader::Next(std::string *text, SourcePosition *where, uint64_t *oversized) {
  for (;;) {
    // A line within the chunk goes to `*text` in one copy; one across chunks gathers in line_,
    // which keeps its capacity, so that long lines do not grow a new string each.
    line_.clear();
    const char *whole = nullptr;  // the line, when it lies within the chunk
    uint64_t length = 0;          // of the line, without its "\n"
    char last = '\0';             // its last byte, which may be a "\r" to drop
    bool ended = false;           // by a "\n", rather than by the end of the file
    while (!ended) {
      if (begin_ == end_ && !Fill()) break;
      const char *start = chunk_.data() + begin_;
      const char *newline = static_cast<const char *>(std::memchr(start, '\n', end_ - begin_));
      const size_t take = newline != nullptr ? static_cast<size_t>(newline - start) : end_ - begin_;
      if (newline != nullptr && length == 0) {
        whole = start;
      } else {
        if (whole != nullptr) line_.assign(whole, length);
        whole = nullptr;
        // One byte over the limit is kept, for the "\r" a line of the limit's length ends in.
        const size_t room = kMaxRecordBytes + 1 - std::min(line_.size(), kMaxRecordBytes + 1);
        line_.append(start, std::min(take, room));
      }
      if (take > 0) last = start[take - 1];
      length += take;
      begin_ += take;
      if (newline != nullptr) {
        ++begin_;
        ended = true;
      }
    }
    if (!error_.empty() || (!ended && length == 0)) return false;
    ++position_.line;
    if (last == '\r') --length;
    *oversized = 0;
    if (length > kMaxRecordBytes) {
      text->assign(line_, 0, kOversizedPrefixBytes);
      *oversized = length;
    } else {
      const char *line = whole != nullptr ? whole : line_.data();
      if (IsBlank(line, length)) continue;
      text->assign(line, length);
    }
    ++position_.number;
    *where = position_;
    return true;
  }
}

int CsvReader::Get() {
  const int c = getc_unlocked(file_);
  if (c == EOF && error_.empty()) error_ = FailureOf(file_);
  return c;
}

bool CsvReader::Next(std::vector<CsvField> *fields, std::string *raw, SourcePosition *where,
                     std::string *malformed, uint64_t *oversized) {
  fields->clear();
  raw->clear();
  malformed->clear();
  *oversized = 0;
  int c = Get();
  // Blank lines separate nothing: skip them.
  while (c == '\n' || c == '\r') {
    if (c == '\n') ++line_;
    c = Get();
  }
  if (c == EOF) return false;
  where->line = line_;
  where->number = ++records_;
  // Past kMaxRecordBytes of text, the record can only be dead-lettered: its text and fields
  // are no longer kept, while its quotes are still followed to find where it ends.
  uint64_t length = 0;
  const auto keep = [&](int ch) {
    if (++length <= kMaxRecordBytes) raw->push_back(static_cast<char>(ch));
  };
  const auto kept = [&] { return length <= kMaxRecordBytes; };
  CsvField field;
  size_t unquoted = 0;  // characters of the field outside quotes
  bool in_quotes = false;
  for (;; c = Get()) {
    if (c == EOF) {
      if (in_quotes) *malformed = "a quoted field is not closed before the end of the file";
      break;
    }
    if (in_quotes) {
      if (c == '"') {
        const int next = Get();
        if (next == '"') {
          keep('"');
          keep('"');
          if (kept()) field.text.push_back('"');
          continue;
        }
        in_quotes = false;
        keep('"');
        if (next == EOF) break;
        c = next;  // falls through to the unquoted handling of the character after the quote
      } else {
        if (c == '\n') ++line_;
        keep(c);
        if (kept()) field.text.push_back(static_cast<char>(c));
        continue;
      }
    }
    if (c == '\n') {
      ++line_;
      break;
    }
    if (c == '\r') {
      const int next = Get();
      if (next == '\n' || next == EOF) {
        if (next == '\n') ++line_;
        break;
      }
      ungetc(next, file_);
    }
    keep(c);
    if (c == ',') {
      if (kept() && fields->size() < kMaxCsvFields) fields->push_back(std::move(field));
      field = CsvField();
      unquoted = 0;
    } else if (c == '"' && unquoted == 0 && !field.quoted) {
      in_quotes = true;
      field.quoted = true;
    } else {
      ++unquoted;
      if (kept()) field.text.push_back(static_cast<char>(c));
    }
  }
  if (!error_.empty()) return false;
  if (!kept()) {
    raw->resize(kOversizedPrefixBytes);
    fields->clear();
    *oversized = length;
    return true;
  }
  if (fields->size() >= kMaxCsvFields && malformed->empty()) {
    *malformed = "more than " + std::to_string(kMaxCsvFields) + " fields";
  }
  fields->push_back(std::move(field));
  return true;
}

bool DelimitedProtoReader::Next(std::string *bytes, SourcePosition *where, std::string *malformed,
                                uint64_t *oversized) {
  malformed->clear();
  bytes->clear();
  *oversized = 0;
  if (broken_ || !error_.empty()) return false;
  where->byte_offset = offset_;
  where->number = records_ + 1;
  uint64_t length = 0;
  int shift = 0;
  for (;;) {
    const int c = getc_unlocked(file_);
    if (c == EOF) {
      error_ = FailureOf(file_);
      if (!error_.empty() || shift == 0) return false;  // an error, or the end between records
      *malformed = "the file ends inside a length prefix";
      broken_ = true;
      return false;
    }
    ++offset_;
    bytes->push_back(static_cast<char>(c));
    length |= static_cast<uint64_t>(c & 0x7f) << shift;
    shift += 7;
    if ((c & 0x80) == 0) break;
    if (shift >= 70) {
      *malformed = "a length prefix longer than 10 bytes";
      broken_ = true;
      return false;
    }
  }
  bytes->clear();
  // Read in bounded steps, so that a corrupt, huge length costs no more memory than the file
  // has; of a record over the limit only the first bytes are kept, the rest is read past.
  const uint64_t keep = length > kMaxRecordBytes ? kOversizedPrefixBytes : length;
  std::vector<char> skipped;
  uint64_t consumed = 0;
  while (consumed < length) {
    size_t want;
    char *into;
    if (bytes->size() < keep) {
      want = static_cast<size_t>(std::min<uint64_t>(kChunkBytes * 16, keep - bytes->size()));
      bytes->resize(bytes->size() + want);
      into = bytes->data() + bytes->size() - want;
    } else {
      want = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, length - consumed));
      skipped.resize(kChunkBytes);
      into = skipped.data();
    }
    const size_t got = std::fread(into, 1, want, file_);
    if (into != skipped.data()) bytes->resize(bytes->size() - (want - got));
    consumed += got;
    offset_ += got;
    if (got < want) {
      error_ = FailureOf(file_);
      if (!error_.empty()) return false;
      *malformed = "the length prefix announces " + std::to_string(length) +
                   " bytes, the file ends after " + std::to_string(consumed);
      broken_ = true;
      return false;
    }
  }
  ++records_;
  if (length > kMaxRecordBytes) *oversized = length;
  return true;
}

}  // namespace zerobus::cli
