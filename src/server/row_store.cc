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
    // Under the same lock as the records: nobody sees one without the other.
    if (!batch.persistent_stream_id.empty()) {
      auto stream = persistent_.find(batch.persistent_stream_id);
      if (stream != persistent_.end()) stream->second.committed_offset = batch.offset_id;
    }
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

std::string MemoryRowStore::CreatePersistentStream(const std::string &id,
                                                   const PersistentStreamState &state) {
  sync::MutexLock lock(mu_);
  return persistent_.emplace(id, state).second ? "" : "stream id " + id + " exists already";
}

std::string MemoryRowStore::FindPersistentStream(
    const std::string &id, std::optional<PersistentStreamState> *state) const {
  sync::MutexLock lock(mu_);
  auto it = persistent_.find(id);
  if (it == persistent_.end()) {
    state->reset();
  } else {
    *state = it->second;
  }
  return "";
}

std::string MemoryRowStore::RetirePersistentStream(const std::string &id) {
  sync::MutexLock lock(mu_);
  auto it = persistent_.find(id);
  if (it != persistent_.end()) it->second.retired = true;
  return "";
}

}  // namespace zerobus::server
