#include "server/persistent_streams.h"

#include <optional>

#include "server/ingest_stream.h"
#include "server/validation.h"

namespace zerobus::server {

std::unique_ptr<PersistentLeases::Lease> PersistentLeases::Take(const std::string &id) {
  sync::MutexLock lock(mu_);
  auto flag = std::make_shared<std::atomic<bool>>(false);
  if (!held_.emplace(id, flag).second) return nullptr;
  return std::make_unique<Lease>(this, id, std::move(flag));
}

void PersistentLeases::Retire(const std::string &id) {
  sync::MutexLock lock(mu_);
  auto it = held_.find(id);
  if (it != held_.end()) it->second->store(true);
}

void PersistentLeases::Release(const std::string &id) {
  sync::MutexLock lock(mu_);
  held_.erase(id);
}

grpc::Status RetireStream(const StreamEnv &env, const std::string &authorization,
                          const databricks::zerobus::RetireStreamRequest &request) {
  if (!request.has_stream_id() || request.stream_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "stream_id is missing");
  }
  grpc::Status status = CheckTableName(request.table_name());
  if (!status.ok()) return status;
  if (env.tokens != nullptr) {
    status = env.tokens->CheckStream(authorization, request.table_name());
    if (!status.ok()) return status;
  }
  if (env.store == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "persistent streams need storage, and this server stores nothing "
                        "(--null-sink)");
  }
  // Streams record a declared table's own spelling.
  const table::TableSchema *schema = nullptr;
  if (!env.tables->Find(request.table_name(), &schema).ok()) schema = nullptr;
  const std::string table = schema != nullptr ? schema->full_name : request.table_name();
  std::optional<PersistentStreamState> state;
  std::string error = env.store->FindPersistentStream(request.stream_id(), &state);
  if (!error.empty()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "reading the stream failed: " + error);
  }
  if (!state || state->table != table) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no persistent stream " + request.stream_id() +
                                                         " in table " + request.table_name());
  }
  if (state->retired) return grpc::Status::OK;
  error = env.store->RetirePersistentStream(request.stream_id());
  if (!error.empty()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "retiring the stream failed: " + error);
  }
  // After the store: a resume that read the stream as live holds the lease by now, and hears
  // of the retirement before it stores anything more.
  env.leases->Retire(request.stream_id());
  if (*env.log) (*env.log)("stream retired: table=" + table + " stream_id=" + request.stream_id());
  return grpc::Status::OK;
}

}  // namespace zerobus::server
