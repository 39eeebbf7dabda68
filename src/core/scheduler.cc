#include "core/scheduler.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

namespace zerobus {

// What the scheduler's threads and its tasks share. The threads hold it, so that a thread
// ending after the scheduler is gone (one it could not join: its own) still finds it.
struct Scheduler::Shared : std::enable_shared_from_this<Shared> {
  Shared(std::string thread_name, size_t threads)
      : thread_name(std::move(thread_name)), max_threads(std::max<size_t>(threads, 1)) {}

  // With mu held: queues `task` unless it is queued, running or stopped; starts a thread when
  // none is idle and fewer than max_threads run. Returns whether an idle thread is to be
  // notified (`work`), which the caller does once it has let go of mu.
  [[nodiscard]] bool WakeLocked(const std::shared_ptr<Task> &task);
  // With mu held: asks for `task` to run by `at`, unless it already will by then.
  void ArmLocked(const std::shared_ptr<Task> &task, Clock::time_point at);
  // A thread's life: runs due timers and queued tasks until the scheduler stops.
  void Run();

  struct Timer {
    Clock::time_point at;
    std::weak_ptr<Task> task;  // a stopped task, once freed, leaves a timer that does nothing
    bool operator>(const Timer &other) const { return at > other.at; }
  };

  const std::string thread_name;
  const size_t max_threads;
  std::mutex mu;
  std::condition_variable work;      // a task queued, an earlier timer, or stopping
  std::condition_variable finished;  // a step returned
  std::deque<std::shared_ptr<Task>> runnable;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers;
  std::vector<std::thread> threads;
  size_t idle = 0;  // threads waiting for work
  bool stopping = false;
};

Scheduler::Scheduler(std::string name, size_t threads)
    : shared_(std::make_shared<Shared>(std::move(name), threads)) {}

Scheduler::~Scheduler() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
    threads.swap(shared_->threads);
    shared_->work.notify_all();
  }
  for (std::thread &thread : threads) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  }
}

std::shared_ptr<Scheduler::Task> Scheduler::NewTask(Step step) {
  return std::make_shared<Task>(shared_, std::move(step));
}

size_t Scheduler::threads_started() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->threads.size();
}

bool Scheduler::Shared::WakeLocked(const std::shared_ptr<Task> &task) {
  switch (task->run_) {
    case Task::Run::kIdle:
      task->run_ = Task::Run::kQueued;
      runnable.push_back(task);
      if (idle > 0) return true;
      if (threads.size() < max_threads && !stopping) {
        threads.emplace_back([shared = shared_from_this()] { shared->Run(); });
      }
      return false;
    case Task::Run::kRunning:
      task->run_ = Task::Run::kRunningWoken;
      return false;
    case Task::Run::kQueued:
    case Task::Run::kRunningWoken:
    case Task::Run::kStopped:
      return false;
  }
  return false;
}

void Scheduler::Shared::ArmLocked(const std::shared_ptr<Task> &task, Clock::time_point at) {
  // An earlier timer already armed makes the task look again before `at`: it then arms anew.
  if (at >= task->timer_at_ || task->run_ == Task::Run::kStopped) return;
  task->timer_at_ = at;
  const bool earliest = timers.empty() || at < timers.top().at;
  timers.push(Timer{at, task});
  // An idle thread waits for the earliest timer it knew of.
  if (earliest && idle > 0) work.notify_one();
}

void Scheduler::Shared::Run() {
  // Best effort: a name the system refuses leaves the thread unnamed.
  pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    if (!timers.empty()) {
      const Clock::time_point now = Clock::now();
      while (!timers.empty() && timers.top().at <= now) {
        const Timer due = timers.top();
        timers.pop();
        const std::shared_ptr<Task> task = due.task.lock();
        // Else a later or an earlier timer replaced it.
        if (task && task->timer_at_ == due.at) {
          task->timer_at_ = Clock::time_point::max();
          if (WakeLocked(task)) work.notify_one();
        }
      }
    }
    if (runnable.empty()) {
      ++idle;
      if (timers.empty()) {
        work.wait(lock);
      } else {
        // A copy: the heap may move its timers while this thread waits.
        const Clock::time_point until = timers.top().at;
        work.wait_until(lock, until);
      }
      --idle;
      continue;
    }
    const std::shared_ptr<Task> task = std::move(runnable.front());
    runnable.pop_front();
    task->run_ = Task::Run::kRunning;
    task->running_on_ = std::this_thread::get_id();
    lock.unlock();
    const Clock::time_point next = task->step_();
    lock.lock();
    task->running_on_ = std::thread::id();
    if (task->run_ == Task::Run::kRunningWoken) {
      task->run_ = Task::Run::kQueued;
      runnable.push_back(task);
    } else if (task->run_ == Task::Run::kRunning) {
      task->run_ = Task::Run::kIdle;
    }
    if (next != Clock::time_point::max()) ArmLocked(task, next);
    finished.notify_all();
  }
}

Scheduler::Task::Task(std::shared_ptr<Shared> shared, Step step)
    : shared_(std::move(shared)), step_(std::move(step)) {}

void Scheduler::Task::Wake() {
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    // A task is only ever queued by a shared_ptr the scheduler holds: the owner's is its own.
    if (run_ == Run::kIdle) {
      notify = shared_->WakeLocked(shared_from_this());
    } else if (run_ == Run::kRunning) {
      run_ = Run::kRunningWoken;
    }
  }
  // Once the lock is let go, so that the thread woken does not find it held and sleep again
  // until it is (two more futex calls and a context switch for each event delivered).
  if (notify) shared_->work.notify_one();
}

void Scheduler::Task::Stop() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  if (run_ == Run::kQueued) {
    std::deque<std::shared_ptr<Task>> &runnable = shared_->runnable;
    runnable.erase(
        std::find_if(runnable.begin(), runnable.end(),
                     [&](const std::shared_ptr<Task> &queued) { return queued.get() == this; }));
  }
  run_ = Run::kStopped;
  if (running_on_ == std::this_thread::get_id()) return;
  shared_->finished.wait(lock, [&] { return running_on_ == std::thread::id(); });
}

bool Scheduler::Task::InStep() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return running_on_ == std::this_thread::get_id();
}

}  // namespace zerobus
