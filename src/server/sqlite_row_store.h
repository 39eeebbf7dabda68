// Durable storage: one SQLite database under the data directory, one SQL table per Zerobus
// table with a column per Delta column, written by one thread that commits the requests of
// every stream together (group commit) and acknowledges only what is committed.
#ifndef ZEROBUS_SERVER_SQLITE_ROW_STORE_H
#define ZEROBUS_SERVER_SQLITE_ROW_STORE_H

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/row_store.h"
#include "server/table_catalog.h"
#include "sync/mutex.h"

struct sqlite3;
struct sqlite3_stmt;

namespace zerobus::server {

// The database file inside a data directory.
std::string DatabasePath(const std::string &data_dir);

class SqliteRowStore : public RowStore {
 public:
  // Opens (creating) the database under `data_dir` (which must exist) in WAL mode with
  // synchronous=FULL, creates a table for every declared one, and checks that tables already
  // there have the declared columns. Null with the reason in `*error` on failure.
  static std::unique_ptr<SqliteRowStore> Open(const std::string &data_dir,
                                              const TableCatalog &tables, std::string *error);

  // Stops after storing everything appended.
  ~SqliteRowStore() override;
  SqliteRowStore(const SqliteRowStore &) = delete;
  SqliteRowStore &operator=(const SqliteRowStore &) = delete;

  // Queues the batch for the writer thread; `done` runs on that thread after the commit.
  void Append(WriteBatch batch, Done done) override;
  int64_t Count(const std::string &table) const override;
  // Undeclared tables give back the records as they arrived; declared ones a JSON object of
  // the row, as `zerobus rows` prints it.
  std::optional<Record> Get(const std::string &table, int64_t index) const override;
  // Persistent streams are rows of one more SQL table, _zerobus_persistent_streams; the
  // writer thread updates a stream's committed offset in the transaction of its rows.
  std::string CreatePersistentStream(const std::string &id,
                                     const PersistentStreamState &state) override;
  std::string FindPersistentStream(const std::string &id,
                                   std::optional<PersistentStreamState> *state) const override;
  std::string RetirePersistentStream(const std::string &id) override;

  // Commits what is queued, answers it, and ends the writer thread. Idempotent.
  void Stop();

 private:
  struct Pending {
    WriteBatch batch;
    Done done;
  };

  SqliteRowStore() = default;
  void WriterLoop();
  // Writes one group in one transaction and answers each of its batches.
  void Commit(std::vector<Pending> &group);
  // The prepared INSERT for `table`, creating an undeclared table on first use.
  sqlite3_stmt *InsertFor(const WriteBatch &batch, std::string *error);

  sqlite3 *writer_ = nullptr;  // used by the writer thread only, after Open
  mutable sync::Mutex reader_mu_;
  sqlite3 *reader_ ABSL_GUARDED_BY(reader_mu_) = nullptr;
  std::map<std::string, sqlite3_stmt *> inserts_;  // writer thread only
  sqlite3_stmt *commit_offset_ = nullptr;          // writer thread only
  // Creates, finds and retires persistent streams, beside the writer (WAL takes turns).
  mutable sync::Mutex streams_mu_;
  sqlite3 *streams_ ABSL_GUARDED_BY(streams_mu_) = nullptr;

  sync::Mutex mu_;
  std::condition_variable wake_;
  std::vector<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_SQLITE_ROW_STORE_H
