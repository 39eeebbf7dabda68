// The dead-letter file of `zerobus ingest`: one JSON object per line for every record that
// could not be delivered, with where it came from and why, so that it can be fixed and sent
// again. Used by one thread.
#ifndef ZEROBUS_CLI_DEAD_LETTERS_H
#define ZEROBUS_CLI_DEAD_LETTERS_H

#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/record_readers.h"

namespace zerobus::cli {

// A record that could not be delivered.
struct DeadLetter {
  const std::string *record;  // the record as read, or the first bytes of one too long; borrowed
  bool binary;                // protobuf bytes or an Avro datum rather than text
  const std::string *file;    // the input it came from ("-": standard input); borrowed
  SourcePosition where;
  const char *code;  // a status name, such as "ZB_ERR_INVALID_RECORD"
  std::string message;
  // 0, or the whole length of a record over kMaxRecordBytes, of which `record` holds the first
  // bytes only.
  uint64_t oversized = 0;
};

class DeadLetterFile {
 public:
  // The file is created when the first dead letter comes, readable and writable by its owner
  // only (it holds raw records), or appended to, so that earlier dead letters are never lost.
  // A symbolic link at `path` is refused rather than followed.
  explicit DeadLetterFile(std::string path) : path_(std::move(path)) {}
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile &) = delete;
  DeadLetterFile &operator=(const DeadLetterFile &) = delete;

  // Appends one line and flushes it (keys in alphabetical order):
  //   {"code":"ZB_ERR_INVALID_RECORD","file":"in.jsonl","line":7,"message":"...","record":"..."}
  // Protobuf records and Avro datums carry "record_number" and "byte_offset" (a datum's: where
  // its block starts) instead of "line", and
  // "record_base64" instead of "record"; so does text that is not valid UTF-8.
  // A record over kMaxRecordBytes is not written whole: "record_bytes" gives its length and
  // "record_prefix" (or "record_prefix_base64") its first kOversizedPrefixBytes bytes at most
  // (text is cut before a character the cut would split), so that a huge line neither costs the
  // file its size nor passes for the record itself; its position finds it in the input.
  // Returns false with *error when the file cannot be written.
  bool Write(const DeadLetter &letter, std::string *error);

  const std::string &path() const { return path_; }
  uint64_t count() const { return count_; }

 private:
  std::string path_;
  std::FILE *file_ = nullptr;
  uint64_t count_ = 0;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_DEAD_LETTERS_H
