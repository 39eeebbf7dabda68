#include "server/server.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "arrow_flight.grpc.pb.h"
#include "server/admin_http.h"
#include "server/flight_put.h"
#include "server/ingest_stream.h"
#include "server/loopback.h"
#include "server/persistent_streams.h"
#include "server/sqlite_row_store.h"
#include "server/stream_registry.h"
#include "server/subject_token_verifier.h"
#include "server/timer.h"
#include "server/tls_certificate.h"
#include "server/workspace_http.h"
#include "zerobus_service.grpc.pb.h"

namespace zerobus::server {
namespace {

using Zerobus = databricks::zerobus::Zerobus;

// A request header's value, or "" without one.
std::string Header(const grpc::CallbackServerContext &context, const char *name) {
  const auto &metadata = context.client_metadata();
  auto found = metadata.find(name);
  return found == metadata.end() ? std::string()
                                 : std::string(found->second.data(), found->second.size());
}

// Raw streams: the call sees the bytes of each request, so that it can read a batch's records
// in place.
class ZerobusService final : public Zerobus::WithRawCallbackMethod_EphemeralStream<
                                 Zerobus::WithRawCallbackMethod_PersistentStream<
                                     Zerobus::WithCallbackMethod_RetireStream<Zerobus::Service>>> {
 public:
  explicit ZerobusService(const StreamEnv *env) : env_(env) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *EphemeralStream(
      grpc::CallbackServerContext *context) override {
    return IngestStreamCall::Start(*env_, StreamRpc::kEphemeral, Header(*context, "authorization"),
                                   Header(*context, "user-agent"));
  }

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *PersistentStream(
      grpc::CallbackServerContext *context) override {
    return IngestStreamCall::Start(*env_, StreamRpc::kPersistent, Header(*context, "authorization"),
                                   Header(*context, "user-agent"));
  }

  grpc::ServerUnaryReactor *RetireStream(grpc::CallbackServerContext *context,
                                         const databricks::zerobus::RetireStreamRequest *request,
                                         databricks::zerobus::RetireStreamResponse *) override {
    grpc::ServerUnaryReactor *reactor = context->DefaultReactor();
    reactor->Finish(server::RetireStream(*env_, Header(*context, "authorization"), *request));
    return reactor;
  }

 private:
  const StreamEnv *env_;
};

// Arrow Flight's DoPut, the one Flight method Zerobus's Arrow ingestion uses; raw, as above.
class FlightService final
    : public ::arrow::flight::protocol::FlightService::WithRawCallbackMethod_DoPut<
          ::arrow::flight::protocol::FlightService::Service> {
 public:
  explicit FlightService(const StreamEnv *env) : env_(env) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *DoPut(
      grpc::CallbackServerContext *context) override {
    return FlightPutCall::Start(*env_, Header(*context, "authorization"),
                                Header(*context, "user-agent"), Header(*context, kTableNameHeader));
  }

 private:
  const StreamEnv *env_;
};

// gRPC wants IPv6 literals in brackets.
std::string HostPort(const std::string &host, int port) {
  const bool bare_ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return (bare_ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions opts)
      : options(std::move(opts)),
        faults(options.seed ? *options.seed : std::random_device{}(),
               [this] { registry.ForEach([](IngestStreamCall &call) { call.Kick(); }); }),
        tables(std::move(options.tables), options.accept_undeclared_tables),
        service(&env),
        flight(&env) {
    env.stats = &stats;
    env.faults = &faults;
    env.timer = &timer;
    env.registry = &registry;
    env.leases = &leases;
    env.log = &options.log;
    env.tables = &tables;
    env.max_message_bytes = options.max_message_bytes;
    env.tokens = options.auth || !options.federation_key_file.empty() ? &tokens : nullptr;
    env.stream_lifetime = options.stream_lifetime;
    env.close_signal_lead = options.close_signal_lead;
    env.max_rows_per_second = options.max_rows_per_second;
    env.max_bytes_per_second = options.max_bytes_per_second;
    for (const auto &entry : options.faults) faults.Set(entry.first, entry.second);
  }

  ServerOptions options;
  MemoryRowStore memory;  // without a data directory; stays empty with a null sink
  std::unique_ptr<SqliteRowStore> sqlite;
  RowStore *rows = &memory;
  Stats stats;
  // Destroyed after the registry and gRPC are gone, so that no call is left to schedule on it.
  Timer timer;
  StreamRegistry registry;
  PersistentLeases leases;
  Faults faults;
  TableCatalog tables;
  TokenIssuer tokens;
  TokenRequestLog token_requests;
  StreamEnv env;
  ZerobusService service;
  FlightService flight;
  std::unique_ptr<grpc::Server> grpc_server;
  std::unique_ptr<AdminHttp> admin;
  std::unique_ptr<WorkspaceHttp> workspace;
  int port = 0;
  std::string endpoint;
  std::string workspace_url;
  std::once_flag stopped;
};

std::unique_ptr<Server> Server::Start(ServerOptions options, std::string *error) {
  auto impl = std::make_unique<Impl>(std::move(options));
  const ServerOptions &opts = impl->options;
  const bool tls = !opts.tls_cert_file.empty() || !opts.tls_key_file.empty();
  const std::string http_host = opts.http_host.empty() ? opts.host : opts.http_host;
  auto fail = [error](const std::string &why) {
    if (error != nullptr) *error = why;
    return nullptr;
  };
  if (!tls && !opts.tls_client_ca_file.empty()) {
    return fail("client certificates need TLS: give a certificate and key");
  }
  if (!tls) {
    std::vector<std::string> hosts = {opts.host};
    if (opts.http_port >= 0 && http_host != opts.host) hosts.push_back(http_host);
    for (const std::string &host : hosts) {
      if (!IsLoopbackHost(host)) {
        return fail("plaintext is allowed on loopback only, and " + host +
                    " is not loopback (or resolves to an address that is not): listen on "
                    "127.0.0.1 or turn TLS on");
      }
    }
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls) {
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    std::string why;
    if (opts.tls_cert_file.empty() || opts.tls_key_file.empty()) {
      return fail("TLS needs both a certificate and a key file");
    }
    if (!ReadTextFile(opts.tls_key_file, &pair.private_key, &why) ||
        !ReadTextFile(opts.tls_cert_file, &pair.cert_chain, &why)) {
      return fail(why);
    }
    grpc::SslServerCredentialsOptions ssl(
        opts.tls_client_ca_file.empty()
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    if (!opts.tls_client_ca_file.empty() &&
        !ReadTextFile(opts.tls_client_ca_file, &ssl.pem_root_certs, &why)) {
      return fail(why);
    }
    ssl.pem_key_cert_pairs.push_back(pair);
    credentials = grpc::SslServerCredentials(ssl);
  }
  if (!impl->options.data_dir.empty() && !impl->options.null_sink) {
    std::string why;
    impl->sqlite = SqliteRowStore::Open(impl->options.data_dir, impl->tables, &why);
    if (!impl->sqlite) {
      if (error != nullptr) *error = why;
      return nullptr;
    }
    impl->rows = impl->sqlite.get();
  }
  impl->env.store = impl->options.null_sink ? nullptr : impl->rows;
  const std::string address = HostPort(impl->options.host, impl->options.port);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials, &impl->port);
  // Roomier than the limit, so that an oversized request reaches the stream, which refuses it
  // with INVALID_ARGUMENT as the service does, instead of gRPC's RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(
      2 * impl->options.max_message_bytes + (1 << 20), std::numeric_limits<int>::max())));
  // gRPC enables SO_REUSEPORT by default, which would let a second server share a busy port
  // instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&impl->service);
  builder.RegisterService(&impl->flight);
  impl->grpc_server = builder.BuildAndStart();
  if (!impl->grpc_server) {
    if (error != nullptr) *error = "cannot listen on " + address;
    return nullptr;
  }
  const std::string scheme = tls ? "https://" : "http://";
  impl->endpoint = scheme + HostPort(impl->options.host, impl->port);
  if (impl->options.http_port >= 0) {
    WorkspaceHttpOptions http;
    http.host = http_host;
    http.tls_cert_file = opts.tls_cert_file;
    http.tls_key_file = opts.tls_key_file;
    http.tls_client_ca_file = opts.tls_client_ca_file;
    http.port = impl->options.http_port;
    http.credentials = impl->options.auth;
    if (!opts.federation_key_file.empty()) {
      std::string why;
      http.federation = SubjectTokenVerifier::Load(opts.federation_key_file, &why);
      if (!http.federation) {
        if (error != nullptr) *error = why;
        impl->grpc_server->Shutdown();
        return nullptr;
      }
    }
    http.token_lifetime = impl->options.token_lifetime;
    http.storage_location = impl->options.data_dir.empty()
                                ? "memory://zerobus-local"
                                : "file://" + impl->options.data_dir + "/zerobus.db";
    http.created_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    std::string why;
    impl->workspace =
        WorkspaceHttp::Start(http, &impl->tables, &impl->tokens, &impl->token_requests, &why);
    if (!impl->workspace) {
      if (error != nullptr) *error = "workspace HTTP endpoint: " + why;
      impl->grpc_server->Shutdown();
      return nullptr;
    }
    impl->workspace_url = scheme + HostPort(http.host, impl->workspace->port());
  }
  if (impl->options.admin_port >= 0) {
    const bool authenticated = impl->options.auth || !impl->options.federation_key_file.empty();
    std::string why = "the admin endpoint must listen on loopback";
    if (IsLoopbackHost(impl->options.admin_host)) {
      impl->admin =
          AdminHttp::Start(impl->options.admin_host, impl->options.admin_port, &impl->faults,
                           &impl->stats, authenticated ? &impl->tokens : nullptr, &why);
    }
    if (!impl->admin) {
      if (error != nullptr) *error = why;
      impl->grpc_server->Shutdown();
      return nullptr;
    }
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
}

void Server::Stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->admin.reset();
    impl_->workspace.reset();
    // A deadline of now cancels every open call at once: an ingest call never ends by itself.
    impl_->grpc_server->Shutdown(std::chrono::system_clock::now());
    impl_->registry.WaitUntilEmpty();
    impl_->grpc_server->Wait();
    // Answers what the store still holds; the calls have ended, so nothing is acknowledged.
    if (impl_->sqlite) impl_->sqlite->Stop();
  });
}

int Server::port() const {
  return impl_->port;
}

int Server::http_port() const {
  return impl_->workspace ? impl_->workspace->port() : -1;
}

const std::string &Server::workspace_url() const {
  return impl_->workspace_url;
}

TokenIssuer &Server::tokens() {
  return impl_->tokens;
}

std::vector<AnsweredTokenRequest> Server::token_requests() const {
  return impl_->token_requests.Snapshot();
}

int Server::admin_port() const {
  return impl_->admin ? impl_->admin->port() : -1;
}

const std::string &Server::endpoint() const {
  return impl_->endpoint;
}

Faults &Server::faults() {
  return impl_->faults;
}

const RowStore &Server::rows() const {
  return *impl_->rows;
}

TableStats Server::table_stats(const std::string &table) const {
  return impl_->stats.ForTable(table);
}

TableStats Server::total_stats() const {
  return impl_->stats.Total();
}

bool Server::WaitFor(const std::function<bool()> &condition, std::chrono::milliseconds timeout) {
  return impl_->stats.WaitFor(condition, timeout);
}

}  // namespace zerobus::server
