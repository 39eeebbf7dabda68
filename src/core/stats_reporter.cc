#include "core/stats_reporter.h"

namespace zerobus {

StatsReporter::StatsReporter(std::chrono::milliseconds interval, StatsCallbackRef callback,
                             UserHandle handle, std::function<std::string()> make_json)
    : shared_(std::make_shared<Shared>()),
      thread_(Run, shared_, interval, std::move(callback), handle, std::move(make_json)) {}

StatsReporter::~StatsReporter() {
  {
    sync::MutexLock lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->stop.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void StatsReporter::Run(std::shared_ptr<Shared> shared, std::chrono::milliseconds interval,
                        StatsCallbackRef callback, UserHandle handle,
                        std::function<std::string()> make_json) {
  // Each report is due one interval after the previous one was due, so that the time the
  // callback takes does not make the reports drift; a callback slower than the interval skips
  // the reports it overran rather than causing a burst.
  auto due = std::chrono::steady_clock::now() + interval;
  Shared &state = *shared;
  sync::UniqueLock lock(state.mu);
  while (!lock.WaitUntil(
      state.stop, due, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) { return state.stopping; })) {
    lock.Unlock();
    try {
      const std::string report = make_json();
      callback->Report(handle, report);
    } catch (...) {
      // Out of memory: this report is skipped, the next one is tried.
    }
    due += interval;
    const auto now = std::chrono::steady_clock::now();
    if (due < now) due = now + interval;
    lock.Lock();
  }
}

}  // namespace zerobus
