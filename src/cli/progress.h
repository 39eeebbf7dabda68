// The live progress of `zerobus ingest`: on a terminal one line redrawn in place about four
// times a second, elsewhere (a pipe, a log file) one plain line per interval.
#ifndef ZEROBUS_CLI_PROGRESS_H
#define ZEROBUS_CLI_PROGRESS_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace zerobus::cli {

// The counters a progress line shows.
struct ProgressCounters {
  uint64_t records_read = 0;
  uint64_t bytes_read = 0;
  uint64_t acked = 0;
  uint64_t in_flight = 0;
  uint64_t recoveries = 0;
  uint64_t dead_lettered = 0;
};

// Formats one progress line (without a line break): the counters, how fast input is read
// (bytes per second) and how fast records become durable (acknowledged records per second).
std::string FormatProgress(const ProgressCounters &counters, double bytes_read_per_second,
                           double acked_per_second);

// Draws progress on its own thread from the moment it is made until Stop() or destruction.
class ProgressReporter {
 public:
  // `sample` is called on the reporter's thread, once per line, and must be thread-safe
  // against the ingesting thread. `terminal` chooses the redrawn line (written every 250 ms)
  // over plain lines every `interval`.
  ProgressReporter(std::FILE *out, bool terminal, std::chrono::milliseconds interval,
                   std::function<ProgressCounters()> sample);
  ~ProgressReporter() { Stop(); }
  ProgressReporter(const ProgressReporter &) = delete;
  ProgressReporter &operator=(const ProgressReporter &) = delete;

  // Ends the thread; on a terminal, erases the line so that what follows starts clean.
  // Idempotent; called by the thread that made the reporter.
  void Stop();

 private:
  void Run();

  std::FILE *out_;
  const bool terminal_;
  const std::chrono::milliseconds interval_;
  std::function<ProgressCounters()> sample_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_PROGRESS_H
