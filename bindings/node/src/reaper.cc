#include "reaper.h"

#include "counters.h"

namespace zerobus_node {

void Reaper::Destroy(zb_stream *stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(stream);
      if (!thread_.joinable()) thread_ = std::thread(&Reaper::Run, this);
      wake_.notify_one();
      return;
    }
  }
  DestroyStreamHandle(stream);
}

void Reaper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Reaper::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to destroy
    zb_stream *stream = queue_.front();
    queue_.pop_front();
    lock.unlock();
    DestroyStreamHandle(stream);
    lock.lock();
  }
}

}  // namespace zerobus_node
