#define ZB_EXPERIMENTAL_PERSISTENT
#include "chaos_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zbtest_arrow.h"
#include "zbtest_event.h"
#include "zbtest_ready_file.h"

void cu_die(const char *what) {
  fprintf(stderr, "chaos: %s\n", what);
  exit(1);
}

/* A stream's config with `options` and `on_event`, and the SDK for `endpoint`. */
static zb_config *configure(const char *endpoint, const char *const *options, zb_event_cb on_event,
                            void *user_data, zb_sdk **sdk_out) {
  zb_error *err = NULL;
  zb_config *cfg = NULL;
  /* The local server speaks plaintext, which the SDK speaks only when asked to. */
  if (zb_config_new(&cfg, &err) != ZB_OK ||
      zb_config_set(cfg, "transport.plaintext", "true", &err) != ZB_OK ||
      zb_sdk_new(endpoint, cfg, sdk_out, &err) != ZB_OK) {
    cu_die(zb_error_message(err));
  }
  for (const char *const *option = options; *option; option += 2) {
    if (zb_config_set(cfg, option[0], option[1], &err) != ZB_OK) cu_die(zb_error_message(err));
  }
  if (on_event && zb_config_set_event_callback(cfg, on_event, user_data, NULL, &err) != ZB_OK) {
    cu_die(zb_error_message(err));
  }
  return cfg;
}

zb_stream *cu_open_stream(const char *endpoint, const char *table, int persistent,
                          const char *const *options, zb_event_cb on_event, void *user_data,
                          zb_sdk **sdk_out) {
  zb_error *err = NULL;
  zb_config *cfg = configure(endpoint, options, on_event, user_data, sdk_out);
  const uint8_t *descriptor = NULL;
  size_t descriptor_len = 0;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  const zb_status opened =
      persistent ? zb_stream_new_persistent(*sdk_out, table, ZB_RECORD_PROTO, descriptor,
                                            descriptor_len, cfg, &stream, &err)
                 : zb_stream_new(*sdk_out, table, ZB_RECORD_PROTO, descriptor, descriptor_len, cfg,
                                 &stream, &err);
  if (opened != ZB_OK) {
    cu_die(zb_error_message(err));
  }
  zb_config_destroy(cfg);
  return stream;
}

void cu_start_server(const char *command, const char *listen, const char *data_dir, const char *ddl,
                     cu_server *server) {
  char ready_file[4200];
  snprintf(ready_file, sizeof ready_file, "%s/ready.json", data_dir);
  /* A server killed with SIGKILL leaves its ready file behind. */
  unlink(ready_file);
  server->pid = fork();
  if (server->pid < 0) cu_die("fork");
  if (server->pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    execl(command, command, "serve", "--listen", listen, "--data-dir", data_dir, "--table", ddl,
          "--ready-file", ready_file, (char *)NULL);
    _exit(127);
  }
  char error[512];
  if (!zbtest_ready_file_grpc_url(ready_file, server->pid, 30000, server->endpoint,
                                  sizeof server->endpoint, error, sizeof error)) {
    cu_die(error);
  }
}

void cu_kill_server(cu_server *server) {
  kill(server->pid, SIGKILL);
  waitpid(server->pid, NULL, 0);
}

zb_stream *cu_open_arrow_stream(const char *endpoint, const char *table, const char *const *options,
                                zb_event_cb on_event, void *user_data, zb_sdk **sdk_out) {
  zb_error *err = NULL;
  zb_config *cfg = configure(endpoint, options, on_event, user_data, sdk_out);
  struct ArrowSchema schema;
  zbtest_arrow_schema(&schema);
  zb_stream *stream = NULL;
  if (zb_stream_new_arrow(*sdk_out, table, &schema, cfg, &stream, &err) != ZB_OK) {
    cu_die(zb_error_message(err));
  }
  schema.release(&schema);
  zb_config_destroy(cfg);
  return stream;
}

cu_stored cu_read_stored(const char *data_dir, const char *table, int64_t records) {
  char path[4096];
  snprintf(path, sizeof path, "%s/zerobus.db", data_dir);
  char *query = sqlite3_mprintf("SELECT id FROM \"%w\"", table);
  sqlite3 *db = NULL;
  sqlite3_stmt *select = NULL;
  if (!query || sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, query, -1, &select, NULL) != SQLITE_OK) {
    cu_die("cannot read the server's SQLite file");
  }
  sqlite3_free(query);
  uint8_t *seen = calloc((size_t)records, 1);
  if (!seen) cu_die("out of memory");
  cu_stored stored = {0, 0, 0};
  while (sqlite3_step(select) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(select, 0);
    if (id < 0 || id >= records) cu_die("a row holds an id that was never ingested");
    ++stored.rows;
    if (seen[id]) ++stored.duplicates;
    seen[id] = 1;
  }
  for (int64_t id = 0; id < records; ++id) stored.missing += !seen[id];
  free(seen);
  sqlite3_finalize(select);
  sqlite3_close(db);
  return stored;
}

void cu_remove_dir(const char *dir) {
  char command[4200];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  if (system(command) != 0) fprintf(stderr, "chaos: could not remove %s\n", dir);
}
