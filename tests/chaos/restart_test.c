/* A stream survives its server being killed: records flow into a `zerobus serve` process, the
 * process is killed with SIGKILL mid-stream and restarted on the same port and data directory,
 * and the stream recovers. Every record ends acknowledged, and every acknowledged record is in
 * SQLite afterwards.
 *
 *   restart_test ZEROBUS_COMMAND */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zerobus/zerobus.h>

#include "chaos_util.h"
#include "zbtest_event.h"

#define TABLE "main.default.restart"
#define DDL TABLE " (id BIGINT, payload STRING)"
#define RECORDS 200000

/* Tells the main thread when the record it waits for has an offset, and the producer when the
 * server has been killed: the second half of the records waits for it, so that some are always
 * sent to a dead server (a fast producer could otherwise have them all acknowledged first). */
static pthread_mutex_t issued_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t issued_cv = PTHREAD_COND_INITIALIZER;
static int64_t issued = 0;
static int server_killed = 0;

static void *produce(void *arg) {
  zb_stream *stream = arg;
  uint8_t record[64];
  for (int64_t id = 0; id < RECORDS; ++id) {
    if (id % 1000 == 0) {
      pthread_mutex_lock(&issued_mu);
      issued = id;
      pthread_cond_broadcast(&issued_cv);
      while (id == RECORDS / 2 && !server_killed) pthread_cond_wait(&issued_cv, &issued_mu);
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
  if (argc != 2) cu_die("usage: restart_test ZEROBUS_COMMAND");
  char data_dir[] = "/tmp/zerobus-restart-XXXXXX";
  if (!mkdtemp(data_dir)) cu_die("cannot make a data directory");
  cu_server server;
  cu_start_server(argv[1], "127.0.0.1:0", data_dir, DDL, &server);
  char listen[64];
  snprintf(listen, sizeof listen, "%s", server.endpoint + strlen("http://"));

  zb_error *err = NULL;
  zb_sdk *sdk = NULL;
  zb_stream *stream = cu_open_stream(
      server.endpoint, TABLE, 0,
      (const char *const[]){"recovery.backoff.ms", "20", "recovery.backoff.max.ms", "200",
                            "recovery.retries", "200", "recovery.timeout.ms", "5000", NULL},
      NULL, NULL, &sdk);

  pthread_t producer;
  pthread_create(&producer, NULL, produce, stream);
  /* Mid-stream: some records are durable, more are in flight. */
  pthread_mutex_lock(&issued_mu);
  while (issued <= RECORDS / 10) pthread_cond_wait(&issued_cv, &issued_mu);
  pthread_mutex_unlock(&issued_mu);
  if (zb_stream_wait_for_offset(stream, RECORDS / 10, 60000, &err) != ZB_OK) {
    cu_die(zb_error_message(err));
  }
  cu_kill_server(&server);
  pthread_mutex_lock(&issued_mu);
  server_killed = 1;
  pthread_cond_broadcast(&issued_cv);
  pthread_mutex_unlock(&issued_mu);
  cu_start_server(argv[1], listen, data_dir, DDL, &server);
  pthread_join(producer, NULL);
  if (zb_stream_flush(stream, 120000, &err) != ZB_OK) cu_die(zb_error_message(err));
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  if (zb_stream_get_info(stream, &info, &err) != ZB_OK) cu_die(zb_error_message(err));
  if (zb_stream_close(stream, 60000, &err) != ZB_OK) cu_die(zb_error_message(err));
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  kill(server.pid, SIGTERM);
  waitpid(server.pid, NULL, 0);

  const cu_stored stored = cu_read_stored(data_dir, TABLE, RECORDS);
  printf("restart: %d records, killed the server after %d were durable; %" PRIu64
         " recoveries, %" PRIu64 " records replayed; %" PRId64 " rows, %" PRId64 " missing\n",
         RECORDS, RECORDS / 10, info.recoveries, info.records_replayed, stored.rows,
         stored.missing);
  cu_remove_dir(data_dir);
  return info.records_acked == RECORDS && info.recoveries >= 1 && stored.missing == 0 ? 0 : 1;
}
