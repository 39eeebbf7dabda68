// Persistent streams beyond one call: which call holds each stream, and RetireStream.
#ifndef ZEROBUS_SERVER_PERSISTENT_STREAMS_H
#define ZEROBUS_SERVER_PERSISTENT_STREAMS_H

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include <grpcpp/support/status.h>

#include "sync/mutex.h"
#include "zerobus_service.pb.h"

namespace zerobus::server {

struct StreamEnv;

// One call at a time holds a persistent stream, from its create or resume until the call is
// gone and the store has answered every request it was handed. A resume therefore reads a
// committed offset that no write of an earlier call can still move, and two calls never store
// the same offsets. All methods are thread-safe.
class PersistentLeases {
 public:
  PersistentLeases() = default;
  // Every lease is gone before this (gRPC ends every call before the server goes), an order
  // ThreadSanitizer cannot see through Debian's uninstrumented gRPC: taking the lock that each
  // release took makes it visible.
  ~PersistentLeases() { sync::MutexLock lock(mu_); }
  PersistentLeases(const PersistentLeases &) = delete;
  PersistentLeases &operator=(const PersistentLeases &) = delete;

  class Lease {
   public:
    Lease(PersistentLeases *owner, std::string id, std::shared_ptr<std::atomic<bool>> retired)
        : owner_(owner), id_(std::move(id)), retired_(std::move(retired)) {}
    ~Lease() { owner_->Release(id_); }
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    // RetireStream ran for the stream while this lease held it: nothing more may be stored.
    bool retired() const { return retired_->load(); }

   private:
    PersistentLeases *owner_;
    const std::string id_;
    const std::shared_ptr<std::atomic<bool>> retired_;
  };

  // The lease of stream `id`, or null when another call holds it.
  std::unique_ptr<Lease> Take(const std::string &id);
  // Tells the call holding `id`, if one does, that the stream is retired.
  void Retire(const std::string &id);

 private:
  void Release(const std::string &id);

  sync::Mutex mu_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> held_ ABSL_GUARDED_BY(mu_);
};

// The RetireStream RPC: marks the stream retired in the store, for good. Idempotent: a stream
// retired already answers OK. Refusals: INVALID_ARGUMENT without a stream_id or with a bad
// table name; NOT_FOUND for an id the store does not know in that table; FAILED_PRECONDITION
// when the server stores nothing (--null-sink); the token's refusals with authentication on;
// INTERNAL when the store fails.
grpc::Status RetireStream(const StreamEnv &env, const std::string &authorization,
                          const databricks::zerobus::RetireStreamRequest &request);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_PERSISTENT_STREAMS_H
