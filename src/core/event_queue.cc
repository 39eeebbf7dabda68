#include "core/event_queue.h"

#include <algorithm>

namespace zerobus {

EventQueue::EventQueue(UserHandle handle, EventCallbackRef callback, WakeupRef wakeup,
                       Scheduler &dispatch)
    : handle_(handle),
      callback_(std::move(callback)),
      wakeup_(std::move(wakeup)),
      wakes_directly_(!callback_ && wakeup_ && wakeup_->RunsOnAnyThread()) {
  if (callback_ || (wakeup_ && !wakes_directly_)) {
    task_ = dispatch.NewTask([this] { return Deliver(); });
  }
}

EventQueue::~EventQueue() {
  if (task_) Stop();
}

void EventQueue::PushAck(uint64_t first_offset, uint64_t last_offset) {
  Push(Event{EventType::kAck, first_offset, last_offset, nullptr});
}

void EventQueue::PushError(uint64_t first_offset, uint64_t last_offset, const Status &error) {
  Push(Event{EventType::kError, first_offset, last_offset, std::make_shared<const Status>(error)});
}

void EventQueue::Push(Event event) {
  {
    sync::MutexLock lock(mu_);
    if (event.type == EventType::kAck && !events_.empty() &&
        events_.back().type == EventType::kAck) {
      events_.back().last_offset = event.last_offset;
      return;
    }
    const bool was_empty = events_.empty();
    events_.push_back(std::move(event));
    if (!was_empty) return;
    wakeup_due_ = true;
    // Under the lock, so that none begins once Stop() has returned (the caller may close the
    // descriptor then); it is one write that never blocks.
    if (wakes_directly_ && !stopping_) wakeup_->Wake();
  }
  // Once the lock is let go, so that a thread woken (in Poll(), or the dispatch thread's
  // Deliver()) does not find it held and sleep until it is. A task stopped in the meantime
  // ignores the wake.
  ready_.notify_all();
  if (task_) task_->Wake();
}

Status EventQueue::Poll(size_t capacity, std::chrono::steady_clock::time_point deadline,
                        const Take &take, size_t *count) {
  *count = 0;
  if (callback_) {
    return Status(StatusCode::kState, "the stream delivers its events to its event callback");
  }
  sync::UniqueLock lock(mu_);
  lock.WaitUntil(ready_, deadline, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !events_.empty() || stopping_;
  });
  const size_t n = std::min(capacity, events_.size());
  take(events_, n);
  events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(n));
  if (events_.empty()) wakeup_due_ = false;
  *count = n;
  return Status::Ok();
}

void EventQueue::WaitDelivered() {
  if (!callback_) return;
  sync::UniqueLock lock(mu_);
  lock.Wait(delivered_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (events_.empty() && !delivering_) || stopping_;
  });
}

void EventQueue::Stop(std::function<void()> on_exit) {
  {
    sync::MutexLock lock(mu_);
    stopping_ = true;
    on_exit_ = std::move(on_exit);
    ready_.notify_all();
    delivered_.notify_all();
  }
  if (task_) task_->Stop();
}

Scheduler::Clock::time_point EventQueue::Deliver() {
  sync::UniqueLock lock(mu_);
  // Once stopped (from inside the callback) nothing is delivered any more.
  if (!stopping_ && callback_) {
    std::deque<Event> batch;
    batch.swap(events_);
    delivering_ = true;
    lock.Unlock();
    for (const Event &event : batch) {
      callback_->OnEvent(handle_, event);
      // A callback that destroyed its stream ends delivery at once.
      sync::MutexLock check(mu_);
      if (stopping_) break;
    }
    batch.clear();
    lock.Lock();
    delivering_ = false;
    delivered_.notify_all();
  } else if (!stopping_ && wakeup_due_) {
    wakeup_due_ = false;
    lock.Unlock();
    wakeup_->Wake();
    lock.Lock();
  }
  std::function<void()> on_exit = stopping_ ? std::move(on_exit_) : nullptr;
  lock.Unlock();
  // May destroy this queue: nothing after it touches a member.
  if (on_exit) on_exit();
  return Scheduler::Clock::time_point::max();
}

}  // namespace zerobus
