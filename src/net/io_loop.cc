#include "net/io_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace zerobus::net {
namespace {

int CheckedFd(int fd, const char *what) {
  if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
  return fd;
}

}  // namespace

IoLoop::IoLoop(const std::string &thread_name)
    : epoll_fd_(CheckedFd(epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wake_fd_(CheckedFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
    const int error = errno;
    close(wake_fd_);
    close(epoll_fd_);
    throw std::system_error(error, std::generic_category(), "epoll_ctl");
  }
  // The id is set before any task can ask InLoopThread(): the thread waits for it.
  sync::MutexLock lock(mu_);
  thread_ = std::thread([this, thread_name] {
    pthread_setname_np(pthread_self(), thread_name.c_str());
    Run();
  });
  thread_id_ = thread_.get_id();
}

IoLoop::~IoLoop() {
  {
    sync::MutexLock lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  // What the loop still holds may be the last reference to a connection, whose end calls the
  // loop back (Remove(), Post()): it goes with the lock free, while the loop still stands.
  std::vector<std::function<void()>> posted;
  std::multimap<Clock::time_point, std::pair<uint64_t, std::function<void()>>> timers;
  std::unordered_map<int, std::shared_ptr<Watcher>> watchers;
  {
    sync::MutexLock lock(mu_);
    posted.swap(posted_);
    timers.swap(timers_);
    watchers.swap(watchers_);
  }
  posted.clear();
  timers.clear();
  watchers.clear();
  close(wake_fd_);
  close(epoll_fd_);
}

int IoLoop::Add(int fd, uint32_t events, std::shared_ptr<Watcher> watcher) {
  sync::MutexLock lock(mu_);
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return errno;
  watchers_[fd] = std::move(watcher);
  return 0;
}

int IoLoop::Modify(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0 ? 0 : errno;
}

void IoLoop::Remove(int fd) {
  std::shared_ptr<Watcher> removed;
  sync::MutexLock lock(mu_);
  auto found = watchers_.find(fd);
  if (found == watchers_.end()) return;
  (void)epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  removed = std::move(found->second);  // released after the lock, in case it is the last
  watchers_.erase(found);
}

void IoLoop::Post(std::function<void()> task) {
  bool wake = false;
  {
    sync::MutexLock lock(mu_);
    if (stopping_) return;  // `task` goes here, with the lock free
    posted_.push_back(std::move(task));
    wake = sleeping_;
    sleeping_ = false;
  }
  if (wake) Wake();
}

uint64_t IoLoop::RunAt(Clock::time_point at, std::function<void()> task) {
  bool wake = false;
  uint64_t id = 0;
  {
    sync::MutexLock lock(mu_);
    if (stopping_) return 0;
    id = next_timer_++;
    const bool earliest = timers_.empty() || at < timers_.begin()->first;
    timers_.emplace(at, std::make_pair(id, std::move(task)));
    // A sleeping thread computed its timeout from the timers it knew.
    wake = earliest && sleeping_;
    if (wake) sleeping_ = false;
  }
  if (wake) Wake();
  return id;
}

void IoLoop::Cancel(uint64_t timer) {
  sync::MutexLock lock(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == timer) {
      timers_.erase(it);
      return;
    }
  }
}

void IoLoop::Wake() {
  const uint64_t one = 1;
  // Never blocks (EFD_NONBLOCK), and a counter already non-zero wakes the thread as well.
  (void)!write(wake_fd_, &one, sizeof one);
}

int IoLoop::RunTasksAndTimers() {
  for (;;) {
    std::vector<std::function<void()>> due;
    int timeout_ms = -1;
    {
      sync::MutexLock lock(mu_);
      if (stopping_) return -2;
      due.swap(posted_);
      const Clock::time_point now = Clock::now();
      while (!timers_.empty() && timers_.begin()->first <= now) {
        due.push_back(std::move(timers_.begin()->second.second));
        timers_.erase(timers_.begin());
      }
      if (due.empty()) {
        if (!timers_.empty()) {
          const auto wait =
              std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first - now);
          timeout_ms = static_cast<int>(std::min<int64_t>(wait.count(), 60000));
        }
        sleeping_ = true;
        return timeout_ms;
      }
    }
    for (std::function<void()> &task : due) task();
  }
}

void IoLoop::Run() {
  constexpr int kEventsPerWait = 64;
  epoll_event events[kEventsPerWait];
  for (;;) {
    const int timeout_ms = RunTasksAndTimers();
    if (timeout_ms == -2) return;
    const int ready = epoll_wait(epoll_fd_, events, kEventsPerWait, timeout_ms);
    {
      sync::MutexLock lock(mu_);
      sleeping_ = false;
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count = 0;
        (void)!read(wake_fd_, &count, sizeof count);
        continue;
      }
      std::shared_ptr<Watcher> watcher;
      {
        sync::MutexLock lock(mu_);
        auto found = watchers_.find(fd);
        if (found != watchers_.end()) watcher = found->second;
      }
      if (watcher) watcher->OnReady(events[i].events);
    }
  }
}

}  // namespace zerobus::net
