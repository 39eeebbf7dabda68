// What `zerobus ingest --exactly-once` keeps beside its input to resume after a crash: the
// persistent stream's id, its table, and the input's size, so that a run on another input (or
// on this one changed) does not resume a stream whose offsets mean other records.
//
// The mapping of records to offsets needs nothing stored: record k of the input that is handed
// to the stream (neither malformed nor oversized, which the reader decides the same way on
// every run) is offset k, so the resume watermark W says that the first W + 1 such records are
// committed and the rest are not.
#ifndef ZEROBUS_CLI_RESUME_STATE_H
#define ZEROBUS_CLI_RESUME_STATE_H

#include <cstdint>
#include <string>

namespace zerobus::cli {

struct ResumeState {
  std::string stream_id;
  std::string table;
  uint64_t input_bytes = 0;
};

// `input` + ".zerobus-resume".
std::string ResumeStatePath(const std::string &input);

// Reads `path` into `state`: true when it exists and parses; false with "" in *error when
// there is none, or with why it cannot be used.
bool LoadResumeState(const std::string &path, ResumeState *state, std::string *error);

// Writes `state` to `path` atomically and durably: a temporary file beside it, fsynced, renamed
// over it, and the directory fsynced. False with the reason in *error.
bool SaveResumeState(const std::string &path, const ResumeState &state, std::string *error);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_RESUME_STATE_H
