// Misbehaviour that tests switch on and off while streams run, so that clients' recovery and
// backpressure paths meet a real server.
#ifndef ZEROBUS_SERVER_FAULTS_H
#define ZEROBUS_SERVER_FAULTS_H

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include <grpcpp/support/status.h>

namespace zerobus::server {

// Every method is thread-safe and takes effect on streams already open.
class Faults {
 public:
  // `ack_policy_changed` runs after WithholdAcks, DelayAcks or Clear so that open streams
  // re-evaluate which acks they may send now.
  explicit Faults(std::function<void()> ack_policy_changed);

  // While on, no acknowledgement goes out. Turning it off sends each stream's latest cumulative
  // ack at once (subject to the delay).
  void WithholdAcks(bool withhold);

  // Sends each ack `delay` after its request was received. A change applies to acks still
  // pending, so shortening the delay releases them early.
  void DelayAcks(std::chrono::milliseconds delay);

  // Arms a one-shot failure counted over all calls of the server: the first `records` records
  // received from now on are accepted, and the first request that would go beyond them is
  // rejected (nothing of it stored) and its call ends with `status`. Re-arming replaces the
  // previous setting.
  void FailAfterRecords(int64_t records, grpc::Status status);

  // Ends the next `count` calls that send create_stream with `status` instead of opening a
  // stream; a negative count refuses until Clear, 0 stops refusing. Re-arming replaces the
  // previous setting.
  void RefuseStreams(grpc::Status status, int64_t count);

  // Back to normal behaviour.
  void Clear();

  bool acks_withheld() const { return withhold_acks_.load(); }
  std::chrono::milliseconds ack_delay() const {
    return std::chrono::milliseconds(ack_delay_ms_.load());
  }

  // Called for every create_stream: the status to refuse it with, if any (consuming one refusal).
  std::optional<grpc::Status> TakeStreamRefusal();

  // Called for every ingest request before it is stored: the status to fail its call with, if
  // the armed record budget does not cover `records` more (disarming the fault).
  std::optional<grpc::Status> AdmitRecords(int64_t records);

 private:
  struct Armed {
    grpc::Status status;
    int64_t remaining;  // records still accepted, or streams still refused (< 0: no limit)
  };

  std::function<void()> ack_policy_changed_;
  // Atomics: the ack path reads these for every ack it considers.
  std::atomic<bool> withhold_acks_{false};
  std::atomic<int64_t> ack_delay_ms_{0};

  std::mutex mu_;
  std::optional<Armed> fail_after_;
  std::optional<Armed> refuse_streams_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_FAULTS_H
