// The local Zerobus-compatible server: serves EphemeralStream and Arrow Flight's DoPut on one
// address, in-process for tests or behind `zerobus serve`.
#ifndef ZEROBUS_SERVER_SERVER_H
#define ZEROBUS_SERVER_SERVER_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/faults.h"
#include "server/log_sink.h"
#include "server/oauth_token.h"
#include "server/row_store.h"
#include "server/stats.h"
#include "server/token_issuer.h"
#include "table/delta_type.h"

namespace zerobus::server {

struct ServerOptions {
  // Loopback by default. Plaintext (no TLS files) is allowed only on a host whose every
  // address is loopback (loopback.h).
  std::string host = "127.0.0.1";
  int port = 0;  // 0: pick a free port
  // Acknowledge on receipt and store nothing (records are still counted); for benchmarks.
  bool null_sink = false;
  // Store rows durably in SQLite under this existing directory (see sqlite_row_store.h);
  // empty: keep records in memory, as they arrived.
  std::string data_dir;
  // Tables with their schemas (see ddl_parser.h). Records sent to them are validated.
  std::vector<table::TableSchema> tables;
  // Whether a table not in `tables` is accepted without a schema, its records kept as they
  // arrive. The service refuses unknown tables with NOT_FOUND, and so does `zerobus serve` once
  // tables are declared; tests that do not care about schemas leave this on.
  bool accept_undeclared_tables = true;
  // The service refuses records and requests larger than 10 MiB with INVALID_ARGUMENT.
  size_t max_message_bytes = 10 * 1024 * 1024;
  // Faults in force from the start, by table ("*": every table without a plan of its own).
  std::map<std::string, FaultPlan> faults;
  // Seeds every random fault; without one the server picks one, reported by faults().seed().
  std::optional<uint64_t> seed;
  // TLS on the gRPC and the HTTP side with these PEM files (see tls_certificate.h for a
  // self-signed pair); both empty: plaintext, which the server allows on loopback only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: both sides require a client certificate that an authority of this PEM file
  // signed (mutual TLS); empty: no client certificate is asked for.
  std::string tls_client_ca_file;
  // The workspace side (workspace_http.h: Unity Catalog tables API and the OAuth token
  // endpoint) on `http_host` (empty: `host`): port -1 off, 0 a free port.
  std::string http_host;
  int http_port = -1;
  // When set, the token endpoint accepts only this client, and every stream must present a
  // bearer token it issued for the stream's table: UNAUTHENTICATED without a valid unexpired
  // token, PERMISSION_DENIED with one for another table. The Unity Catalog API and the admin
  // endpoint then want a workspace token (one issued without authorization_details).
  std::optional<ClientCredentials> auth;
  // Token federation: a PEM public key (RSA for RS256, P-256 for ES256) of a test identity
  // provider. The token endpoint then also answers token exchanges (RFC 8693) presenting a
  // JWT signed with it, issuing tokens that expire no later than the JWT; and every stream
  // must present a token, as with `auth`. Empty: no token exchange.
  std::string federation_key_file;
  std::chrono::seconds token_lifetime{3600};
  // The admin endpoint (admin_http.h), on a loopback host only: port -1 off, 0 a free port.
  std::string admin_host = "127.0.0.1";
  int admin_port = -1;
  // Streams end after this long, as on the service (UNAVAILABLE, error code 6002), with a
  // CloseStreamSignal this long before; a lifetime of zero never ends them.
  std::chrono::milliseconds stream_lifetime = std::chrono::minutes(15);
  std::chrono::milliseconds close_signal_lead = std::chrono::seconds(30);
  // Per-stream limits, off (0) by default; the service's quotas are now 100,000 rows/s and
  // 100 MB/s (reference/official-3x.md §4). A stream over a limit is slowed down, not failed:
  // its next request is read once it is back within, so the client's writes wait on HTTP/2
  // flow control.
  double max_rows_per_second = 0;
  double max_bytes_per_second = 0;
  // One line per stream opened and closed; empty = silent.
  LogSink log;
};

class Server {
 public:
  // Starts listening and serving. On failure returns null and describes why in `*error`.
  static std::unique_ptr<Server> Start(ServerOptions options, std::string *error);

  // Stops first.
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  // Cancels every open call, without waiting for withheld or delayed acks, and returns once all
  // calls have ended. Idempotent. Not to be called concurrently with itself.
  void Stop();

  // The port actually bound, and "http://HOST:PORT" ("https://" with TLS) for clients.
  int port() const;
  // The admin endpoint's port, or -1 when it is off.
  int admin_port() const;
  // The workspace side's port (-1 when off) and URL ("http(s)://HOST:PORT").
  int http_port() const;
  const std::string &workspace_url() const;

  // The tokens the OAuth endpoint issued; tests issue their own (an expired one, say).
  TokenIssuer &tokens();
  // The last token requests the OAuth endpoint answered (TokenRequestLog::kKept), oldest first,
  // with everything the client sent: tests check what the library asks for.
  std::vector<AnsweredTokenRequest> token_requests() const;
  const std::string &endpoint() const;

  // Run-time misbehaviour; see Faults. Valid until the server is destroyed.
  Faults &faults();

  // Records stored so far (always empty with null_sink). Valid until the server is destroyed.
  // With a data directory the store holds rows: see SqliteRowStore::Get.
  const RowStore &rows() const;

  // Counters for one table (zero for a table never used), or summed over all tables.
  TableStats table_stats(const std::string &table) const;
  TableStats total_stats() const;

  // Waits until `condition` holds, re-checking it whenever a counter changes (streams opened or
  // closed, requests accepted); false on timeout. Thread-safe.
  bool WaitFor(const std::function<bool()> &condition, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_SERVER_H
