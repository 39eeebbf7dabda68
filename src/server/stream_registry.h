// The calls currently open on a server, so that fault changes reach them and shutdown can wait
// for them to end.
#ifndef ZEROBUS_SERVER_STREAM_REGISTRY_H
#define ZEROBUS_SERVER_STREAM_REGISTRY_H

#include <condition_variable>
#include <functional>
#include <memory>
#include <unordered_map>

#include "sync/mutex.h"

namespace zerobus::server {

class IngestStreamCall;

// All methods are thread-safe.
class StreamRegistry {
 public:
  void Add(const std::shared_ptr<IngestStreamCall> &call);
  void Remove(const IngestStreamCall *call);

  // Runs `fn` on every registered call that still exists, without holding the registry's lock
  // (so `fn` may end calls, which removes them).
  void ForEach(const std::function<void(IngestStreamCall &)> &fn);

  // Returns once no call is registered.
  void WaitUntilEmpty();

 private:
  sync::Mutex mu_;
  std::condition_variable emptied_;
  // Weak: a call's lifetime belongs to gRPC (until OnDone), not to the registry.
  std::unordered_map<const IngestStreamCall *, std::weak_ptr<IngestStreamCall>> calls_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_STREAM_REGISTRY_H
