// A mutex and its locks that clang's thread-safety analysis understands (-Wthread-safety,
// ZB_THREAD_SAFETY_ANALYSIS), so that members can say which mutex guards them
// (ABSL_GUARDED_BY) and functions which mutex they need (ABSL_EXCLUSIVE_LOCKS_REQUIRED).
//
// libstdc++'s std::mutex and its locks carry no capability attributes, and absl::Mutex would
// change how every lock behaves (its own wait queues and deadlock detection, no
// std::condition_variable). These are std::mutex and std::unique_lock underneath, inline, with
// the attributes added: the same instructions on every path, std::condition_variable included.
// Shared by the engine and the server; it depends on nothing of the project's.
#ifndef ZEROBUS_SYNC_MUTEX_H
#define ZEROBUS_SYNC_MUTEX_H

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include <absl/base/thread_annotations.h>

namespace zerobus::sync {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex &) = delete;
  Mutex &operator=(const Mutex &) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  // Tells the analysis that the caller holds this mutex where it cannot follow the lock: a
  // callback that a library calls back into while the caller's lock is held (nghttp2's, in
  // src/net). std::mutex cannot check it, so this is a statement, not a test.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class UniqueLock;
  std::mutex mu_;
};

// Holds a Mutex for its scope, like std::lock_guard.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex &mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  MutexLock(const MutexLock &) = delete;
  MutexLock &operator=(const MutexLock &) = delete;

 private:
  Mutex &mu_;
};

// Holds a Mutex for its scope, like std::unique_lock: it may let it go and take it again, and
// waits on a std::condition_variable. A predicate reads what the mutex guards, so a lambda
// given to Wait* says so: [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { ... }.
class ABSL_SCOPED_LOCKABLE UniqueLock {
 public:
  explicit UniqueLock(Mutex &mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : lock_(mu.mu_) {}
  ~UniqueLock() ABSL_UNLOCK_FUNCTION() {}
  UniqueLock(const UniqueLock &) = delete;
  UniqueLock &operator=(const UniqueLock &) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { lock_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { lock_.unlock(); }

  // The mutex is held again when these return, as with std::condition_variable.
  void Wait(std::condition_variable &cv) { cv.wait(lock_); }
  template <typename Predicate>
  void Wait(std::condition_variable &cv, Predicate done) {
    cv.wait(lock_, std::move(done));
  }
  template <typename Clock, typename Duration>
  std::cv_status WaitUntil(std::condition_variable &cv,
                           const std::chrono::time_point<Clock, Duration> &deadline) {
    return cv.wait_until(lock_, deadline);
  }
  // False when the deadline passed with `done` still false. A deadline already past (a zero
  // timeout) only asks `done`: a timed wait on a condition variable whose deadline has passed
  // still sleeps for the kernel's timer slack (zb_stream_poll() with a zero timeout took 70 to
  // 110 µs here), where a caller asking not to wait expects an answer at once.
  // The analysis cannot see that this lock holds the mutex `done` requires; it does, here as
  // inside the condition variable's own wait.
  template <typename Clock, typename Duration, typename Predicate>
  bool WaitUntil(std::condition_variable &cv,
                 const std::chrono::time_point<Clock, Duration> &deadline,
                 Predicate done) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    return cv.wait_until(lock_, deadline, std::move(done));
  }
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(std::condition_variable &cv, const std::chrono::duration<Rep, Period> &wait,
               Predicate done) {
    return WaitUntil(cv, std::chrono::steady_clock::now() + wait, std::move(done));
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace zerobus::sync

#endif  // ZEROBUS_SYNC_MUTEX_H
