#include "server/sqlite_row_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/sql_tables.h"

namespace zerobus::server {
namespace {

// Runs statements that return no rows; "" or SQLite's complaint.
std::string Exec(sqlite3 *db, const std::string &sql) {
  char *message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return "";
  std::string error = message != nullptr ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  return error;
}

// The columns description recorded for `table`, or "" when the table is not in the database.
std::string RecordedColumns(sqlite3 *db, const std::string &table) {
  sqlite3_stmt *statement = nullptr;
  const std::string sql = std::string("SELECT columns FROM ") + kCatalogTable + " WHERE name = ?1";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) return "";
  sqlite3_bind_text(statement, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  std::string columns;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    columns = reinterpret_cast<const char *>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  return columns;
}

// Creates `table` and records it in the catalog, or checks that the recorded one has the same
// columns. Runs inside the caller's transaction, if any.
std::string EnsureTable(sqlite3 *db, const std::string &table, const table::TableSchema *schema) {
  const std::string wanted = ColumnsDescription(schema);
  const std::string recorded = RecordedColumns(db, table);
  if (!recorded.empty()) {
    if (recorded == wanted) return "";
    return "table " + table + " is stored with columns " + recorded + " but is now declared with " +
           wanted + "; use another data directory";
  }
  std::string error = Exec(db, CreateTableSql(table, schema));
  if (!error.empty()) return error;
  sqlite3_stmt *statement = nullptr;
  const std::string sql = std::string("INSERT INTO ") + kCatalogTable + " VALUES (?1, ?2)";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    return sqlite3_errmsg(db);
  }
  sqlite3_bind_text(statement, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(statement, 2, wanted.c_str(), -1, SQLITE_TRANSIENT);
  const bool ok = sqlite3_step(statement) == SQLITE_DONE;
  sqlite3_finalize(statement);
  return ok ? "" : sqlite3_errmsg(db);
}

// Before any connection opens the file: closing a descriptor of it drops every POSIX lock the
// process holds on it, those of open connections included (SQLite's WAL lock among them), and
// then another process (`sqlite3`, `zerobus rows`) that opens and closes the database believes
// itself alone, checkpoints and deletes the WAL the server goes on committing to: rows
// acknowledged but invisible until the server stops.
std::string CreateDatabaseFile(const std::string &path) {
  // Rows are the user's data: a new database is its owner's alone (SQLite gives its -wal and
  // -shm files the database's mode), made here because SQLite would make it 0644; and a
  // symbolic link at the path is refused rather than followed.
  const int made = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (made < 0) {
    return "cannot open " + path + ": " +
           (errno == ELOOP ? "it is a symbolic link, which is not followed"
                           : std::string(std::strerror(errno)));
  }
  close(made);
  return "";
}

std::string OpenConnection(const std::string &path, sqlite3 **db) {
  if (sqlite3_open_v2(path.c_str(), db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                      nullptr) != SQLITE_OK) {
    return "cannot open " + path + ": " + sqlite3_errmsg(*db);
  }
  // Readers and the writer share the file: wait out each other's locks.
  sqlite3_busy_timeout(*db, 10000);
  // WAL lets readers run beside the writer; FULL syncs the log on every commit, so that an
  // acknowledged row survives a power cut, not only a crash of the process.
  std::string error = Exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  return error.empty() ? "" : path + ": " + error;
}

void Bind(sqlite3_stmt *statement, int index, const SqlValue &value) {
  switch (value.kind) {
    case SqlValue::Kind::kNull:
      sqlite3_bind_null(statement, index);
      break;
    case SqlValue::Kind::kInteger:
      sqlite3_bind_int64(statement, index, value.integer);
      break;
    case SqlValue::Kind::kReal:
      sqlite3_bind_double(statement, index, value.real);
      break;
    case SqlValue::Kind::kText:
      sqlite3_bind_text64(statement, index, value.bytes.data(), value.bytes.size(), SQLITE_STATIC,
                          SQLITE_UTF8);
      break;
    case SqlValue::Kind::kBlob:
      sqlite3_bind_blob64(statement, index, value.bytes.data(), value.bytes.size(), SQLITE_STATIC);
      break;
  }
}

// One row per persistent stream: what a resume must match and its committed offset (NULL: none).
constexpr char kPersistentStreamsTable[] = "_zerobus_persistent_streams";

// A statement on `db` for the persistent streams table, its name in place of "$T".
sqlite3_stmt *PrepareOnStreams(sqlite3 *db, std::string sql) {
  sql.replace(sql.find("$T"), 2, kPersistentStreamsTable);
  sqlite3_stmt *statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    sqlite3_finalize(statement);
    return nullptr;
  }
  return statement;
}

// Steps a statement that returns no rows, then finalizes it; "" or SQLite's complaint.
std::string StepOnce(sqlite3 *db, sqlite3_stmt *statement) {
  if (statement == nullptr) return sqlite3_errmsg(db);
  const bool ok = sqlite3_step(statement) == SQLITE_DONE;
  sqlite3_finalize(statement);
  return ok ? "" : sqlite3_errmsg(db);
}

}  // namespace

std::string DatabasePath(const std::string &data_dir) {
  return data_dir + "/zerobus.db";
}

std::unique_ptr<SqliteRowStore> SqliteRowStore::Open(const std::string &data_dir,
                                                     const TableCatalog &tables,
                                                     std::string *error) {
  std::unique_ptr<SqliteRowStore> store(new SqliteRowStore());
  const std::string path = DatabasePath(data_dir);
  *error = CreateDatabaseFile(path);
  if (error->empty()) *error = OpenConnection(path, &store->writer_);
  if (error->empty()) *error = OpenConnection(path, &store->reader_);
  if (error->empty()) {
    sync::MutexLock lock(store->streams_mu_);
    *error = OpenConnection(path, &store->streams_);
  }
  if (error->empty()) {
    std::string sql = std::string("BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS ") + kCatalogTable +
                      " (name TEXT PRIMARY KEY, columns TEXT NOT NULL); CREATE TABLE IF NOT " +
                      "EXISTS " + kPersistentStreamsTable +
                      " (stream_id TEXT PRIMARY KEY, table_name TEXT NOT NULL, record_type " +
                      "INTEGER NOT NULL, descriptor_proto BLOB NOT NULL, avro_schema_json TEXT " +
                      "NOT NULL, committed_offset INTEGER, retired INTEGER NOT NULL);";
    *error = Exec(store->writer_, sql);
  }
  for (const table::TableSchema &table : tables.declared()) {
    if (error->empty()) *error = EnsureTable(store->writer_, table.full_name, &table);
  }
  if (!error->empty()) {
    Exec(store->writer_, "ROLLBACK");
    return nullptr;
  }
  *error = Exec(store->writer_, "COMMIT");
  if (!error->empty()) return nullptr;
  store->commit_offset_ =
      PrepareOnStreams(store->writer_, "UPDATE $T SET committed_offset = ?2 WHERE stream_id = ?1");
  if (store->commit_offset_ == nullptr) {
    *error = sqlite3_errmsg(store->writer_);
    return nullptr;
  }
  store->thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

SqliteRowStore::~SqliteRowStore() {
  Stop();
  for (auto &entry : inserts_) sqlite3_finalize(entry.second);
  sqlite3_finalize(commit_offset_);
  sqlite3_close(writer_);
  sqlite3_close(reader_);
  sync::MutexLock lock(streams_mu_);
  sqlite3_close(streams_);
}

void SqliteRowStore::Stop() {
  {
    sync::MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SqliteRowStore::Append(WriteBatch batch, Done done) {
  {
    sync::MutexLock lock(mu_);
    queue_.push_back(Pending{std::move(batch), std::move(done)});
  }
  wake_.notify_one();
}

void SqliteRowStore::WriterLoop() {
  sync::UniqueLock lock(mu_);
  for (;;) {
    lock.Wait(wake_,
              [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything appended is answered
    // Everything that arrived while the previous commit synced goes into one transaction.
    std::vector<Pending> group;
    group.swap(queue_);
    lock.Unlock();
    Commit(group);
    lock.Lock();
  }
}

sqlite3_stmt *SqliteRowStore::InsertFor(const WriteBatch &batch, std::string *error) {
  auto it = inserts_.find(batch.table);
  if (it != inserts_.end()) return it->second;
  // Declared tables exist since Open; this creates an undeclared one, or finds it from an
  // earlier run.
  *error = EnsureTable(writer_, batch.table, batch.schema);
  if (!error->empty()) return nullptr;
  const size_t columns = batch.schema != nullptr ? batch.schema->columns.size() : 2;
  std::string sql = "INSERT INTO " + QuoteIdentifier(batch.table) + " VALUES (";
  for (size_t i = 0; i < columns; ++i) sql += i == 0 ? "?" : ", ?";
  sql += ")";
  sqlite3_stmt *statement = nullptr;
  if (sqlite3_prepare_v2(writer_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(writer_);
    return nullptr;
  }
  inserts_.emplace(batch.table, statement);
  return statement;
}

void SqliteRowStore::Commit(std::vector<Pending> &group) {
  // Tables are resolved first, outside the transaction, so that one bad table fails only the
  // batches meant for it.
  std::vector<sqlite3_stmt *> statements(group.size(), nullptr);
  std::vector<std::string> errors(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    statements[i] = InsertFor(group[i].batch, &errors[i]);
  }
  std::string error = Exec(writer_, "BEGIN IMMEDIATE");
  for (size_t i = 0; i < group.size() && error.empty(); ++i) {
    sqlite3_stmt *statement = statements[i];
    if (statement == nullptr) continue;
    const WriteBatch &batch = group[i].batch;
    const size_t count = batch.schema != nullptr ? batch.rows.size() : batch.records.size();
    for (size_t r = 0; r < count && error.empty(); ++r) {
      if (batch.schema != nullptr) {
        const Row &row = batch.rows[r];
        for (size_t c = 0; c < row.size(); ++c) Bind(statement, static_cast<int>(c) + 1, row[c]);
      } else {
        const Record &record = batch.records[r];
        sqlite3_bind_blob64(statement, 1, record.data.data(), record.data.size(), SQLITE_STATIC);
        sqlite3_bind_int(statement, 2, record.json ? 1 : 0);
      }
      if (sqlite3_step(statement) != SQLITE_DONE) error = sqlite3_errmsg(writer_);
      sqlite3_reset(statement);
      sqlite3_clear_bindings(statement);
    }
    // In the rows' transaction: a crash keeps both or neither.
    if (error.empty() && !batch.persistent_stream_id.empty()) {
      sqlite3_bind_text(commit_offset_, 1, batch.persistent_stream_id.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(commit_offset_, 2, batch.offset_id);
      if (sqlite3_step(commit_offset_) != SQLITE_DONE) error = sqlite3_errmsg(writer_);
      sqlite3_reset(commit_offset_);
      sqlite3_clear_bindings(commit_offset_);
    }
  }
  if (error.empty()) error = Exec(writer_, "COMMIT");
  if (!error.empty()) Exec(writer_, "ROLLBACK");
  for (size_t i = 0; i < group.size(); ++i) {
    group[i].done(!errors[i].empty() ? errors[i] : error);
  }
}

int64_t SqliteRowStore::Count(const std::string &table) const {
  sync::MutexLock lock(reader_mu_);
  sqlite3_stmt *statement = nullptr;
  const std::string sql = "SELECT count(*) FROM " + QuoteIdentifier(table);
  if (sqlite3_prepare_v2(reader_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) return 0;
  int64_t count = 0;
  if (sqlite3_step(statement) == SQLITE_ROW) count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return count;
}

std::optional<Record> SqliteRowStore::Get(const std::string &table, int64_t index) const {
  sync::MutexLock lock(reader_mu_);
  if (index < 0) return std::nullopt;
  if (RecordedColumns(reader_, table) != "null") {
    std::vector<nlohmann::json> rows;
    std::string error;
    if (!ReadRows(reader_, table, index, 1, &rows, &error) || rows.empty()) return std::nullopt;
    return Record{rows[0].dump(), true};
  }
  sqlite3_stmt *statement = nullptr;
  const std::string sql =
      "SELECT _record, _json FROM " + QuoteIdentifier(table) + " ORDER BY rowid LIMIT 1 OFFSET ?1";
  if (sqlite3_prepare_v2(reader_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    return std::nullopt;
  }
  sqlite3_bind_int64(statement, 1, index);
  std::optional<Record> record;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    record = Record{std::string(static_cast<const char *>(sqlite3_column_blob(statement, 0)),
                                static_cast<size_t>(sqlite3_column_bytes(statement, 0))),
                    sqlite3_column_int(statement, 1) != 0};
  }
  sqlite3_finalize(statement);
  return record;
}

std::string SqliteRowStore::CreatePersistentStream(const std::string &id,
                                                   const PersistentStreamState &state) {
  sync::MutexLock lock(streams_mu_);
  sqlite3_stmt *statement =
      PrepareOnStreams(streams_, "INSERT INTO $T VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0)");
  if (statement != nullptr) {
    sqlite3_bind_text(statement, 1, id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, state.table.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 3, state.record_type);
    sqlite3_bind_blob64(statement, 4, state.descriptor_proto.data(), state.descriptor_proto.size(),
                        SQLITE_STATIC);
    sqlite3_bind_text64(statement, 5, state.avro_schema_json.data(), state.avro_schema_json.size(),
                        SQLITE_STATIC, SQLITE_UTF8);
  }
  return StepOnce(streams_, statement);
}

std::string SqliteRowStore::FindPersistentStream(
    const std::string &id, std::optional<PersistentStreamState> *state) const {
  sync::MutexLock lock(streams_mu_);
  state->reset();
  sqlite3_stmt *statement = PrepareOnStreams(
      streams_,
      "SELECT table_name, record_type, descriptor_proto, avro_schema_json, committed_offset, "
      "retired FROM $T WHERE stream_id = ?1");
  if (statement == nullptr) return sqlite3_errmsg(streams_);
  sqlite3_bind_text(statement, 1, id.c_str(), -1, SQLITE_STATIC);
  const int step = sqlite3_step(statement);
  if (step == SQLITE_ROW) {
    auto text = [statement](int column) {
      const void *bytes = sqlite3_column_blob(statement, column);
      return bytes == nullptr
                 ? std::string()
                 : std::string(static_cast<const char *>(bytes),
                               static_cast<size_t>(sqlite3_column_bytes(statement, column)));
    };
    PersistentStreamState found;
    found.table = text(0);
    found.record_type = sqlite3_column_int(statement, 1);
    found.descriptor_proto = text(2);
    found.avro_schema_json = text(3);
    if (sqlite3_column_type(statement, 4) != SQLITE_NULL) {
      found.committed_offset = sqlite3_column_int64(statement, 4);
    }
    found.retired = sqlite3_column_int(statement, 5) != 0;
    *state = std::move(found);
  }
  sqlite3_finalize(statement);
  return step == SQLITE_ROW || step == SQLITE_DONE ? "" : sqlite3_errmsg(streams_);
}

std::string SqliteRowStore::RetirePersistentStream(const std::string &id) {
  sync::MutexLock lock(streams_mu_);
  sqlite3_stmt *statement =
      PrepareOnStreams(streams_, "UPDATE $T SET retired = 1 WHERE stream_id = ?1");
  if (statement != nullptr) sqlite3_bind_text(statement, 1, id.c_str(), -1, SQLITE_STATIC);
  return StepOnce(streams_, statement);
}

}  // namespace zerobus::server
