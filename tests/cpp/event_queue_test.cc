#include "core/event_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace zerobus {
namespace {

using Clock = std::chrono::steady_clock;

TEST(EventQueue, MergesAcksWaitingToBePolled) {
  EventQueue queue(nullptr, nullptr, nullptr);
  queue.PushAck(0, 4);
  queue.PushAck(5, 9);
  queue.PushError(10, 12, Status(ZB_ERR_TRANSPORT, "broken"));
  queue.PushAck(13, 13);
  zb_event events[4];
  size_t count = 0;
  ASSERT_TRUE(queue.Poll(events, sizeof(zb_event), 4, Clock::now(), &count).ok());
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(events[0].type, ZB_EVENT_ACK);
  EXPECT_EQ(events[0].first_offset, 0u);
  EXPECT_EQ(events[0].last_offset, 9u);
  EXPECT_EQ(events[1].type, ZB_EVENT_ERROR);
  ASSERT_NE(events[1].error, nullptr);
  EXPECT_EQ(events[1].error->status.code(), ZB_ERR_TRANSPORT);
  delete events[1].error;
  EXPECT_EQ(events[2].first_offset, 13u);
  ASSERT_TRUE(queue.Poll(events, sizeof(zb_event), 4, Clock::now(), &count).ok());
  EXPECT_EQ(count, 0u);
}

TEST(EventQueue, PollWaitsForTheFirstEvent) {
  EventQueue queue(nullptr, nullptr, nullptr);
  std::thread pusher([&] { queue.PushAck(0, 0); });
  zb_event event;
  size_t count = 0;
  ASSERT_TRUE(
      queue.Poll(&event, sizeof event, 1, Clock::now() + std::chrono::seconds(30), &count).ok());
  pusher.join();
  EXPECT_EQ(count, 1u);
}

struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<zb_event> events;
  std::thread::id thread;
  int freed = 0;
};

void Record(zb_stream *, const zb_event *event, void *user_data) {
  auto *recorder = static_cast<Recorder *>(user_data);
  std::lock_guard<std::mutex> lock(recorder->mu);
  recorder->events.push_back(*event);
  recorder->thread = std::this_thread::get_id();
  recorder->cv.notify_all();
}

void CountFree(void *user_data) {
  ++static_cast<Recorder *>(user_data)->freed;
}

TEST(EventQueue, CallbackRunsOnItsOwnThreadAndItsUserDataIsFreedOnce) {
  Recorder recorder;
  {
    auto callback = std::make_shared<const Registration<zb_event_cb>>(Record, &recorder, CountFree);
    EventQueue queue(nullptr, std::move(callback), nullptr);
    size_t count = 0;
    zb_event event;
    EXPECT_EQ(queue.Poll(&event, sizeof event, 1, Clock::now(), &count).code(), ZB_ERR_STATE);
    queue.PushAck(0, 1);
    queue.WaitDelivered();
    EXPECT_EQ(recorder.events.size(), 1u);
    EXPECT_NE(recorder.thread, std::this_thread::get_id());
    EXPECT_EQ(recorder.freed, 0);
  }
  EXPECT_EQ(recorder.freed, 1);
}

TEST(EventQueue, WakeupFiresWhenTheQueueTurnsNonEmpty) {
  std::mutex mu;
  std::condition_variable cv;
  int wakeups = 0;
  struct Context {
    std::mutex *mu;
    std::condition_variable *cv;
    int *wakeups;
  } context{&mu, &cv, &wakeups};
  auto wakeup = std::make_shared<const Registration<zb_wakeup_cb>>(
      [](void *user_data) {
        auto *c = static_cast<Context *>(user_data);
        std::lock_guard<std::mutex> lock(*c->mu);
        ++*c->wakeups;
        c->cv->notify_all();
      },
      &context, nullptr);
  EventQueue queue(nullptr, nullptr, std::move(wakeup));
  queue.PushAck(0, 0);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return wakeups == 1; }));
  }
  zb_event event;
  size_t count = 0;
  ASSERT_TRUE(queue.Poll(&event, sizeof event, 1, Clock::now(), &count).ok());
  EXPECT_EQ(count, 1u);
  queue.PushAck(1, 1);
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return wakeups == 2; }));
}

}  // namespace
}  // namespace zerobus
