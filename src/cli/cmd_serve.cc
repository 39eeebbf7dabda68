// `zerobus serve`: the local server as a process, for developing producers without a workspace.
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/directories.h"
#include "cli/flags.h"
#include "cli/signals.h"
#include "cli/table_declarations.h"
#include "server/fault_plan_json.h"
#include "server/loopback.h"
#include "server/row_reader.h"
#include "server/server.h"
#include "server/tls_certificate.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus serve [options]\n"
    "\n"
    "Serves the Zerobus Ingest gRPC protocol, and Arrow over Flight's DoPut for declared\n"
    "tables, until SIGINT or SIGTERM: plaintext on loopback, or TLS anywhere.\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT     address to listen on (default 127.0.0.1:50051; port 0 picks a\n"
    "                         free port). Without TLS, HOST must resolve to loopback addresses\n"
    "                         only (127.0.0.0/8, ::1), whatever its name looks like.\n"
    "  --table DDL            declare a table, e.g. 'main.default.events (id BIGINT NOT NULL,\n"
    "                         device STRING, tags ARRAY<STRING>)'; repeatable\n"
    "  --schema-file FILE     declare the tables of FILE: one DDL statement per line, or\n"
    "                         statements ending in ';'; '--' starts a comment; repeatable\n"
    "  --accept-undeclared-tables\n"
    "                         accept streams to tables that were not declared, keeping their\n"
    "                         records unchecked. This is the default when no table is declared;\n"
    "                         otherwise such streams fail with NOT_FOUND, as on the service.\n"
    "  --data-dir DIR         store rows durably in DIR/zerobus.db (SQLite; created if needed).\n"
    "                         Without it a temporary directory is used, printed at start-up\n"
    "                         and removed when the server stops.\n"
    "  --null-sink            acknowledge records on receipt and store nothing (benchmarks)\n"
    "  --tls                  TLS on the gRPC and HTTP sides with a self-signed certificate made\n"
    "                         at start-up (kept in the data directory: clients trust ca.pem;\n"
    "                         client.pem with client-key.pem is a client certificate it signed)\n"
    "  --tls-cert FILE --tls-key FILE\n"
    "                         TLS with this PEM certificate chain and key. Without TLS the\n"
    "                         server listens on loopback only.\n"
    "  --tls-client-ca FILE   mutual TLS: both sides require a client certificate signed by an\n"
    "                         authority of this PEM file (with --tls, DATA-DIR/ca.pem accepts\n"
    "                         DATA-DIR/client.pem)\n"
    "  --http-listen HOST:PORT\n"
    "                         the workspace side: GET /api/2.1/unity-catalog/tables/NAME and\n"
    "                         POST /oidc/v1/token (default: the --listen host, a free port)\n"
    "  --auth-file FILE       the OAuth client the token endpoint accepts, as ID:SECRET on the\n"
    "                         first line of FILE. Every stream must then present a bearer token\n"
    "                         it issued for the stream's table, and the Unity Catalog API and\n"
    "                         the admin endpoint a workspace token (one without\n"
    "                         authorization_details). Also from $ZEROBUS_AUTH (ID:SECRET).\n"
    "  --auth ID:SECRET       the same on the command line, where other users of the machine\n"
    "                         can read the secret (ps): prefer --auth-file or $ZEROBUS_AUTH\n"
    "  --federation-key PEM   accept token exchange (RFC 8693 token federation) from an\n"
    "                         identity provider whose JWTs are signed with this public key\n"
    "                         (RSA: RS256, P-256: ES256); the tokens issued expire no later\n"
    "                         than the JWT. Every stream must then present a token, and\n"
    "                         the Unity Catalog API and the admin endpoint a workspace token\n"
    "                         (an exchange without authorization_details), as with --auth\n"
    "  --token-lifetime DUR   how long issued tokens stay valid (default 1h)\n"
    "  --stream-lifetime DUR  end every stream after DUR with UNAVAILABLE (error code 6002), as\n"
    "                         the service does (default 15m; 0s: never). DUR is a number and\n"
    "                         ms, s, m or h.\n"
    "  --max-rows-per-second N, --max-bytes-per-second N\n"
    "                         slow each stream down to these rates, as the service throttles a\n"
    "                         stream over its quota: the next request is read only once the\n"
    "                         stream is back within them, so the client's writes wait (HTTP/2\n"
    "                         flow control) and its acks come later; nothing fails (default:\n"
    "                         no limit; the service's quotas are 100000 rows/s and 100 MB/s)\n"
    "  --close-signal-lead DUR\n"
    "                         send CloseStreamSignal this long before a stream's end (default\n"
    "                         30s)\n"
    "  --ready-file PATH      once listening, write the addresses to PATH as one JSON object,\n"
    "                         for scripts and tests: {\"pid\", \"grpc\", \"http\", \"admin\"\n"
    "                         (each {\"url\", \"host\", \"port\"}), \"data_dir\" (unless none)}.\n"
    "                         Written whole by a rename, so the file is either absent or\n"
    "                         complete; removed when the server stops.\n"
    "\n"
    "Faults (see the admin endpoint to change them while the server runs):\n"
    "  --fault TABLE:K=V,...  a fault plan for TABLE ('*': every table without its own);\n"
    "                         repeatable. Keys: fail_after_records, fail_probability,\n"
    "                         fail_streams_after_records, fail_status, fail_message,\n"
    "                         ack_delay_ms, withhold_acks, repeat_stale_ack_ms, stall,\n"
    "                         close_after_records, close_signal_ms, refuse_streams,\n"
    "                         refuse_status, refuse_message. Statuses are gRPC code names.\n"
    "  --seed N               seed for random faults (default: random, printed at start-up)\n"
    "  --admin-listen HOST:PORT\n"
    "                         the admin HTTP endpoint, loopback only (default 127.0.0.1:0):\n"
    "                         GET/PUT/DELETE /admin/faults[/TABLE], GET /admin/stats; with\n"
    "                         --auth or --federation-key, each request needs 'Authorization:\n"
    "                         Bearer TOKEN' with a workspace token from /oidc/v1/token\n"
    "  --help                 show this help\n"
    "\n"
    "Examples:\n"
    "  zerobus serve --data-dir data \\\n"
    "      --table 'main.default.events (id BIGINT NOT NULL, payload STRING)'\n"
    "  zerobus serve --listen 127.0.0.1:0 --schema-file tables.sql \\\n"
    "      --fault 'main.default.events:fail_after_records=500,fail_status=UNAVAILABLE'\n"
    "  zerobus serve --null-sink --listen 127.0.0.1:50051\n"
    "  ZEROBUS_AUTH=\"$(cat client.txt)\" zerobus serve --tls --listen 0.0.0.0:50051\n";

std::string ParseListen(const std::string &value, server::ServerOptions *options) {
  if (ParseHostPort(value, &options->host, &options->port)) return "";
  return "--listen wants HOST:PORT, got '" + value + "'";
}

// Reads ID:SECRET from `value` (whose origin `source` names) into options->auth. The message
// of a mistake never quotes the value: it may be the secret.
std::string ParseAuth(const std::string &value, const std::string &source,
                      server::ServerOptions *options) {
  const size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    return source + " wants CLIENT_ID:SECRET (neither part empty)";
  }
  options->auth = server::ClientCredentials{value.substr(0, colon), value.substr(colon + 1)};
  return "";
}

// The first line of `path`, for --auth-file, without its line break.
std::string ReadAuthFile(const std::string &path, server::ServerOptions *options) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line)) return "--auth-file: cannot read " + path;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return ParseAuth(line, "--auth-file " + path, options);
}

// Parses argv into `options`; on a usage error prints it and returns the exit status.
std::optional<int> ParseArgs(int argc, char **argv, server::ServerOptions *options,
                             bool *self_signed, std::string *ready_file) {
  bool accept_undeclared = false;
  Flags flags("serve", kUsage);
  flags.Value("--ready-file", [&](const std::string &v) {
    *ready_file = v;
    return v.empty() ? std::string("--ready-file wants a path") : std::string();
  });
  flags.Value("--listen", [&](const std::string &v) { return ParseListen(v, options); });
  flags.Switch("--null-sink", [&] { options->null_sink = true; });
  flags.Value("--data-dir", [&](const std::string &v) {
    options->data_dir = v;
    return v.empty() ? std::string("--data-dir wants a directory") : std::string();
  });
  flags.Value("--table", [&](const std::string &v) {
    const std::string error = DeclareTable(v, &options->tables);
    return error.empty() ? error : "--table: " + error;
  });
  flags.Value("--schema-file",
              [&](const std::string &v) { return DeclareTablesFromFile(v, &options->tables); });
  flags.Switch("--accept-undeclared-tables", [&] { accept_undeclared = true; });
  flags.Switch("--tls", [&] { *self_signed = true; });
  flags.Value("--tls-cert", [&](const std::string &v) {
    options->tls_cert_file = v;
    return std::string();
  });
  flags.Value("--tls-key", [&](const std::string &v) {
    options->tls_key_file = v;
    return std::string();
  });
  flags.Value("--tls-client-ca", [&](const std::string &v) {
    options->tls_client_ca_file = v;
    return std::string();
  });
  bool http_listen_given = false;
  flags.Value("--http-listen", [&](const std::string &v) {
    http_listen_given = true;
    if (!ParseHostPort(v, &options->http_host, &options->http_port)) {
      return "--http-listen wants HOST:PORT, got '" + v + "'";
    }
    return std::string();
  });
  int auth_sources = 0;
  flags.Value("--auth", [&](const std::string &v) {
    ++auth_sources;
    return ParseAuth(v, "--auth", options);
  });
  flags.Value("--auth-file", [&](const std::string &v) {
    ++auth_sources;
    return ReadAuthFile(v, options);
  });
  flags.Value("--federation-key", [&](const std::string &v) {
    options->federation_key_file = v;
    return v.empty() ? std::string("--federation-key wants a PEM file") : std::string();
  });
  flags.Value("--token-lifetime", [&](const std::string &v) {
    std::chrono::milliseconds lifetime;
    if (!ParseDuration(v, &lifetime) || lifetime.count() < 1000) {
      return "--token-lifetime wants a duration of at least 1s, got '" + v + "'";
    }
    options->token_lifetime = std::chrono::duration_cast<std::chrono::seconds>(lifetime);
    return std::string();
  });
  flags.Value("--stream-lifetime", [&](const std::string &v) {
    return ParseDuration(v, &options->stream_lifetime)
               ? ""
               : "--stream-lifetime wants a duration such as 15m, got '" + v + "'";
  });
  flags.Value("--close-signal-lead", [&](const std::string &v) {
    return ParseDuration(v, &options->close_signal_lead)
               ? ""
               : "--close-signal-lead wants a duration such as 30s, got '" + v + "'";
  });
  flags.Value("--max-rows-per-second", [&](const std::string &v) {
    long long rate;
    if (!ParseCount(v, &rate)) return "--max-rows-per-second wants a number, got '" + v + "'";
    options->max_rows_per_second = static_cast<double>(rate);
    return std::string();
  });
  flags.Value("--max-bytes-per-second", [&](const std::string &v) {
    long long rate;
    if (!ParseCount(v, &rate)) return "--max-bytes-per-second wants a number, got '" + v + "'";
    options->max_bytes_per_second = static_cast<double>(rate);
    return std::string();
  });
  flags.Value("--fault", [&](const std::string &v) {
    std::string table;
    server::FaultPlan plan;
    std::string error;
    if (!server::ParseFaultFlag(v, &table, &plan, &error)) return error;
    options->faults[table] = plan;
    return std::string();
  });
  flags.Value("--seed", [&](const std::string &v) {
    long long seed;
    if (!ParseCount(v, &seed)) return "--seed wants a number, got '" + v + "'";
    options->seed = static_cast<uint64_t>(seed);
    return std::string();
  });
  flags.Value("--admin-listen", [&](const std::string &v) {
    if (!ParseHostPort(v, &options->admin_host, &options->admin_port)) {
      return "--admin-listen wants HOST:PORT, got '" + v + "'";
    }
    if (!server::IsLoopbackHost(options->admin_host)) {
      return "--admin-listen must be on loopback, and " + options->admin_host +
             " is not (or resolves to an address that is not)";
    }
    return std::string();
  });
  if (std::optional<int> status = flags.Parse(argc, argv)) return status;
  if (!http_listen_given) options->http_port = 0;
  if (auth_sources > 1) {
    std::fprintf(stderr, "zerobus serve: give one of --auth and --auth-file\n");
    return 2;
  }
  const char *auth_variable = std::getenv("ZEROBUS_AUTH");
  if (auth_sources == 0 && auth_variable != nullptr && *auth_variable != '\0') {
    if (const std::string error = ParseAuth(auth_variable, "$ZEROBUS_AUTH", options);
        !error.empty()) {
      std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
      return 2;
    }
  }
  if (*self_signed && (!options->tls_cert_file.empty() || !options->tls_key_file.empty())) {
    std::fprintf(stderr, "zerobus serve: --tls makes its own certificate: drop --tls-cert/key\n");
    return 2;
  }
  if (options->tls_cert_file.empty() != options->tls_key_file.empty()) {
    std::fprintf(stderr, "zerobus serve: --tls-cert and --tls-key go together\n");
    return 2;
  }
  if (!options->tls_client_ca_file.empty() && !*self_signed && options->tls_cert_file.empty()) {
    std::fprintf(stderr, "zerobus serve: --tls-client-ca needs --tls or --tls-cert/key\n");
    return 2;
  }

  if (const std::string error = CheckDistinctNames(options->tables); !error.empty()) {
    std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
    return 2;
  }
  options->accept_undeclared_tables = accept_undeclared || options->tables.empty();
  return std::nullopt;
}

// gRPC reads each request into buffers of about its size, and the server parses records into
// strings of theirs; with glibc's defaults, freeing them handed the pages back to the system
// (large blocks are mapped one by one, and the heap's top is trimmed), so the next request
// faulted fresh pages in. Page faults were a third of the null sink's CPU per 10 KB record;
// keeping freed memory for reuse halved it. The server owns its process, so it may choose.
void KeepFreedMemoryForReuse() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: requests of up to 10 MiB fit
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

// Where each side of the server listens, as --ready-file writes it.
nlohmann::json Address(const std::string &url, const std::string &host, int port) {
  return {{"url", url}, {"host", host}, {"port", port}};
}

// Writes `ready` to `path` through a temporary file beside it and a rename, so that a reader
// polling for `path` sees it complete or not at all. An error message, or empty.
std::string WriteReadyFile(const std::string &path, const nlohmann::json &ready) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temporary, std::ios::trunc);
    // Replacing invalid UTF-8 (a host name, a directory) rather than throwing.
    file << ready.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    file.close();
    if (!file) {
      std::remove(temporary.c_str());
      return "--ready-file: cannot write " + temporary;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    return "--ready-file: cannot rename " + temporary + " to " + path + ": " + reason;
  }
  return "";
}

}  // namespace

int RunServe(int argc, char **argv) {
  KeepFreedMemoryForReuse();
  server::ServerOptions options;
  options.port = 50051;
  options.admin_port = 0;
  bool self_signed = false;
  std::string ready_file;
  if (std::optional<int> status = ParseArgs(argc, argv, &options, &self_signed, &ready_file)) {
    return *status;
  }
  options.log = [](const std::string &line) {
    std::fprintf(stderr, "zerobus serve: %s\n", line.c_str());
  };

  std::optional<TemporaryDirectory> temporary;
  if (!options.null_sink || self_signed) {
    std::string error;
    if (options.data_dir.empty()) {
      temporary.emplace();
      options.data_dir = temporary->path();
      if (options.data_dir.empty()) error = "cannot create a temporary directory";
    }
    if (error.empty()) MakeDirectory(options.data_dir, &error);
    server::TlsFiles tls;
    if (error.empty() && self_signed &&
        server::EnsureSelfSignedCertificate(options.data_dir, options.host, &tls, &error)) {
      options.tls_cert_file = tls.cert_file;
      options.tls_key_file = tls.key_file;
    }
    if (!error.empty()) {
      std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
      return 1;
    }
  }

  // Before any thread starts, so that every gRPC thread inherits the blocked signals.
  const StopSignals stop_signals;

  const size_t declared = options.tables.size();
  const bool accept_undeclared = options.accept_undeclared_tables;
  const bool null_sink = options.null_sink;
  const bool auth = options.auth.has_value() || !options.federation_key_file.empty();
  const std::string data_dir = options.data_dir;
  const std::string client_ca = options.tls_client_ca_file;
  const std::string grpc_host = options.host;
  const std::string http_host = options.http_host.empty() ? options.host : options.http_host;
  const std::string admin_host = options.admin_host;
  std::string error;
  std::unique_ptr<server::Server> server = server::Server::Start(std::move(options), &error);
  if (!server) {
    std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
    return 1;
  }
  if (!ready_file.empty()) {
    nlohmann::json ready = {{"pid", static_cast<long long>(getpid())},
                            {"grpc", Address(server->endpoint(), grpc_host, server->port())}};
    if (server->http_port() > 0) {
      ready["http"] = Address(server->workspace_url(), http_host, server->http_port());
    }
    if (server->admin_port() > 0) {
      const bool ipv6 = admin_host.find(':') != std::string::npos;
      const std::string url = "http://" + (ipv6 ? "[" + admin_host + "]" : admin_host) + ":" +
                              std::to_string(server->admin_port());
      ready["admin"] = Address(url, admin_host, server->admin_port());
    }
    if (!data_dir.empty()) ready["data_dir"] = data_dir;
    if (const std::string write_error = WriteReadyFile(ready_file, ready); !write_error.empty()) {
      std::fprintf(stderr, "zerobus serve: %s\n", write_error.c_str());
      server->Stop();
      return 1;
    }
  }
  // For people: scripts and tests wait for the ready file instead.
  std::printf("zerobus serve: listening on %s\n", server->endpoint().c_str());
  if (null_sink) {
    std::printf("zerobus serve: null sink: records are acknowledged on receipt, not stored\n");
  } else {
    std::printf("zerobus serve: storing rows in %s%s\n",
                server::RowReader::PathIn(data_dir).c_str(),
                temporary ? " (a temporary directory, removed on exit)" : "");
  }
  if (self_signed) {
    std::printf("zerobus serve: TLS with a self-signed certificate; clients trust %s/ca.pem\n",
                data_dir.c_str());
  }
  if (!client_ca.empty()) {
    std::printf("zerobus serve: clients need a certificate signed by an authority of %s\n",
                client_ca.c_str());
  }
  if (server->http_port() > 0) {
    std::printf("zerobus serve: workspace on %s (Unity Catalog tables API, /oidc/v1/token%s)\n",
                server->workspace_url().c_str(), auth ? "; streams need its tokens" : "");
  }
  if (server->admin_port() > 0) {
    std::printf("zerobus serve: admin on http://127.0.0.1:%d (faults seed %llu)\n",
                server->admin_port(), static_cast<unsigned long long>(server->faults().seed()));
  }
  std::printf("zerobus serve: %zu table(s) declared; %s\n", declared,
              accept_undeclared ? "streams to other tables are accepted unchecked"
                                : "streams to other tables fail with NOT_FOUND");
  std::fflush(stdout);

  const int signal_number = stop_signals.Wait();
  std::fprintf(stderr, "zerobus serve: %s received, stopping\n", strsignal(signal_number));
  server->Stop();
  if (!ready_file.empty()) std::remove(ready_file.c_str());
  return 0;
}

}  // namespace zerobus::cli
