#include "server/timer.h"

namespace zerobus::server {

Timer::Timer() : thread_([this] { Run(); }) {}

Timer::~Timer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Timer::At(Clock::time_point when, std::function<void()> fn) {
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = due_.emplace(std::make_pair(when, next_seq_++), std::move(fn)).first;
    earliest = it == due_.begin();
  }
  // Only a new earliest deadline shortens the thread's current wait.
  if (earliest) wake_.notify_one();
}

void Timer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    if (first->first.first > Clock::now()) {
      wake_.wait_until(lock, first->first.first);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    due_.erase(first);
    // Callbacks take their own locks; running them under ours would invite lock-order cycles.
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace zerobus::server
