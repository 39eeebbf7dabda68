#include "cli/progress.h"

#include <algorithm>
#include <deque>
#include <utility>

namespace zerobus::cli {

std::string FormatProgress(const ProgressCounters &counters, double bytes_read_per_second,
                           double acked_per_second) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%llu read, %.1f MB/s | %llu acked, %.0f records/s | %llu in flight | "
                "%llu recoveries | %llu dead-lettered",
                static_cast<unsigned long long>(counters.records_read), bytes_read_per_second / 1e6,
                static_cast<unsigned long long>(counters.acked), acked_per_second,
                static_cast<unsigned long long>(counters.in_flight),
                static_cast<unsigned long long>(counters.recoveries),
                static_cast<unsigned long long>(counters.dead_lettered));
  return line;
}

ProgressReporter::ProgressReporter(std::FILE *out, bool terminal,
                                   std::chrono::milliseconds interval,
                                   std::function<ProgressCounters()> sample)
    : out_(out),
      terminal_(terminal),
      interval_(terminal ? std::chrono::milliseconds(250) : interval),
      sample_(std::move(sample)),
      thread_([this] { Run(); }) {}

void ProgressReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressReporter::Run() {
  using Clock = std::chrono::steady_clock;
  struct Sample {
    Clock::time_point at;
    ProgressCounters counters;
  };
  // Rates are taken over about the last second (or the last interval, when longer), so that a
  // redrawn line moves smoothly rather than with every 250 ms burst.
  const auto window = std::max<Clock::duration>(interval_, std::chrono::seconds(1));
  std::deque<Sample> samples{{Clock::now(), ProgressCounters()}};
  std::unique_lock<std::mutex> lock(mu_);
  bool drawn = false;
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    const Sample now{Clock::now(), sample_()};
    while (samples.size() > 1 && now.at - samples[1].at >= window) samples.pop_front();
    const Sample &then = samples.front();
    const double seconds = std::chrono::duration<double>(now.at - then.at).count();
    const double bytes =
        static_cast<double>(now.counters.bytes_read - then.counters.bytes_read) / seconds;
    const double acked = static_cast<double>(now.counters.acked - then.counters.acked) / seconds;
    samples.push_back(now);
    const std::string line = FormatProgress(now.counters, bytes, acked);
    if (terminal_) {
      // \r returns to the line's start and \x1b[K erases what a longer line left behind.
      std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    } else {
      std::fprintf(out_, "zerobus ingest: %s\n", line.c_str());
    }
    std::fflush(out_);
    drawn = true;
  }
  if (terminal_ && drawn) {
    std::fputs("\r\x1b[K", out_);
    std::fflush(out_);
  }
}

}  // namespace zerobus::cli
