// A stream's events on their way to the user: queued for zb_stream_poll(), or delivered by
// a dispatcher thread the library owns to the event callback or the wakeup.
#ifndef ZEROBUS_CORE_EVENT_QUEUE_H
#define ZEROBUS_CORE_EVENT_QUEUE_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/callbacks.h"
#include "core/event.h"
#include "core/status.h"

namespace zerobus {

class EventQueue {
 public:
  // `handle` is what the event callback receives as its stream. The dispatcher thread runs
  // when there is a callback or a wakeup.
  EventQueue(UserHandle handle, EventCallbackRef callback, WakeupRef wakeup);
  // Stops the dispatcher, abandoning undelivered events.
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

  bool OnDispatcherThread() const { return std::this_thread::get_id() == dispatcher_id_; }

  // Stops delivering. From the dispatcher thread itself (a callback destroying its stream), the
  // thread stops once the running callback returns and then runs `on_exit`, which may destroy
  // this queue. From any other thread, joins the dispatcher; `on_exit` must be empty.
  void Stop(std::function<void()> on_exit = nullptr);

 private:
  void Push(Event event);
  void RunCallbacks();
  void RunWakeups();
  // The dispatcher's last step: runs the on_exit given to Stop(), if any.
  void Exit(std::unique_lock<std::mutex> &lock);

  const UserHandle handle_;
  const EventCallbackRef callback_;
  const WakeupRef wakeup_;

  std::mutex mu_;
  std::condition_variable ready_;      // events queued, a wakeup due, or stopping
  std::condition_variable delivered_;  // the callback caught up
  std::deque<Event> events_;
  bool delivering_ = false;  // the dispatcher holds events it has not finished delivering
  bool wakeup_due_ = false;
  bool stopping_ = false;
  std::function<void()> on_exit_;

  std::thread dispatcher_;
  std::thread::id dispatcher_id_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_EVENT_QUEUE_H
