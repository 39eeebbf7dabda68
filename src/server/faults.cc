#include "server/faults.h"

#include <utility>

namespace zerobus::server {

Faults::Faults(uint64_t seed, std::function<void()> changed)
    : seed_(seed), changed_(std::move(changed)) {}

void Faults::Set(const std::string &table, const FaultPlan &plan) {
  {
    sync::MutexLock lock(mu_);
    plans_[table] = plan;
  }
  changed_();
}

void Faults::Clear(const std::string &table) {
  {
    sync::MutexLock lock(mu_);
    if (table == kAllTables) {
      plans_.clear();
    } else {
      plans_.erase(table);
    }
  }
  changed_();
}

std::map<std::string, FaultPlan> Faults::Plans() const {
  sync::MutexLock lock(mu_);
  return plans_;
}

template <typename Edit>
void Faults::EditDefault(Edit edit) {
  {
    sync::MutexLock lock(mu_);
    edit(plans_[kAllTables]);
  }
  changed_();
}

void Faults::WithholdAcks(bool withhold) {
  EditDefault([&](FaultPlan &plan) { plan.withhold_acks = withhold; });
}

void Faults::DelayAcks(std::chrono::milliseconds delay) {
  EditDefault([&](FaultPlan &plan) { plan.ack_delay = std::max(delay, delay.zero()); });
}

void Faults::FailAfterRecords(int64_t records, grpc::Status status) {
  EditDefault([&](FaultPlan &plan) {
    plan.fail_after_records = std::max<int64_t>(records, 0);
    plan.fail_status = std::move(status);
  });
}

void Faults::RefuseStreams(grpc::Status status, int64_t count) {
  EditDefault([&](FaultPlan &plan) {
    plan.refuse_streams = count;
    plan.refuse_status = std::move(status);
  });
}

void Faults::Stall(bool stall) {
  EditDefault([&](FaultPlan &plan) { plan.stall = stall; });
}

FaultPlan *Faults::PlanFor(const std::string &table) {
  auto it = plans_.find(table);
  if (it == plans_.end()) it = plans_.find(kAllTables);
  return it == plans_.end() ? nullptr : &it->second;
}

const FaultPlan *Faults::PlanFor(const std::string &table) const {
  return const_cast<Faults *>(this)->PlanFor(table);
}

std::mt19937_64 Faults::NewGenerator(const std::string &table) {
  uint64_t ordinal;
  {
    sync::MutexLock lock(mu_);
    ordinal = streams_per_table_[table]++;
  }
  std::seed_seq seed{static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32),
                     static_cast<uint32_t>(std::hash<std::string>()(table)),
                     static_cast<uint32_t>(ordinal)};
  return std::mt19937_64(seed);
}

std::optional<grpc::Status> Faults::TakeStreamRefusal(const std::string &table) {
  sync::MutexLock lock(mu_);
  FaultPlan *plan = PlanFor(table);
  if (plan == nullptr || plan->refuse_streams == 0) return std::nullopt;
  if (plan->refuse_streams > 0) --plan->refuse_streams;
  return plan->refuse_status;
}

std::optional<grpc::Status> Faults::AdmitRecords(const std::string &table, int64_t records,
                                                 std::mt19937_64 &generator) {
  sync::MutexLock lock(mu_);
  FaultPlan *plan = PlanFor(table);
  if (plan == nullptr) return std::nullopt;
  if (plan->fail_probability > 0 &&
      std::bernoulli_distribution(std::min(plan->fail_probability, 1.0))(generator)) {
    return plan->fail_status;
  }
  if (!plan->fail_after_records) return std::nullopt;
  if (records <= *plan->fail_after_records) {
    *plan->fail_after_records -= records;
    return std::nullopt;
  }
  plan->fail_after_records.reset();
  return plan->fail_status;
}

std::optional<grpc::Status> Faults::FailStream(const std::string &table, int64_t received,
                                               int64_t records) const {
  sync::MutexLock lock(mu_);
  const FaultPlan *plan = PlanFor(table);
  if (plan == nullptr || !plan->fail_streams_after_records ||
      records <= *plan->fail_streams_after_records - received) {
    return std::nullopt;
  }
  return plan->fail_status;
}

AckPolicy Faults::Acks(const std::string &table) const {
  sync::MutexLock lock(mu_);
  const FaultPlan *plan = PlanFor(table);
  if (plan == nullptr) return AckPolicy{};
  return AckPolicy{plan->withhold_acks, plan->stall, plan->ack_delay, plan->repeat_stale_ack};
}

std::optional<std::chrono::milliseconds> Faults::CloseSignalAfter(const std::string &table,
                                                                  int64_t records) const {
  sync::MutexLock lock(mu_);
  const FaultPlan *plan = PlanFor(table);
  if (plan == nullptr || !plan->close_after_records || records < *plan->close_after_records) {
    return std::nullopt;
  }
  return plan->close_signal_duration;
}

}  // namespace zerobus::server
