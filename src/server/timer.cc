#include "server/timer.h"

namespace zerobus::server {

Timer::Timer() : thread_([this] { Run(); }) {}

Timer::~Timer() {
  {
    sync::MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Timer::At(Clock::time_point when, std::function<void()> fn) {
  bool earliest;
  {
    sync::MutexLock lock(mu_);
    auto it = due_.emplace(std::make_pair(when, next_seq_++), std::move(fn)).first;
    earliest = it == due_.begin();
  }
  // Only a new earliest deadline shortens the thread's current wait.
  if (earliest) wake_.notify_one();
}

void Timer::Run() {
  sync::UniqueLock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      lock.Wait(wake_);
      continue;
    }
    auto first = due_.begin();
    if (first->first.first > Clock::now()) {
      lock.WaitUntil(wake_, first->first.first);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    due_.erase(first);
    // Callbacks take their own locks; running them under ours would invite lock-order cycles.
    lock.Unlock();
    fn();
    lock.Lock();
  }
}

}  // namespace zerobus::server
