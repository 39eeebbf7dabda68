/* What the chaos programs share: opening a stream that recovers, reading back what the
 * server stored in SQLite, and giving up with a message. */
#ifndef ZB_TESTS_CHAOS_UTIL_H
#define ZB_TESTS_CHAOS_UTIL_H

#include <stdint.h>
#include <sys/types.h>
#include <zerobus/zerobus.h>

/* Prints "chaos: <what>" and exits with status 1. */
void cu_die(const char *what);

/* An SDK for `endpoint` (*sdk_out, owned by the caller) and a protobuf stream of the test Event
 * schema into `table`, persistent (zb_stream_new_persistent()) when `persistent` is non-zero,
 * with `options` ("key", "value", ..., NULL) set and its events going to `on_event` (with
 * `user_data`) unless it is NULL; dies on any error. */
zb_stream *cu_open_stream(const char *endpoint, const char *table, int persistent,
                          const char *const *options, zb_event_cb on_event, void *user_data,
                          zb_sdk **sdk_out);

/* As cu_open_stream(), an Arrow stream of zbtest_arrow.h's schema. */
zb_stream *cu_open_arrow_stream(const char *endpoint, const char *table, const char *const *options,
                                zb_event_cb on_event, void *user_data, zb_sdk **sdk_out);

/* What the server stored in `table` of DATA_DIR/zerobus.db, for records with ids
 * 0..records-1 (any other id is fatal). */
typedef struct cu_stored {
  int64_t rows;
  int64_t duplicates; /* rows holding an id already seen */
  int64_t missing;    /* ids with no row */
} cu_stored;
cu_stored cu_read_stored(const char *data_dir, const char *table, int64_t records);

/* A `zerobus serve` process (ZEROBUS_COMMAND) and its gRPC endpoint. */
typedef struct cu_server {
  pid_t pid;
  char endpoint[64];
} cu_server;

/* Starts `command serve` on `listen` with `data_dir` and the table of `ddl` declared, and waits
 * for its ready file, which it writes once it listens, in `data_dir`; dies when it does not
 * come. */
void cu_start_server(const char *command, const char *listen, const char *data_dir, const char *ddl,
                     cu_server *server);

/* Kills the server with SIGKILL and reaps it. */
void cu_kill_server(cu_server *server);

/* Removes a data directory made for the run. */
void cu_remove_dir(const char *dir);

#endif /* ZB_TESTS_CHAOS_UTIL_H */
