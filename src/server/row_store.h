// Where accepted records go: an interface so that durable storage can replace the in-memory
// store without touching the protocol code, and the in-memory store that tests read back.
#ifndef ZEROBUS_SERVER_ROW_STORE_H
#define ZEROBUS_SERVER_ROW_STORE_H

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/row.h"
#include "sync/mutex.h"
#include "table/delta_type.h"

namespace zerobus::server {

// One record as it arrived: a serialized proto message or Avro datum, or one JSON object.
struct Record {
  std::string data;
  bool json = false;
};

// The records of one ingest request, stored together or not at all.
struct WriteBatch {
  std::string table;
  const table::TableSchema *schema = nullptr;  // null: an undeclared table, kept as it arrived
  std::vector<Record> records;
  std::vector<Row> rows;  // with a schema: the records as rows, one per record
  // A persistent stream's request: the stream's committed offset becomes `offset_id` together
  // with these rows, never one without the other. Empty for an ephemeral stream.
  std::string persistent_stream_id;
  int64_t offset_id = -1;
};

// What a store keeps of a persistent stream (the PersistentStream RPC): what a resume must
// match, and the offset committed with the stream's latest rows.
struct PersistentStreamState {
  std::string table;
  int record_type = 0;                      // a databricks::zerobus::RecordType
  std::string descriptor_proto;             // PROTO streams: the serialized descriptor
  std::string avro_schema_json;             // AVRO streams: the writer schema
  std::optional<int64_t> committed_offset;  // none: nothing committed yet
  bool retired = false;
};

class RowStore {
 public:
  // Called once the batch is durable with an empty `error`, or with what went wrong when it
  // could not be stored. May run on any thread, possibly inside Append.
  using Done = std::function<void(const std::string &error)>;

  virtual ~RowStore() = default;

  // Appends `batch` to its table, creating the table on first use. Batches given by one thread
  // are stored in the order given, each contiguously. Thread-safe.
  virtual void Append(WriteBatch batch, Done done) = 0;

  // Number of records stored in `table`; 0 for an unknown table. Thread-safe.
  virtual int64_t Count(const std::string &table) const = 0;

  // A copy of the record at `index` (0 = first to arrive) in `table`, or nothing when out of
  // range. A store that keeps rows rather than records returns a row as a JSON object.
  // Thread-safe.
  virtual std::optional<Record> Get(const std::string &table, int64_t index) const = 0;

  // Persistent streams. Each returns "" or what went wrong; all are thread-safe.
  // Records a new stream under `id`, durably before it returns.
  virtual std::string CreatePersistentStream(const std::string &id,
                                             const PersistentStreamState &state) = 0;
  // Reads the stream `id` into `*state`, or resets it when there is no such stream. Everything
  // an Append answered before this call is reflected in the committed offset.
  virtual std::string FindPersistentStream(const std::string &id,
                                           std::optional<PersistentStreamState> *state) const = 0;
  // Marks `id` retired, durably; a stream retired already stays so.
  virtual std::string RetirePersistentStream(const std::string &id) = 0;
};

// Keeps every record as it arrived, in memory, until destroyed; done runs inside Append.
class MemoryRowStore : public RowStore {
 public:
  void Append(WriteBatch batch, Done done) override;
  int64_t Count(const std::string &table) const override;
  std::optional<Record> Get(const std::string &table, int64_t index) const override;
  // Kept in memory like the records: a stream lives as long as the server.
  std::string CreatePersistentStream(const std::string &id,
                                     const PersistentStreamState &state) override;
  std::string FindPersistentStream(const std::string &id,
                                   std::optional<PersistentStreamState> *state) const override;
  std::string RetirePersistentStream(const std::string &id) override;

 private:
  mutable sync::Mutex mu_;
  // A deque: growing a vector would move every stored record while holding the lock.
  std::map<std::string, std::deque<Record>> tables_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PersistentStreamState> persistent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ROW_STORE_H
