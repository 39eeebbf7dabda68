// What a `zerobus ingest` run did, and the summary it prints at the end.
#ifndef ZEROBUS_CLI_INGEST_SUMMARY_H
#define ZEROBUS_CLI_INGEST_SUMMARY_H

#include <cstdint>
#include <string>

namespace zerobus::cli {

struct Totals {
  uint64_t files = 0;
  uint64_t read = 0;
  uint64_t bytes = 0;
  uint64_t accepted = 0;
  uint64_t acked = 0;
  uint64_t dead = 0;
  uint64_t streams = 0;
  uint64_t recoveries = 0;
  // --exactly-once: records skipped as committed by an earlier run.
  bool exactly_once = false;
  uint64_t skipped = 0;
};

// Prints the summary of a run into `table` that took `seconds` to standard output.
void PrintSummary(const std::string &table, const Totals &totals, double seconds,
                  const std::string &dead_letter_path);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_INGEST_SUMMARY_H
