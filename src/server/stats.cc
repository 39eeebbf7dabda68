#include "server/stats.h"

namespace zerobus::server {

void Stats::Table::StreamClosed(StreamEnd end) {
  switch (end) {
    case StreamEnd::kClosedByClient:
      streams_closed_by_client_.fetch_add(1);
      break;
    case StreamEnd::kCancelled:
      streams_cancelled_.fetch_add(1);
      break;
    case StreamEnd::kEndedByServer:
      streams_ended_by_server_.fetch_add(1);
      break;
  }
  streams_open_.fetch_sub(1);
  owner_->Changed();
}

TableStats Stats::Table::Load() const {
  TableStats s;
  s.streams_opened = streams_opened_.load();
  s.streams_open = streams_open_.load();
  s.streams_closed_by_client = streams_closed_by_client_.load();
  s.streams_cancelled_by_client = streams_cancelled_.load();
  s.streams_ended_by_server = streams_ended_by_server_.load();
  s.requests = requests_.load();
  s.records = records_.load();
  sync::MutexLock lock(user_agents_mu_);
  s.user_agents = user_agents_;
  return s;
}

void Stats::Table::Accepted(int64_t records) {
  records_.fetch_add(records);
  requests_.fetch_add(1);
  owner_->Changed();
}

Stats::Table *Stats::StreamOpened(const std::string &table, const std::string &user_agent) {
  Table *t;
  {
    sync::MutexLock lock(tables_mu_);
    std::unique_ptr<Table> &slot = tables_[table];
    if (!slot) slot.reset(new Table(this));
    t = slot.get();
  }
  {
    sync::MutexLock lock(t->user_agents_mu_);
    // Bounded: a client may send a new user-agent with every call.
    const bool known = t->user_agents_.count(user_agent) > 0;
    const bool room = t->user_agents_.size() < kMaxUserAgents;
    ++t->user_agents_[known || room ? user_agent : kOtherUserAgents];
  }
  t->streams_opened_.fetch_add(1);
  t->streams_open_.fetch_add(1);
  Changed();
  return t;
}

TableStats Stats::ForTable(const std::string &table) const {
  sync::MutexLock lock(tables_mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return TableStats{};
  return it->second->Load();
}

std::vector<std::string> Stats::Tables() const {
  sync::MutexLock lock(tables_mu_);
  std::vector<std::string> names;
  for (const auto &entry : tables_) names.push_back(entry.first);
  return names;
}

TableStats Stats::Total() const {
  sync::MutexLock lock(tables_mu_);
  TableStats sum;
  for (const auto &entry : tables_) {
    const TableStats s = entry.second->Load();
    sum.streams_opened += s.streams_opened;
    sum.streams_open += s.streams_open;
    sum.streams_closed_by_client += s.streams_closed_by_client;
    sum.streams_cancelled_by_client += s.streams_cancelled_by_client;
    sum.streams_ended_by_server += s.streams_ended_by_server;
    sum.requests += s.requests;
    sum.records += s.records;
    for (const auto &[agent, streams] : s.user_agents) sum.user_agents[agent] += streams;
  }
  return sum;
}

bool Stats::WaitFor(const std::function<bool()> &condition, std::chrono::milliseconds timeout) {
  sync::UniqueLock lock(wait_mu_);
  waiters_.fetch_add(1);
  bool met = lock.WaitFor(changed_, timeout, condition);
  waiters_.fetch_sub(1);
  return met;
}

void Stats::Changed() {
  // Counters change before waiters_ is read, and a waiter registers in waiters_ before it
  // evaluates its condition (all sequentially consistent): either the waiter sees the new value
  // or this sees the waiter. Taking wait_mu_ then orders the notify after the waiter's wait.
  if (waiters_.load() == 0) return;
  { sync::MutexLock lock(wait_mu_); }
  changed_.notify_all();
}

}  // namespace zerobus::server
