// SIGINT and SIGTERM as ordinary events rather than handlers, for `zerobus serve` (which stops on
// the first) and `zerobus ingest` (which stops reading on the first and quits on the second).
#ifndef ZEROBUS_CLI_SIGNALS_H
#define ZEROBUS_CLI_SIGNALS_H

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace zerobus::cli {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts afterwards
// (a new thread inherits the mask), so that they reach only Wait(). Made before any other thread
// starts, or a thread made earlier would take the signal the default way and end the process.
class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals &) = delete;
  StopSignals &operator=(const StopSignals &) = delete;

  // Waits for the next SIGINT or SIGTERM; returns its number.
  int Wait() const;

 private:
  sigset_t signals_;
};

// Turns the first SIGINT or SIGTERM into a request to stop, which the program checks through
// requested() and honours at its own pace, and the second into an exit at once (status 130). A
// thread of its own waits for them. Made before any other thread starts (as StopSignals).
class Interruption {
 public:
  // `on_request` runs on the watching thread when the first signal comes, with its number.
  explicit Interruption(std::function<void(int signal_number)> on_request);
  ~Interruption();
  Interruption(const Interruption &) = delete;
  Interruption &operator=(const Interruption &) = delete;

  bool requested() const { return requested_.load(std::memory_order_relaxed); }

 private:
  void Watch();

  const StopSignals signals_;
  const std::function<void(int)> on_request_;
  std::atomic<bool> requested_{false};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_SIGNALS_H
