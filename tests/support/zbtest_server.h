/* The local Zerobus server for tests, as a C API so that cmocka tests of the C ABI can start
 * one in-process, point a client at it, inject faults and read back what it stored.
 *
 * Every function is thread-safe. Functions taking a server require a handle from
 * zbtest_server_start() that has not been stopped. */
#ifndef ZBTEST_SERVER_H
#define ZBTEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zbtest_server zbtest_server;

typedef struct zbtest_server_options {
  int port;       /* 0: pick a free port on 127.0.0.1 */
  bool null_sink; /* acknowledge on receipt and store nothing; records are still counted */
  bool log;       /* write a line per stream opened and closed to stderr */
  /* Tables to declare, as Delta DDL statements (see `zerobus serve --help`: one per line or
   * ending in ';'); their records are validated. NULL declares none. */
  const char *schema;
  /* Refuse streams to tables not declared in `schema` with NOT_FOUND, as the service does.
   * When false (the default) such tables are accepted and their records kept unchecked. */
  bool reject_undeclared_tables;
  /* Store rows in SQLite under this existing directory, as `zerobus serve --data-dir` does;
   * NULL keeps records in memory. zbtest_server_record() then returns a declared table's rows
   * as JSON objects. */
  const char *data_dir;
  /* Seed for random faults; 0 picks one at random. */
  uint64_t seed;
  /* Token federation: a PEM public key (`zerobus serve --federation-key`). The workspace side
   * (zbtest_server_workspace_url()) then exchanges JWTs signed with it for tokens, and every
   * stream needs one. NULL: no tokens. */
  const char *federation_key_file;
  /* Mutual TLS: an existing directory where the server makes its self-signed authority
   * (ca.pem), its certificate for 127.0.0.1, and a client certificate the authority signed
   * (client.pem, client-key.pem), which it then requires of every client. NULL: plaintext. */
  const char *mutual_tls_dir;
  /* The most rows per second a call may ingest, as `zerobus serve --max-rows-per-second`: the
   * server reads a call's next request only once its rows are paid for. 0: no limit. */
  double max_rows_per_second;
} zbtest_server_options;

/* Starts a server on 127.0.0.1; `options` may be NULL for the defaults (all zero). Returns NULL
 * (after printing why to stderr) when the server cannot start or `schema` does not parse. */
zbtest_server *zbtest_server_start(const zbtest_server_options *options);

/* Cancels every open call, stops the server and frees the handle together with every pointer
 * it handed out. NULL is ignored. */
void zbtest_server_stop(zbtest_server *server);

/* "http://127.0.0.1:PORT", valid until zbtest_server_stop(). */
const char *zbtest_server_endpoint(const zbtest_server *server);

/* "http(s)://127.0.0.1:PORT" of the workspace side (/oidc/v1/token) with a federation key,
 * else NULL; valid until zbtest_server_stop(). */
const char *zbtest_server_workspace_url(const zbtest_server *server);

/* The OAuth tokens the workspace side issued so far. */
int64_t zbtest_server_tokens_issued(const zbtest_server *server);

/* Records stored in `table` (catalog.schema.table), in arrival order. */
int64_t zbtest_server_record_count(const zbtest_server *server, const char *table);

/* Record `index` (0 = first) of `table`: sets *data and *len (and *is_json unless NULL) and
 * returns true, or returns false when there is no such record. *data stays valid until
 * zbtest_server_stop(). */
bool zbtest_server_record(zbtest_server *server, const char *table, int64_t index,
                          const uint8_t **data, size_t *len, bool *is_json);

/* Totals over all tables: ingest requests and records accepted, streams opened (create_stream
 * accepted) and streams whose call is still open. */
int64_t zbtest_server_requests(const zbtest_server *server);
int64_t zbtest_server_records(const zbtest_server *server);
int64_t zbtest_server_streams_opened(const zbtest_server *server);
int64_t zbtest_server_streams_open(const zbtest_server *server);

/* The `index`-th (0 = first, by name) user-agent that streams opened on `table` carried: sets
 * *user_agent (valid until zbtest_server_stop()) and *streams, the number of streams that
 * carried it, and returns true; false past the last. */
bool zbtest_server_user_agent(zbtest_server *server, const char *table, size_t index,
                              const char **user_agent, int64_t *streams);

/* Wait until `table` has received at least `count` records, or until exactly `count` streams
 * are open; false when `timeout_ms` passes first. */
bool zbtest_server_wait_records(zbtest_server *server, const char *table, int64_t count,
                                int timeout_ms);
bool zbtest_server_wait_streams_open(zbtest_server *server, int64_t count, int timeout_ms);

/* Faults; each applies to calls already open too. */

/* While `withhold` is true no ack goes out; turning it off sends each call's latest cumulative
 * ack at once. */
void zbtest_server_withhold_acks(zbtest_server *server, bool withhold);

/* Sends every ack `delay_ms` after its request arrived (0 = at once). */
void zbtest_server_delay_acks(zbtest_server *server, int64_t delay_ms);

/* One-shot, counted over all calls: the next `records` records are accepted, and the call whose
 * request would go beyond them ends with gRPC status `grpc_code` and `message` (that request is
 * not stored). */
void zbtest_server_fail_after(zbtest_server *server, int64_t records, int grpc_code,
                              const char *message);

/* The next `count` create_stream requests end their call with gRPC status `grpc_code` and
 * `message`; a negative count refuses until zbtest_server_clear_faults(), 0 accepts again. */
void zbtest_server_refuse_streams(zbtest_server *server, int grpc_code, const char *message,
                                  int64_t count);

/* While `stall` is true the server answers nothing (no create_stream response, no ack) and
 * reads no further request; calls stay open. */
void zbtest_server_stall(zbtest_server *server, bool stall);

/* Replaces the fault plan of `table` ("*": every table without a plan of its own) with
 * `plan_json`, as `zerobus serve --fault` and the admin endpoint take it, e.g.
 * {"fail_probability": 0.1, "fail_status": "UNAVAILABLE", "close_after_records": 100}.
 * Returns false (after printing why to stderr) when the plan does not parse. */
bool zbtest_server_set_fault_plan(zbtest_server *server, const char *table, const char *plan_json);

/* Back to normal behaviour. */
void zbtest_server_clear_faults(zbtest_server *server);

#ifdef __cplusplus
}
#endif

#endif /* ZBTEST_SERVER_H */
