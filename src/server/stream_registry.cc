#include "server/stream_registry.h"

#include <vector>

namespace zerobus::server {

void StreamRegistry::Add(const std::shared_ptr<IngestStreamCall> &call) {
  sync::MutexLock lock(mu_);
  calls_.emplace(call.get(), call);
}

void StreamRegistry::Remove(const IngestStreamCall *call) {
  sync::MutexLock lock(mu_);
  calls_.erase(call);
  if (calls_.empty()) emptied_.notify_all();
}

void StreamRegistry::ForEach(const std::function<void(IngestStreamCall &)> &fn) {
  std::vector<std::shared_ptr<IngestStreamCall>> live;
  {
    sync::MutexLock lock(mu_);
    live.reserve(calls_.size());
    for (const auto &entry : calls_) {
      if (auto call = entry.second.lock()) live.push_back(std::move(call));
    }
  }
  for (const auto &call : live) fn(*call);
}

void StreamRegistry::WaitUntilEmpty() {
  sync::UniqueLock lock(mu_);
  lock.Wait(emptied_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_.empty(); });
}

}  // namespace zerobus::server
