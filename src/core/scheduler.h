// A few threads that run the background work of many owners (an SDK's streams), so that the
// process's thread count follows the SDK and not its streams: each owner's work is a Task, run
// on one of the scheduler's threads when it is woken or when the time it asked for comes, never
// on two threads at once.
#ifndef ZEROBUS_CORE_SCHEDULER_H
#define ZEROBUS_CORE_SCHEDULER_H

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace zerobus {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  class Task;
  // One run of a task's work. It returns the time by which it wants to run again even if
  // nobody wakes it, or Clock::time_point::max() to run only when woken.
  using Step = std::function<Clock::time_point()>;

  // At most `threads` (at least 1) threads, started as work first needs them, each named
  // `name` (at most 15 characters, as `top -H` and debuggers show it).
  Scheduler(std::string name, size_t threads);
  // Ends the threads once each finishes the step it is running. From a thread of its own (a step
  // that let go of the last owner of the scheduler) that thread ends once its step returns.
  // Tasks must be stopped first.
  ~Scheduler();
  Scheduler(const Scheduler &) = delete;
  Scheduler &operator=(const Scheduler &) = delete;

  // A task that runs `step`; it runs for the first time when woken.
  std::shared_ptr<Task> NewTask(Step step);

  // How many threads have been started so far. Thread-safe.
  size_t threads_started() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

class Scheduler::Task : public std::enable_shared_from_this<Scheduler::Task> {
 public:
  // Runs the step soon; when it is running, once more after it returns. Thread-safe, and
  // cheap when the task is already due to run. Does nothing once the task is stopped.
  void Wake();

  // No step starts after this returns. A barrier: from any other thread it waits for a running
  // step to return; from the task's own step it returns at once, and that step is the last.
  // Thread-safe; idempotent.
  void Stop();

  // Whether the calling thread is running this task's step.
  bool InStep() const;

  // Use Scheduler::NewTask().
  Task(std::shared_ptr<Shared> shared, Step step);

 private:
  friend class Scheduler;
  enum class Run { kIdle, kQueued, kRunning, kRunningWoken, kStopped };

  const std::shared_ptr<Shared> shared_;
  const Step step_;
  // Guarded by the scheduler's mutex.
  Run run_ = Run::kIdle;
  // The thread in step_, or none (kStopped may come while one is)
  std::thread::id running_on_;
  Clock::time_point timer_at_ = Clock::time_point::max();  // the earliest timer armed
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_SCHEDULER_H
