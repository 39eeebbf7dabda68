#include "server/row_store.h"

#include <iterator>
#include <utility>

namespace zerobus::server {

void MemoryRowStore::Append(WriteBatch batch, Done done) {
  {
    sync::MutexLock lock(mu_);
    std::deque<Record> &rows = tables_[batch.table];
    rows.insert(rows.end(), std::make_move_iterator(batch.records.begin()),
                std::make_move_iterator(batch.records.end()));
  }
  done("");
}

int64_t MemoryRowStore::Count(const std::string &table) const {
  sync::MutexLock lock(mu_);
  auto it = tables_.find(table);
  return it == tables_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

std::optional<Record> MemoryRowStore::Get(const std::string &table, int64_t index) const {
  sync::MutexLock lock(mu_);
  auto it = tables_.find(table);
  if (it == tables_.end() || index < 0 || index >= static_cast<int64_t>(it->second.size())) {
    return std::nullopt;
  }
  return it->second[static_cast<size_t>(index)];
}

}  // namespace zerobus::server
