/* A stream survives its server being killed: records flow into a `zerobus serve` process, the
 * process is killed with SIGKILL mid-stream and restarted on the same port and data directory,
 * and the stream recovers. Every record ends acknowledged, and every acknowledged record is in
 * SQLite afterwards.
 *
 *   restart_test ZEROBUS_COMMAND */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zerobus/zerobus.h>

#include "zbtest_event.h"

#define TABLE "main.default.restart"
#define RECORDS 200000

typedef struct server_process {
  pid_t pid;
  FILE *out;
  char endpoint[64];
} server_process;

static void die(const char *what) {
  fprintf(stderr, "restart_test: %s\n", what);
  exit(1);
}

/* Starts `zerobus serve` on `listen` and reads its announcement line, which comes once it
 * listens. */
static void start_server(const char *command, const char *listen, const char *data_dir,
                         server_process *server) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) die("pipe");
  server->pid = fork();
  if (server->pid < 0) die("fork");
  if (server->pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execl(command, command, "serve", "--listen", listen, "--data-dir", data_dir, "--table",
          TABLE " (id BIGINT, payload STRING)", (char *)NULL);
    _exit(127);
  }
  close(pipe_fds[1]);
  server->out = fdopen(pipe_fds[0], "r");
  char line[512];
  while (fgets(line, sizeof line, server->out)) {
    const char *url = strstr(line, "listening on http://");
    if (url) {
      snprintf(server->endpoint, sizeof server->endpoint, "%s", url + strlen("listening on "));
      server->endpoint[strcspn(server->endpoint, "\r\n")] = '\0';
      return;
    }
  }
  die("zerobus serve exited before it listened");
}

static void kill_server(server_process *server) {
  kill(server->pid, SIGKILL);
  waitpid(server->pid, NULL, 0);
  fclose(server->out);
}

/* Tells the main thread when the record it waits for has an offset. */
static pthread_mutex_t issued_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t issued_cv = PTHREAD_COND_INITIALIZER;
static int64_t issued = 0;

static void *produce(void *arg) {
  zb_stream *stream = arg;
  uint8_t record[64];
  for (int64_t id = 0; id < RECORDS; ++id) {
    if (id % 1000 == 0) {
      pthread_mutex_lock(&issued_mu);
      issued = id;
      pthread_cond_broadcast(&issued_cv);
      pthread_mutex_unlock(&issued_mu);
    }
    const size_t len = zbtest_encode_event(id, "restart", record, sizeof record);
    zb_error *err = NULL;
    if (zb_stream_ingest_proto(stream, record, len, NULL, &err) != ZB_OK) {
      fprintf(stderr, "restart_test: ingest %" PRId64 ": %s\n", id, zb_error_message(err));
      exit(1);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2) die("usage: restart_test ZEROBUS_COMMAND");
  char data_dir[] = "/tmp/zerobus-restart-XXXXXX";
  if (!mkdtemp(data_dir)) die("cannot make a data directory");
  server_process server;
  start_server(argv[1], "127.0.0.1:0", data_dir, &server);
  char listen[64];
  snprintf(listen, sizeof listen, "%s", server.endpoint + strlen("http://"));

  zb_error *err = NULL;
  zb_sdk *sdk = NULL;
  zb_config *cfg = NULL;
  if (zb_sdk_new(server.endpoint, NULL, &sdk, &err) != ZB_OK ||
      zb_config_new(&cfg, &err) != ZB_OK ||
      zb_config_set(cfg, "recovery.backoff.ms", "20", &err) != ZB_OK ||
      zb_config_set(cfg, "recovery.backoff.max.ms", "200", &err) != ZB_OK ||
      zb_config_set(cfg, "recovery.retries", "200", &err) != ZB_OK ||
      zb_config_set(cfg, "recovery.timeout.ms", "5000", &err) != ZB_OK) {
    die(zb_error_message(err));
  }
  const uint8_t *descriptor = NULL;
  size_t descriptor_len = 0;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  if (zb_stream_new(sdk, TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len, cfg, &stream, &err) !=
      ZB_OK) {
    die(zb_error_message(err));
  }
  zb_config_destroy(cfg);

  pthread_t producer;
  pthread_create(&producer, NULL, produce, stream);
  /* Mid-stream: some records are durable, more are in flight. */
  pthread_mutex_lock(&issued_mu);
  while (issued <= RECORDS / 10) pthread_cond_wait(&issued_cv, &issued_mu);
  pthread_mutex_unlock(&issued_mu);
  if (zb_stream_wait_for_offset(stream, RECORDS / 10, 60000, &err) != ZB_OK) {
    die(zb_error_message(err));
  }
  kill_server(&server);
  start_server(argv[1], listen, data_dir, &server);
  pthread_join(producer, NULL);
  if (zb_stream_flush(stream, 120000, &err) != ZB_OK) die(zb_error_message(err));
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  if (zb_stream_get_info(stream, &info, &err) != ZB_OK) die(zb_error_message(err));
  if (zb_stream_close(stream, 60000, &err) != ZB_OK) die(zb_error_message(err));
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  kill(server.pid, SIGTERM);
  waitpid(server.pid, NULL, 0);
  fclose(server.out);

  char path[4096];
  snprintf(path, sizeof path, "%s/zerobus.db", data_dir);
  sqlite3 *db = NULL;
  sqlite3_stmt *select = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT id FROM \"" TABLE "\"", -1, &select, NULL) != SQLITE_OK) {
    die("cannot read the SQLite file");
  }
  uint8_t *seen = calloc(RECORDS, 1);
  int64_t rows = 0;
  while (sqlite3_step(select) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(select, 0);
    if (id < 0 || id >= RECORDS) die("a row holds an id that was never ingested");
    seen[id] = 1;
    ++rows;
  }
  sqlite3_finalize(select);
  sqlite3_close(db);
  int64_t missing = 0;
  for (int64_t id = 0; id < RECORDS; ++id) missing += !seen[id];
  free(seen);
  printf("restart: %d records, killed the server after %d were durable; %" PRIu64
         " recoveries, %" PRIu64 " records replayed; %" PRId64 " rows, %" PRId64 " missing\n",
         RECORDS, RECORDS / 10, info.recoveries, info.records_replayed, rows, missing);
  char remove_dir[4200];
  snprintf(remove_dir, sizeof remove_dir, "rm -rf '%s'", data_dir);
  if (system(remove_dir) != 0) fprintf(stderr, "restart_test: could not remove %s\n", data_dir);
  return info.records_acked == RECORDS && info.recoveries >= 1 && missing == 0 ? 0 : 1;
}
