#include "zbtest_server.h"

#include <chrono>
#include <cstdio>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/fault_plan_json.h"
#include "server/server.h"
#include "server/tls_certificate.h"
#include "table/ddl_parser.h"

using zerobus::server::Server;
using zerobus::server::ServerOptions;

struct zbtest_server {
  std::unique_ptr<Server> server;
  std::mutex mu;
  // Copies of the records handed out, so that their pointers stay valid until stop.
  std::deque<std::string> handed_out;
};

namespace {

grpc::Status StatusOf(int grpc_code, const char *message) {
  return grpc::Status(static_cast<grpc::StatusCode>(grpc_code), message ? message : "");
}

}  // namespace

extern "C" zbtest_server *zbtest_server_start(const zbtest_server_options *options) {
  ServerOptions server_options;
  if (options != nullptr) {
    server_options.port = options->port;
    server_options.null_sink = options->null_sink;
    if (options->schema != nullptr) {
      std::string error;
      if (!zerobus::table::ParseSchemaText(options->schema, &server_options.tables, &error)) {
        std::fprintf(stderr, "zbtest_server_start: schema: %s\n", error.c_str());
        return nullptr;
      }
    }
    server_options.accept_undeclared_tables = !options->reject_undeclared_tables;
    if (options->data_dir != nullptr) server_options.data_dir = options->data_dir;
    if (options->seed != 0) server_options.seed = options->seed;
    server_options.max_rows_per_second = options->max_rows_per_second;
    if (options->federation_key_file != nullptr) {
      server_options.federation_key_file = options->federation_key_file;
      server_options.http_port = 0;
    }
    if (options->mutual_tls_dir != nullptr) {
      zerobus::server::TlsFiles files;
      std::string error;
      if (!zerobus::server::EnsureSelfSignedCertificate(options->mutual_tls_dir, "127.0.0.1",
                                                        &files, &error)) {
        std::fprintf(stderr, "zbtest_server_start: TLS: %s\n", error.c_str());
        return nullptr;
      }
      server_options.tls_cert_file = files.cert_file;
      server_options.tls_key_file = files.key_file;
      server_options.tls_client_ca_file = files.ca_file;
    }
    if (options->log) {
      server_options.log = [](const std::string &line) {
        std::fprintf(stderr, "zbtest_server: %s\n", line.c_str());
      };
    }
  }
  std::string error;
  std::unique_ptr<Server> server = Server::Start(std::move(server_options), &error);
  if (!server) {
    std::fprintf(stderr, "zbtest_server_start: %s\n", error.c_str());
    return nullptr;
  }
  auto *handle = new zbtest_server;
  handle->server = std::move(server);
  return handle;
}

extern "C" void zbtest_server_stop(zbtest_server *server) {
  delete server;
}

extern "C" const char *zbtest_server_endpoint(const zbtest_server *server) {
  return server->server->endpoint().c_str();
}

extern "C" const char *zbtest_server_workspace_url(const zbtest_server *server) {
  return server->server->http_port() > 0 ? server->server->workspace_url().c_str() : nullptr;
}

extern "C" int64_t zbtest_server_tokens_issued(const zbtest_server *server) {
  return server->server->tokens().issued();
}

extern "C" int64_t zbtest_server_record_count(const zbtest_server *server, const char *table) {
  return server->server->rows().Count(table);
}

extern "C" bool zbtest_server_record(zbtest_server *server, const char *table, int64_t index,
                                     const uint8_t **data, size_t *len, bool *is_json) {
  std::optional<zerobus::server::Record> record = server->server->rows().Get(table, index);
  if (!record) return false;
  std::lock_guard<std::mutex> lock(server->mu);
  const std::string &kept = server->handed_out.emplace_back(std::move(record->data));
  *data = reinterpret_cast<const uint8_t *>(kept.data());
  *len = kept.size();
  if (is_json != nullptr) *is_json = record->json;
  return true;
}

extern "C" bool zbtest_server_user_agent(zbtest_server *server, const char *table, size_t index,
                                         const char **user_agent, int64_t *streams) {
  const auto agents = server->server->table_stats(table).user_agents;
  if (index >= agents.size()) return false;
  auto it = agents.begin();
  std::advance(it, index);
  std::lock_guard<std::mutex> lock(server->mu);
  *user_agent = server->handed_out.emplace_back(it->first).c_str();
  *streams = it->second;
  return true;
}

extern "C" int64_t zbtest_server_requests(const zbtest_server *server) {
  return server->server->total_stats().requests;
}

extern "C" int64_t zbtest_server_records(const zbtest_server *server) {
  return server->server->total_stats().records;
}

extern "C" int64_t zbtest_server_streams_opened(const zbtest_server *server) {
  return server->server->total_stats().streams_opened;
}

extern "C" int64_t zbtest_server_streams_open(const zbtest_server *server) {
  return server->server->total_stats().streams_open;
}

extern "C" bool zbtest_server_wait_records(zbtest_server *server, const char *table, int64_t count,
                                           int timeout_ms) {
  const std::string name = table;
  Server &s = *server->server;
  return s.WaitFor([&] { return s.table_stats(name).records >= count; },
                   std::chrono::milliseconds(timeout_ms));
}

extern "C" bool zbtest_server_wait_streams_open(zbtest_server *server, int64_t count,
                                                int timeout_ms) {
  Server &s = *server->server;
  return s.WaitFor([&] { return s.total_stats().streams_open == count; },
                   std::chrono::milliseconds(timeout_ms));
}

extern "C" void zbtest_server_withhold_acks(zbtest_server *server, bool withhold) {
  server->server->faults().WithholdAcks(withhold);
}

extern "C" void zbtest_server_delay_acks(zbtest_server *server, int64_t delay_ms) {
  server->server->faults().DelayAcks(std::chrono::milliseconds(delay_ms));
}

extern "C" void zbtest_server_fail_after(zbtest_server *server, int64_t records, int grpc_code,
                                         const char *message) {
  server->server->faults().FailAfterRecords(records, StatusOf(grpc_code, message));
}

extern "C" void zbtest_server_refuse_streams(zbtest_server *server, int grpc_code,
                                             const char *message, int64_t count) {
  server->server->faults().RefuseStreams(StatusOf(grpc_code, message), count);
}

extern "C" void zbtest_server_stall(zbtest_server *server, bool stall) {
  server->server->faults().Stall(stall);
}

extern "C" bool zbtest_server_set_fault_plan(zbtest_server *server, const char *table,
                                             const char *plan_json) {
  zerobus::server::FaultPlan plan;
  std::string error;
  const nlohmann::json json = nlohmann::json::parse(plan_json, nullptr, false);
  if (!zerobus::server::FaultPlanFromJson(json, &plan, &error)) {
    std::fprintf(stderr, "zbtest_server_set_fault_plan: %s\n", error.c_str());
    return false;
  }
  server->server->faults().Set(table, plan);
  return true;
}

extern "C" void zbtest_server_clear_faults(zbtest_server *server) {
  server->server->faults().Clear();
}
