// One thread that waits on many sockets at once (epoll) and runs what each is ready for, with
// timers and tasks handed over from other threads: the SDK's connections share it, so a process
// with thousands of streams still runs one thread for their network I/O.
#ifndef ZEROBUS_NET_IO_LOOP_H
#define ZEROBUS_NET_IO_LOOP_H

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sync/mutex.h"

namespace zerobus::net {

class IoLoop {
 public:
  using Clock = std::chrono::steady_clock;

  // What a watched descriptor is ready for (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP bits), told
  // on the loop's thread.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    virtual void OnReady(uint32_t events) = 0;
  };

  // Starts the thread, named `thread_name` (at most 15 characters). Throws std::system_error
  // when the kernel refuses an epoll or eventfd descriptor or the thread.
  explicit IoLoop(const std::string &thread_name);
  // Stops and joins the thread; tasks, timers and watchers not yet run or removed are dropped
  // (and may call the loop as they go: Post() and RunAt() then drop what they are given).
  // Never from the loop's own thread.
  ~IoLoop();
  IoLoop(const IoLoop &) = delete;
  IoLoop &operator=(const IoLoop &) = delete;

  // Watches `fd` for `events` (EPOLL* bits; level-triggered) until Remove(); the loop holds
  // `watcher` until then, and a call of OnReady() already under way finishes with it.
  // Thread-safe. Returns 0 or the errno of epoll_ctl().
  int Add(int fd, uint32_t events, std::shared_ptr<Watcher> watcher);
  // Changes what `fd` is watched for. Thread-safe. Returns 0 or the errno of epoll_ctl().
  int Modify(int fd, uint32_t events);
  // Stops watching `fd` and lets go of its watcher. Thread-safe. From another thread than the
  // loop's, a call of OnReady() may be under way or about to start (with its own reference to the
  // watcher): a watcher must take a call after Remove() as a call for nothing.
  void Remove(int fd);

  // Runs `task` on the loop's thread soon: right after the current step when called from that
  // thread, else once the thread wakes (which this call makes it do). Thread-safe.
  void Post(std::function<void()> task);
  // Runs `task` on the loop's thread once `at` has come (or at once when it has). Thread-safe.
  // Returns an id for Cancel() (0 once the loop is stopping).
  uint64_t RunAt(Clock::time_point at, std::function<void()> task);
  // Drops a timer that has not run yet. Thread-safe; a timer already running finishes.
  void Cancel(uint64_t timer);

  // Whether the calling thread is the loop's.
  bool InLoopThread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  void Run();
  void Wake();
  // Runs due timers and posted tasks; returns the epoll timeout until the next timer.
  int RunTasksAndTimers();

  const int epoll_fd_;
  const int wake_fd_;  // an eventfd: written to wake the thread from epoll_wait()

  sync::Mutex mu_;
  std::unordered_map<int, std::shared_ptr<Watcher>> watchers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(mu_);
  std::multimap<Clock::time_point, std::pair<uint64_t, std::function<void()>>> timers_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_timer_ ABSL_GUARDED_BY(mu_) = 1;
  // The thread sleeps in (or is about to enter) epoll_wait(): a Post() must write wake_fd_.
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace zerobus::net

#endif  // ZEROBUS_NET_IO_LOOP_H
