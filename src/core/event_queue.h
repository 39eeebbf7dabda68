// A stream's events on their way to the user: queued for zb_stream_poll(), or delivered to the
// event callback or the wakeup by a task on the SDK's dispatch threads (core/scheduler), which
// runs one stream's deliveries in order and never two at once. The library's own wakeup of a
// descriptor (core/fd_wakeup) runs where the event is queued instead.
#ifndef ZEROBUS_CORE_EVENT_QUEUE_H
#define ZEROBUS_CORE_EVENT_QUEUE_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "core/callbacks.h"
#include "core/event.h"
#include "core/scheduler.h"
#include "core/status.h"
#include "sync/mutex.h"

namespace zerobus {

class EventQueue {
 public:
  // `handle` is what the event callback receives as its stream. With a callback or a wakeup,
  // `dispatch` runs them; it must outlive the queue.
  EventQueue(UserHandle handle, EventCallbackRef callback, WakeupRef wakeup, Scheduler &dispatch);
  // Stops delivering, abandoning undelivered events.
  ~EventQueue();
  EventQueue(const EventQueue &) = delete;
  EventQueue &operator=(const EventQueue &) = delete;

  // Queues a watermark advance; merged into the last queued event when that is an ack too.
  void PushAck(uint64_t first_offset, uint64_t last_offset);
  void PushError(uint64_t first_offset, uint64_t last_offset, const Status &error);

  // zb_stream_poll(): waits until the deadline for an event, then hands the first `count`
  // queued events (at most `capacity`) to `take`, which runs with the queue locked, and removes
  // them once it returns; if it throws, none is removed. ZB_ERR_STATE when a callback consumes
  // the events.
  using Take = std::function<void(const std::deque<Event> &queued, size_t count)>;
  Status Poll(size_t capacity, std::chrono::steady_clock::time_point deadline, const Take &take,
              size_t *count);

  // Waits until the callback has been given every event queued so far. Returns at once when
  // there is no callback.
  void WaitDelivered();

  // Whether the calling thread is delivering this queue's events (inside its callback or wakeup).
  bool OnDispatcherThread() const { return task_ && task_->InStep(); }

  // Stops delivering. From inside the callback (a callback destroying its stream), delivery
  // stops once the running callback returns and then `on_exit` runs, which may destroy this
  // queue. From any other thread, waits for a running callback or wakeup to return; `on_exit`
  // must be empty.
  void Stop(std::function<void()> on_exit = nullptr);

 private:
  void Push(Event event);
  // The dispatch task's step: delivers what is queued to the callback, or runs the wakeup.
  Scheduler::Clock::time_point Deliver();

  const UserHandle handle_;
  const EventCallbackRef callback_;
  const WakeupRef wakeup_;
  // The wakeup runs on the thread that queues an event (Wakeup::RunsOnAnyThread()), not on the
  // dispatch threads.
  const bool wakes_directly_;

  sync::Mutex mu_;
  std::condition_variable ready_;      // events queued, a wakeup due, or stopping
  std::condition_variable delivered_;  // the callback caught up
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
  // Deliver() holds events it has not finished delivering
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  bool wakeup_due_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_exit_ ABSL_GUARDED_BY(mu_);

  // With a callback or a wakeup; set once, by the constructor.
  std::shared_ptr<Scheduler::Task> task_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_EVENT_QUEUE_H
