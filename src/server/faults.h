// Misbehaviour switched on and off per table while streams run, so that clients' recovery and
// backpressure paths meet a real server. Set at start-up (`zerobus serve --fault`), through the
// admin HTTP endpoint, or by tests; seeded, so that a failing run can be replayed.
#ifndef ZEROBUS_SERVER_FAULTS_H
#define ZEROBUS_SERVER_FAULTS_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>

#include <grpcpp/support/status.h>

#include "sync/mutex.h"

namespace zerobus::server {

// What goes wrong on one table. A table without a plan of its own follows the plan of
// kAllTables.
struct FaultPlan {
  // Break the stream: the first request that would take the table beyond this many more
  // records (counted over all its calls) is refused, nothing of it stored, and its call ends
  // with fail_status. One-shot: it disarms once it fires.
  std::optional<int64_t> fail_after_records;
  // Break the stream at random: each request ends its call with fail_status with this
  // probability (drawn from the stream's seeded generator), before anything of it is stored.
  double fail_probability = 0;
  // Break every stream, again and again: in each call, the request that would take the call
  // beyond this many records (0: its first request) is refused, nothing of it stored, and the
  // call ends with fail_status. Counted per call and never disarmed, like an overloaded
  // service that accepts each stream and then fails it.
  std::optional<int64_t> fail_streams_after_records;
  grpc::Status fail_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");

  // Send each ack this long after its request arrived.
  std::chrono::milliseconds ack_delay{0};
  // Send no ack at all; turning this off sends each stream's latest cumulative ack.
  bool withhold_acks = false;
  // Acknowledge nothing new: instead, every this long, repeat the call's latest ack (offset -1
  // before its first), a stale watermark from a server that looks alive and makes no
  // progress. Zero: off; turning it off sends each stream's latest cumulative ack.
  std::chrono::milliseconds repeat_stale_ack{0};
  // Answer nothing: no create_stream response, no ack, and read no further request, until
  // turned off. The call stays open.
  bool stall = false;

  // Once a stream has received this many records, send it CloseStreamSignal announcing
  // close_signal_duration, then end the call with UNAVAILABLE (error code 6002) after it.
  std::optional<int64_t> close_after_records;
  std::chrono::milliseconds close_signal_duration{1000};

  // Refuse the next `refuse_streams` create_stream requests with refuse_status (negative:
  // every one until cleared).
  int64_t refuse_streams = 0;
  grpc::Status refuse_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected refusal");
};

// What the ack path needs to know about a table at one moment.
struct AckPolicy {
  bool withhold = false;
  bool stall = false;
  std::chrono::milliseconds delay{0};
  std::chrono::milliseconds repeat_stale{0};  // FaultPlan::repeat_stale_ack
};

// Every method is thread-safe and takes effect on streams already open.
class Faults {
 public:
  static constexpr char kAllTables[] = "*";

  // `changed` runs after every change (outside any lock), so that open streams re-evaluate
  // what they may send or read now. `seed` makes every random fault of a run replayable.
  Faults(uint64_t seed, std::function<void()> changed);

  // Replaces the plan of `table` (kAllTables: the default for tables without their own).
  void Set(const std::string &table, const FaultPlan &plan);
  // Removes the plan of `table`, or of every table (and the default) for kAllTables.
  void Clear(const std::string &table);
  // Every plan set, by table.
  std::map<std::string, FaultPlan> Plans() const;
  uint64_t seed() const { return seed_; }

  // Shorthands on the default plan (kAllTables), each leaving its other settings alone.
  void WithholdAcks(bool withhold);
  void DelayAcks(std::chrono::milliseconds delay);
  void FailAfterRecords(int64_t records, grpc::Status status);
  // A count of 0 stops refusing.
  void RefuseStreams(grpc::Status status, int64_t count);
  void Stall(bool stall);
  // Back to normal behaviour everywhere.
  void Clear() { Clear(kAllTables); }

  // The stream side. A new stream's generator: the same seed, table and number of streams
  // opened on the table before it give the same sequence.
  std::mt19937_64 NewGenerator(const std::string &table);
  // For every create_stream: the status to refuse it with, if any (consuming one refusal).
  std::optional<grpc::Status> TakeStreamRefusal(const std::string &table);
  // For every ingest request before anything of it is stored: the status to end its call
  // with, if a fault fires.
  std::optional<grpc::Status> AdmitRecords(const std::string &table, int64_t records,
                                           std::mt19937_64 &generator);
  // For every ingest request of a call that has received `received` records before it: the
  // status to end the call with when the table fails every stream (fail_streams_after_records).
  std::optional<grpc::Status> FailStream(const std::string &table, int64_t received,
                                         int64_t records) const;
  AckPolicy Acks(const std::string &table) const;
  // When a stream that has received `records` records is to be sent CloseStreamSignal, and
  // the duration to announce.
  std::optional<std::chrono::milliseconds> CloseSignalAfter(const std::string &table,
                                                            int64_t records) const;

 private:
  // The plan in force for `table`, or null.
  FaultPlan *PlanFor(const std::string &table) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const FaultPlan *PlanFor(const std::string &table) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename Edit>
  void EditDefault(Edit edit);

  const uint64_t seed_;
  std::function<void()> changed_;
  mutable sync::Mutex mu_;
  std::map<std::string, FaultPlan> plans_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> streams_per_table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_FAULTS_H
