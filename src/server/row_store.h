// Where accepted records go: an interface so that durable storage can replace the in-memory
// store without touching the protocol code, and the in-memory store that tests read back.
#ifndef ZEROBUS_SERVER_ROW_STORE_H
#define ZEROBUS_SERVER_ROW_STORE_H

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace zerobus::server {

// One record as it arrived: a serialized proto message, or one JSON object.
struct Record {
  std::string data;
  bool json = false;
};

class RowStore {
 public:
  virtual ~RowStore() = default;

  // Appends the records of one request to `table`, creating the table on first use. The records
  // of one call land contiguously and in order; the call returns once they are durable, which is
  // what lets the caller acknowledge them. Thread-safe.
  virtual void Append(const std::string &table, std::vector<Record> records) = 0;

  // Number of records stored in `table`; 0 for an unknown table. Thread-safe.
  virtual int64_t Count(const std::string &table) const = 0;

  // A copy of the record at `index` (0 = first to arrive) in `table`, or nothing when out of
  // range. Thread-safe.
  virtual std::optional<Record> Get(const std::string &table, int64_t index) const = 0;
};

// Keeps everything in memory until destroyed.
class MemoryRowStore : public RowStore {
 public:
  void Append(const std::string &table, std::vector<Record> records) override;
  int64_t Count(const std::string &table) const override;
  std::optional<Record> Get(const std::string &table, int64_t index) const override;

 private:
  mutable std::mutex mu_;
  // A deque: growing a vector would move every stored record while holding the lock.
  std::map<std::string, std::deque<Record>> tables_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ROW_STORE_H
