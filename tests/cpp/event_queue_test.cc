#include "core/event_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace zerobus {
namespace {

using Clock = std::chrono::steady_clock;

// Polls up to `capacity` events, copying them out.
Status PollInto(EventQueue &queue, size_t capacity, Clock::time_point deadline,
                std::vector<Event> *out, size_t *count) {
  out->clear();
  return queue.Poll(
      capacity, deadline,
      [&](const std::deque<Event> &queued, size_t n) {
        out->assign(queued.begin(), queued.begin() + n);
      },
      count);
}

TEST(EventQueue, MergesAcksWaitingToBePolled) {
  Scheduler dispatch("test", 1);
  EventQueue queue(nullptr, nullptr, nullptr, dispatch);
  queue.PushAck(0, 4);
  queue.PushAck(5, 9);
  queue.PushError(10, 12, Status(StatusCode::kTransport, "broken"));
  queue.PushAck(13, 13);
  std::vector<Event> events;
  size_t count = 0;
  ASSERT_TRUE(PollInto(queue, 4, Clock::now(), &events, &count).ok());
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(events[0].type, EventType::kAck);
  EXPECT_EQ(events[0].first_offset, 0u);
  EXPECT_EQ(events[0].last_offset, 9u);
  EXPECT_EQ(events[1].type, EventType::kError);
  ASSERT_NE(events[1].error, nullptr);
  EXPECT_EQ(events[1].error->code(), StatusCode::kTransport);
  EXPECT_EQ(events[2].first_offset, 13u);
  ASSERT_TRUE(PollInto(queue, 4, Clock::now(), &events, &count).ok());
  EXPECT_EQ(count, 0u);
}

TEST(EventQueue, EventsStayQueuedWhenTakingThemFails) {
  Scheduler dispatch("test", 1);
  EventQueue queue(nullptr, nullptr, nullptr, dispatch);
  queue.PushAck(0, 4);
  size_t count = 0;
  EXPECT_THROW(queue.Poll(
                   1, Clock::now(),
                   [](const std::deque<Event> &, size_t) { throw std::bad_alloc(); }, &count),
               std::bad_alloc);
  std::vector<Event> events;
  ASSERT_TRUE(PollInto(queue, 1, Clock::now(), &events, &count).ok());
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(events[0].last_offset, 4u);
}

TEST(EventQueue, PollWaitsForTheFirstEvent) {
  Scheduler dispatch("test", 1);
  EventQueue queue(nullptr, nullptr, nullptr, dispatch);
  std::thread pusher([&] { queue.PushAck(0, 0); });
  std::vector<Event> events;
  size_t count = 0;
  ASSERT_TRUE(PollInto(queue, 1, Clock::now() + std::chrono::seconds(30), &events, &count).ok());
  pusher.join();
  EXPECT_EQ(count, 1u);
}

struct Recorder {
  std::mutex mu;
  std::vector<Event> events;
  std::thread::id thread;
  int released = 0;
};

class RecordingCallback : public EventCallback {
 public:
  explicit RecordingCallback(Recorder *recorder) : recorder_(recorder) {}
  ~RecordingCallback() override { ++recorder_->released; }
  void OnEvent(UserHandle, const Event &event) const override {
    std::lock_guard<std::mutex> lock(recorder_->mu);
    recorder_->events.push_back(event);
    recorder_->thread = std::this_thread::get_id();
  }

 private:
  Recorder *recorder_;
};

TEST(EventQueue, CallbackRunsOnADispatchThreadAndIsReleasedOnce) {
  Recorder recorder;
  Scheduler dispatch("test", 1);
  {
    EventQueue queue(nullptr, std::make_shared<const RecordingCallback>(&recorder), nullptr,
                     dispatch);
    size_t count = 0;
    std::vector<Event> events;
    EXPECT_EQ(PollInto(queue, 1, Clock::now(), &events, &count).code(), StatusCode::kState);
    queue.PushAck(0, 1);
    queue.WaitDelivered();
    EXPECT_EQ(recorder.events.size(), 1u);
    EXPECT_NE(recorder.thread, std::this_thread::get_id());
    EXPECT_EQ(recorder.released, 0);
  }
  EXPECT_EQ(recorder.released, 1);
}

class CountingWakeup : public Wakeup {
 public:
  void Wake() const override {
    std::lock_guard<std::mutex> lock(mu);
    ++wakeups;
    cv.notify_all();
  }
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  mutable int wakeups = 0;
};

TEST(EventQueue, WakeupFiresWhenTheQueueTurnsNonEmpty) {
  auto wakeup = std::make_shared<const CountingWakeup>();
  Scheduler dispatch("test", 1);
  EventQueue queue(nullptr, nullptr, wakeup, dispatch);
  queue.PushAck(0, 0);
  {
    std::unique_lock<std::mutex> lock(wakeup->mu);
    ASSERT_TRUE(
        wakeup->cv.wait_for(lock, std::chrono::seconds(30), [&] { return wakeup->wakeups == 1; }));
  }
  std::vector<Event> events;
  size_t count = 0;
  ASSERT_TRUE(PollInto(queue, 1, Clock::now(), &events, &count).ok());
  EXPECT_EQ(count, 1u);
  queue.PushAck(1, 1);
  std::unique_lock<std::mutex> lock(wakeup->mu);
  ASSERT_TRUE(
      wakeup->cv.wait_for(lock, std::chrono::seconds(30), [&] { return wakeup->wakeups == 2; }));
}

}  // namespace
}  // namespace zerobus
