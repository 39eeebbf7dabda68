#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace zerobus {
namespace {

using Clock = Scheduler::Clock;
constexpr auto kPatience = std::chrono::seconds(30);

// Counts a task's steps and lets a test wait for a number of them.
struct Steps {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;

  void Add() {
    std::lock_guard<std::mutex> lock(mu);
    ++count;
    cv.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kPatience, [&] { return count >= n; });
  }
  int Get() {
    std::lock_guard<std::mutex> lock(mu);
    return count;
  }
};

TEST(Scheduler, StartsThreadsOnlyAsWorkNeedsThemAndNoMoreThanAsked) {
  Scheduler scheduler("test", 3);
  EXPECT_EQ(scheduler.threads_started(), 0u);
  std::atomic<int> inside{0};
  std::atomic<bool> release{false};
  Steps steps;
  std::vector<std::shared_ptr<Scheduler::Task>> tasks;
  for (int i = 0; i < 8; ++i) {
    tasks.push_back(scheduler.NewTask([&] {
      ++inside;
      while (!release) std::this_thread::yield();
      steps.Add();
      return Clock::time_point::max();
    }));
  }
  for (auto &task : tasks) task->Wake();
  const Clock::time_point deadline = Clock::now() + kPatience;
  while (inside < 3 && Clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(inside.load(), 3);  // the other five wait for a thread
  EXPECT_EQ(scheduler.threads_started(), 3u);
  release = true;
  ASSERT_TRUE(steps.WaitFor(8));
  for (auto &task : tasks) task->Stop();
}

TEST(Scheduler, RunsOneTasksStepsOneAtATimeAndOnceMoreWhenWokenDuringOne) {
  Scheduler scheduler("test", 4);
  std::atomic<int> concurrent{0}, most{0};
  Steps steps;
  std::shared_ptr<Scheduler::Task> task;
  task = scheduler.NewTask([&] {
    const int now = ++concurrent;
    most = std::max(most.load(), now);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --concurrent;
    steps.Add();
    return Clock::time_point::max();
  });
  for (int i = 0; i < 200; ++i) task->Wake();
  ASSERT_TRUE(steps.WaitFor(1));
  // Woken while running: one more step, however many wakes came meanwhile.
  task->Stop();
  EXPECT_EQ(most.load(), 1);
  EXPECT_LE(steps.Get(), 200);
}

TEST(Scheduler, RunsATaskAgainWhenTheTimeItAskedForComes) {
  Scheduler scheduler("test", 1);
  Steps steps;
  std::vector<Clock::time_point> ran;
  const auto gap = std::chrono::milliseconds(20);
  auto task = scheduler.NewTask([&] {
    ran.push_back(Clock::now());
    steps.Add();
    return ran.size() < 3 ? Clock::now() + gap : Clock::time_point::max();
  });
  task->Wake();
  ASSERT_TRUE(steps.WaitFor(3));
  task->Stop();
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_GE(ran[1] - ran[0], gap);
  EXPECT_GE(ran[2] - ran[1], gap);
}

// Threads wait for the earliest timer while others arm more: the heap that holds the timers
// grows (and moves them) under the waiting threads (AddressSanitizer's run checks the waits read
// no timer they do not own).
TEST(Scheduler, ArmsManyTimersWhileItsThreadsWaitForOne) {
  Scheduler scheduler("test", 2);
  const Clock::time_point far = Clock::now() + std::chrono::hours(1);
  Steps steps;
  std::vector<std::shared_ptr<Scheduler::Task>> tasks;
  // One at a time, so that one thread arms a timer while the other waits.
  for (int i = 0; i < 100; ++i) {
    tasks.push_back(scheduler.NewTask([&, i] {
      steps.Add();
      return far - std::chrono::milliseconds(i);  // each earlier than the last
    }));
    tasks.back()->Wake();
    ASSERT_TRUE(steps.WaitFor(i + 1));
  }
  for (auto &task : tasks) task->Stop();
}

TEST(Scheduler, StopIsABarrierAndNoStepFollowsIt) {
  Scheduler scheduler("test", 2);
  std::atomic<bool> in_step{false}, finished{false};
  Steps steps;
  auto task = scheduler.NewTask([&] {
    in_step = true;
    steps.Add();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    finished = true;
    return Clock::now();  // would run again at once
  });
  task->Wake();
  ASSERT_TRUE(steps.WaitFor(1));
  task->Stop();
  EXPECT_TRUE(finished.load());
  const int after_stop = steps.Get();
  task->Wake();
  // A second task on the same threads runs to completion: the first had every chance to run.
  Steps other;
  auto probe = scheduler.NewTask([&] {
    other.Add();
    return Clock::time_point::max();
  });
  probe->Wake();
  ASSERT_TRUE(other.WaitFor(1));
  probe->Stop();
  EXPECT_EQ(steps.Get(), after_stop);
}

TEST(Scheduler, AStepThatStopsItsOwnTaskAndFreesTheSchedulerEndsCleanly) {
  auto scheduler = std::make_unique<Scheduler>("test", 2);
  Steps steps;
  std::shared_ptr<Scheduler::Task> task;
  task = scheduler->NewTask([&] {
    EXPECT_TRUE(task->InStep());
    task->Stop();  // returns at once: this step is the last
    scheduler.reset();
    steps.Add();
    return Clock::time_point::max();
  });
  EXPECT_FALSE(task->InStep());
  task->Wake();
  ASSERT_TRUE(steps.WaitFor(1));
  task->Stop();
}

}  // namespace
}  // namespace zerobus
