// Readers of the record files `zerobus ingest` takes: JSON Lines, CSV (RFC 4180) and
// length-prefixed protobuf. Each reads one open file, front to back, and says where every record
// came from, so that a record that cannot be delivered can be traced to its source. A reader is
// used by one thread; it borrows the FILE, which the caller closes.
//
// No record longer than kMaxRecordBytes can be delivered, so none is held whole: a reader keeps
// the first kOversizedPrefixBytes bytes of a longer one (for its dead letter), reads past the
// rest, reports its length in `*oversized`, and goes on with the next record. A record thus costs
// at most about kMaxRecordBytes of memory, however long its line. A read error ends reading and
// ReadError() says what it was: it is never taken for the end of the file.
#ifndef ZEROBUS_CLI_RECORD_READERS_H
#define ZEROBUS_CLI_RECORD_READERS_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace zerobus::cli {

// The most bytes one record may have: the service refuses a larger message, and a record
// travels in one (reference/zerobus-service.md). Text formats count the record's text.
inline constexpr size_t kMaxRecordBytes = 10 * 1024 * 1024;
// How much of a record over kMaxRecordBytes a reader keeps.
inline constexpr size_t kOversizedPrefixBytes = 1024;

// Why a read from `file` came up short: "" at the end of the file, else the system's reason.
// Called right after the read, while errno is still its.
std::string FailureOf(std::FILE *file);

// Where a record starts in its file.
struct SourcePosition {
  uint64_t line = 0;         // text formats: the 1-based line the record starts on
  uint64_t number = 0;       // the 1-based number of the record in its file
  uint64_t byte_offset = 0;  // protobuf: where its length prefix starts
};

// JSON Lines: one record per line; blank lines are skipped, a trailing "\r" is dropped. The
// text is not parsed here (the encoder or the server does that). The file's descriptor is read
// directly, in chunks, each record handed on as soon as its line is complete (input from a pipe
// is not held back until a chunk is full), so nothing may have been read from the FILE before.
class JsonLinesReader {
 public:
  explicit JsonLinesReader(std::FILE *file);
  JsonLinesReader(const JsonLinesReader &) = delete;
  JsonLinesReader &operator=(const JsonLinesReader &) = delete;

  // Reads the next record into `*text`; false at the end of the file or on a read error
  // (then ReadError() says which). `*oversized`: 0, or the length of a line over
  // kMaxRecordBytes, of which `*text` holds the first kOversizedPrefixBytes bytes.
  bool Next(std::string *text, SourcePosition *where, uint64_t *oversized);
  // Why reading stopped: "" at the end of the file, else the system's reason.
  const std::string &ReadError() const { return error_; }

 private:
  // Reads what the file has next, up to a chunk; false at its end or on an error (error_ then
  // says which).
  bool Fill();

  std::FILE *file_;
  std::vector<char> chunk_;
  size_t begin_ = 0;  // chunk_[begin_, end_) is read but not yet consumed
  size_t end_ = 0;
  std::string line_;  // a line read across chunks
  std::string error_;
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
  // `*malformed`, which is otherwise cleared. `*oversized`: 0, or the length of a record whose
  // text is over kMaxRecordBytes; `*raw` then holds its first kOversizedPrefixBytes bytes and
  // `*fields` is empty.
  bool Next(std::vector<CsvField> *fields, std::string *raw, SourcePosition *where,
            std::string *malformed, uint64_t *oversized);
  const std::string &ReadError() const { return error_; }

 private:
  // The next character, or EOF at the end of the file or on an error (error_ then says which).
  int Get();

  std::FILE *file_;
  uint64_t line_ = 1;
  uint64_t records_ = 0;
  std::string error_;
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
  // what was read of the broken record (at most kOversizedPrefixBytes of a long one); nothing
  // after it is read, since the framing is lost. `*oversized`: 0, or the length a prefix
  // announces over kMaxRecordBytes; `*bytes` then holds the record's first
  // kOversizedPrefixBytes bytes, and the next record follows.
  bool Next(std::string *bytes, SourcePosition *where, std::string *malformed, uint64_t *oversized);
  const std::string &ReadError() const { return error_; }

 private:
  std::FILE *file_;
  uint64_t offset_ = 0;
  uint64_t records_ = 0;
  bool broken_ = false;
  std::string error_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_RECORD_READERS_H
