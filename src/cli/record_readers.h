// Readers of the record files `zerobus ingest` takes: JSON Lines, CSV (RFC 4180) and
// length-prefixed protobuf. Each reads one open file, front to back, and says where every record
// came from, so that a record that cannot be delivered can be traced to its source. A reader is
// used by one thread; it borrows the FILE, which the caller closes.
#ifndef ZEROBUS_CLI_RECORD_READERS_H
#define ZEROBUS_CLI_RECORD_READERS_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace zerobus::cli {

// Where a record starts in its file.
struct SourcePosition {
  uint64_t line = 0;         // text formats: the 1-based line the record starts on
  uint64_t number = 0;       // the 1-based number of the record in its file
  uint64_t byte_offset = 0;  // protobuf: where its length prefix starts
};

// JSON Lines: one record per line; blank lines are skipped, a trailing "\r" is dropped. The
// text is not parsed here (the encoder or the server does that).
class JsonLinesReader {
 public:
  explicit JsonLinesReader(std::FILE *file) : file_(file) {}
  ~JsonLinesReader();
  JsonLinesReader(const JsonLinesReader &) = delete;
  JsonLinesReader &operator=(const JsonLinesReader &) = delete;

  // Reads the next record into `*text`; false at the end of the file or on a read error
  // (then ReadError() says which).
  bool Next(std::string *text, SourcePosition *where);
  std::string ReadError() const;

 private:
  std::FILE *file_;
  char *buffer_ = nullptr;
  size_t capacity_ = 0;
  SourcePosition position_;
};

// One CSV field. An empty field written without quotes is told apart from "" so that it can
// stand for NULL.
struct CsvField {
  std::string text;
  bool quoted = false;
};

// CSV as RFC 4180 writes it: fields separated by ',', records by "\n" or "\r\n"; a field in
// double quotes may hold ',', line breaks and doubled quotes (""). Blank lines are skipped.
class CsvReader {
 public:
  explicit CsvReader(std::FILE *file) : file_(file) {}
  CsvReader(const CsvReader &) = delete;
  CsvReader &operator=(const CsvReader &) = delete;

  // Reads the next record: its fields, and its text as it stands in the file (without the final
  // line break). False at the end of the file or on a read error (see ReadError()). A quote
  // that is never closed ends the record at the end of the file; Next() then reports it in
  // `*malformed`, which is otherwise cleared.
  bool Next(std::vector<CsvField> *fields, std::string *raw, SourcePosition *where,
            std::string *malformed);
  std::string ReadError() const;

 private:
  std::FILE *file_;
  uint64_t line_ = 1;
  uint64_t records_ = 0;
};

// Length-prefixed protobuf: each record is preceded by its length in bytes as a base-128
// varint (what protobuf's writeDelimitedTo / SerializeDelimitedToOstream write), and the file
// holds nothing else.
class DelimitedProtoReader {
 public:
  explicit DelimitedProtoReader(std::FILE *file) : file_(file) {}
  DelimitedProtoReader(const DelimitedProtoReader &) = delete;
  DelimitedProtoReader &operator=(const DelimitedProtoReader &) = delete;

  // Reads the next record into `*bytes`. False at the end of the file, on a read error (see
  // ReadError()), or when the framing is broken: a length prefix longer than 10 bytes, or a
  // file that ends inside a prefix or a record. Then `*malformed` says how and `*bytes` holds
  // what was read of the broken record; nothing after it is read, since the framing is lost.
  bool Next(std::string *bytes, SourcePosition *where, std::string *malformed);
  std::string ReadError() const;

 private:
  std::FILE *file_;
  uint64_t offset_ = 0;
  uint64_t records_ = 0;
  bool broken_ = false;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_RECORD_READERS_H
