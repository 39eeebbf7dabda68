#include "server/faults.h"

#include <utility>

namespace zerobus::server {

Faults::Faults(std::function<void()> ack_policy_changed)
    : ack_policy_changed_(std::move(ack_policy_changed)) {}

void Faults::WithholdAcks(bool withhold) {
  withhold_acks_.store(withhold);
  ack_policy_changed_();
}

void Faults::DelayAcks(std::chrono::milliseconds delay) {
  ack_delay_ms_.store(delay.count() < 0 ? 0 : delay.count());
  ack_policy_changed_();
}

void Faults::FailAfterRecords(int64_t records, grpc::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_after_ = Armed{std::move(status), records < 0 ? 0 : records};
}

void Faults::RefuseStreams(grpc::Status status, int64_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count == 0) {
    refuse_streams_.reset();
  } else {
    refuse_streams_ = Armed{std::move(status), count};
  }
}

void Faults::Clear() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fail_after_.reset();
    refuse_streams_.reset();
  }
  withhold_acks_.store(false);
  ack_delay_ms_.store(0);
  ack_policy_changed_();
}

std::optional<grpc::Status> Faults::TakeStreamRefusal() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!refuse_streams_) return std::nullopt;
  grpc::Status status = refuse_streams_->status;
  if (refuse_streams_->remaining > 0 && --refuse_streams_->remaining == 0) refuse_streams_.reset();
  return status;
}

std::optional<grpc::Status> Faults::AdmitRecords(int64_t records) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fail_after_) return std::nullopt;
  if (records <= fail_after_->remaining) {
    fail_after_->remaining -= records;
    return std::nullopt;
  }
  grpc::Status status = std::move(fail_after_->status);
  fail_after_.reset();
  return status;
}

}  // namespace zerobus::server
