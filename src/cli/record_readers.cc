#include "record_readers.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace zerobus::cli {
namespace {

std::string ErrorOf(std::FILE *file) {
  return std::ferror(file) ? std::string(std::strerror(errno ? errno : EIO)) : std::string();
}

bool IsBlank(const char *text, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') return false;
  }
  return true;
}

}  // namespace

JsonLinesReader::~JsonLinesReader() {
  std::free(buffer_);
}

bool JsonLinesReader::Next(std::string *text, SourcePosition *where) {
  for (;;) {
    const ssize_t read = getline(&buffer_, &capacity_, file_);
    if (read < 0) return false;
    ++position_.line;
    size_t len = static_cast<size_t>(read);
    if (len > 0 && buffer_[len - 1] == '\n') --len;
    if (len > 0 && buffer_[len - 1] == '\r') --len;
    if (IsBlank(buffer_, len)) continue;
    ++position_.number;
    text->assign(buffer_, len);
    *where = position_;
    return true;
  }
}

std::string JsonLinesReader::ReadError() const {
  return ErrorOf(file_);
}

bool CsvReader::Next(std::vector<CsvField> *fields, std::string *raw, SourcePosition *where,
                     std::string *malformed) {
  fields->clear();
  raw->clear();
  malformed->clear();
  int c = getc_unlocked(file_);
  // Blank lines separate nothing: skip them.
  while (c == '\n' || c == '\r') {
    if (c == '\n') ++line_;
    c = getc_unlocked(file_);
  }
  if (c == EOF) return false;
  where->line = line_;
  where->number = ++records_;
  CsvField field;
  bool in_quotes = false;
  for (;; c = getc_unlocked(file_)) {
    if (c == EOF) {
      if (in_quotes) *malformed = "a quoted field is not closed before the end of the file";
      break;
    }
    if (in_quotes) {
      if (c == '"') {
        const int next = getc_unlocked(file_);
        if (next == '"') {
          field.text.push_back('"');
          raw->append("\"\"");
          continue;
        }
        in_quotes = false;
        raw->push_back('"');
        if (next == EOF) break;
        c = next;  // falls through to the unquoted handling of the character after the quote
      } else {
        if (c == '\n') ++line_;
        field.text.push_back(static_cast<char>(c));
        raw->push_back(static_cast<char>(c));
        continue;
      }
    }
    if (c == '\n') {
      ++line_;
      break;
    }
    if (c == '\r') {
      const int next = getc_unlocked(file_);
      if (next == '\n' || next == EOF) {
        if (next == '\n') ++line_;
        break;
      }
      ungetc(next, file_);
    }
    raw->push_back(static_cast<char>(c));
    if (c == ',') {
      fields->push_back(std::move(field));
      field = CsvField();
    } else if (c == '"' && field.text.empty() && !field.quoted) {
      in_quotes = true;
      field.quoted = true;
    } else {
      field.text.push_back(static_cast<char>(c));
    }
  }
  fields->push_back(std::move(field));
  return true;
}

std::string CsvReader::ReadError() const {
  return ErrorOf(file_);
}

bool DelimitedProtoReader::Next(std::string *bytes, SourcePosition *where, std::string *malformed) {
  malformed->clear();
  bytes->clear();
  if (broken_) return false;
  where->byte_offset = offset_;
  where->number = records_ + 1;
  uint64_t length = 0;
  int shift = 0;
  for (;;) {
    const int c = getc_unlocked(file_);
    if (c == EOF) {
      if (shift == 0) return false;  // the end of the file, between records
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
  // Read in bounded steps so that a corrupt, huge length costs no more memory than the file has.
  constexpr size_t kStep = 1 << 20;
  while (bytes->size() < length) {
    const size_t before = bytes->size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kStep, length - before));
    bytes->resize(before + want);
    const size_t got = std::fread(bytes->data() + before, 1, want, file_);
    bytes->resize(before + got);
    offset_ += got;
    if (got < want) {
      *malformed = "the length prefix announces " + std::to_string(length) +
                   " bytes, the file ends after " + std::to_string(bytes->size());
      broken_ = true;
      return false;
    }
  }
  ++records_;
  return true;
}

std::string DelimitedProtoReader::ReadError() const {
  return ErrorOf(file_);
}

}  // namespace zerobus::cli
