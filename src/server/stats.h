// Counters per table that tests and logs read, and a way to wait until they reach a value.
#ifndef ZEROBUS_SERVER_STATS_H
#define ZEROBUS_SERVER_STATS_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sync/mutex.h"

namespace zerobus::server {

// How the call of an accepted stream ended.
enum class StreamEnd {
  // The client half-closed its side (END_STREAM), and the call ended with OK once everything
  // it sent was acknowledged: a graceful close.
  kClosedByClient,
  // The call was cancelled (RST_STREAM): by the client, which abandoned it, or by the server's
  // own shutdown.
  kCancelled,
  // The server ended it with an error: a refused request, a failed store, the stream's end of
  // life, a fault.
  kEndedByServer,
};

// A snapshot of one table's counters, or of their sum over all tables. Every stream opened is
// open or counted by one of the three ends.
struct TableStats {
  int64_t streams_opened = 0;               // create_stream requests accepted
  int64_t streams_open = 0;                 // streams accepted whose call has not ended yet
  int64_t streams_closed_by_client = 0;     // StreamEnd::kClosedByClient
  int64_t streams_cancelled_by_client = 0;  // StreamEnd::kCancelled
  int64_t streams_ended_by_server = 0;      // StreamEnd::kEndedByServer
  int64_t requests = 0;                     // ingest requests accepted (one per offset_id)
  int64_t records = 0;  // records in accepted requests (stored unless null sink)
  // Streams opened, by the user-agent their call carried ("" without one); past
  // kMaxUserAgents different ones, the rest count under kOtherUserAgents.
  std::map<std::string, int64_t> user_agents;
};

inline constexpr size_t kMaxUserAgents = 64;
inline constexpr char kOtherUserAgents[] = "(others)";

class Stats {
 public:
  // The live counters of one table. Updates are lock-free so that the ingest path never
  // serialises on a stats mutex.
  class Table {
   public:
    void StreamClosed(StreamEnd end);
    void Accepted(int64_t records);

   private:
    friend class Stats;
    explicit Table(Stats *owner) : owner_(owner) {}
    TableStats Load() const;

    Stats *owner_;
    // Taken once per stream opened, never on the ingest path.
    mutable sync::Mutex user_agents_mu_;
    std::map<std::string, int64_t> user_agents_ ABSL_GUARDED_BY(user_agents_mu_);
    std::atomic<int64_t> streams_opened_{0};
    std::atomic<int64_t> streams_open_{0};
    std::atomic<int64_t> streams_closed_by_client_{0};
    std::atomic<int64_t> streams_cancelled_{0};
    std::atomic<int64_t> streams_ended_by_server_{0};
    std::atomic<int64_t> requests_{0};
    std::atomic<int64_t> records_{0};
  };

  // Counts a new stream on `table`, whose call carried `user_agent`, and returns the table's
  // counters, valid as long as this object. Thread-safe.
  Table *StreamOpened(const std::string &table, const std::string &user_agent);

  // Thread-safe.
  TableStats ForTable(const std::string &table) const;
  // The tables that have had a stream, by name.
  std::vector<std::string> Tables() const;
  TableStats Total() const;

  // Waits until `condition` holds, re-checking it whenever a counter changes; false on timeout.
  // `condition` typically reads ForTable or Total. Thread-safe.
  bool WaitFor(const std::function<bool()> &condition, std::chrono::milliseconds timeout);

 private:
  void Changed();

  mutable sync::Mutex tables_mu_;
  std::map<std::string, std::unique_ptr<Table>> tables_ ABSL_GUARDED_BY(tables_mu_);

  // Separate from tables_mu_ so that a waiter can evaluate its condition while holding it.
  sync::Mutex wait_mu_;
  std::condition_variable changed_;
  // Lets updates skip wait_mu_ when nobody waits; see Changed().
  std::atomic<int> waiters_{0};
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_STATS_H
