/* Chaos: 4 threads stream records into one stream while the server, seeded, breaks the call at
 * random with retryable codes, delays acks, announces closes (CloseStreamSignal) and now and
 * then withholds acks. At the end every record must be acknowledged, every acknowledged record
 * must be in SQLite, and the duplicates there (records stored twice because a break lost their
 * ack) can be no more than the records the stream replayed. The ack events must follow each
 * other without a gap or a step back, and no error event may come.
 *
 *   chaos_test [--records N] [--seed S] [--pace-ms MS] [--lanes L] [--arrow | --persistent 1]
 *
 * --arrow streams the records as rows of Arrow record batches of 1 to 2,000 rows (an Arrow
 * stream, over Flight's DoPut): offsets count batches, the server acknowledges rows, and a batch
 * acknowledged in part replays only its other rows; the duplicates are bounded by the rows sent
 * again (the statistics' wire records beyond the rows ingested).
 *
 * --persistent 1 streams into a persistent stream (issue 23), which resumes each broken call
 * from the watermark the server committed: then no duplicate at all is allowed.
 *
 * --lanes sets stream.lanes (1 by default): the faults then hit whichever lane's call carries
 * the request they are armed for, and the watermark must stay cumulative across the lanes.
 *
 * --pace-ms sets the shortest time between two rounds of the storm (2 ms by default); a slow
 * build (ThreadSanitizer) needs a slower storm, or breaks come faster than acks can.  *
 * Prints its figures; exits non-zero on any violation. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zerobus/zerobus.h>

#include "chaos_util.h"
#include "zbtest_arrow.h"
#include "zbtest_event.h"
#include "zbtest_server.h"

#define TABLE "main.default.chaos"
#define THREADS 4
static const char USAGE[] =
    "usage: chaos_test [--records N] [--seed S] [--pace-ms MS] [--lanes L] "
    "[--arrow | --persistent 1]";
/* Breaks a run must see: 50 per million records (the ThreadSanitizer run streams fewer). */
#define BREAKS_PER_MILLION 50

typedef struct producer {
  zb_stream *stream;
  int64_t first_id;
  int64_t count;
  int64_t failed;
  char error[256];
  int arrow;       /* rows of Arrow batches rather than protobuf records */
  uint64_t random; /* the batches' sizes */
  int64_t batches; /* Arrow batches ingested: offsets taken */
} producer;

/* What the stream's event callback saw: ack events must follow each other, each starting right
 * after the last one's watermark. */
typedef struct ack_watch {
  pthread_mutex_t mu;
  uint64_t next;     /* the offset the next ack event must start at */
  int64_t backwards; /* ack events that did not */
  int64_t errors;    /* error events */
  char first_problem[256];
} ack_watch;

static void watch_event(zb_stream *stream, const zb_event *event, void *user_data) {
  (void)stream;
  ack_watch *watch = user_data;
  pthread_mutex_lock(&watch->mu);
  if (event->type == ZB_EVENT_ERROR) {
    if (watch->errors++ == 0 && watch->backwards == 0) {
      snprintf(watch->first_problem, sizeof watch->first_problem,
               "error event %" PRIu64 "..%" PRIu64 ": %s", event->first_offset, event->last_offset,
               zb_error_message(event->error));
    }
  } else if (event->first_offset != watch->next || event->last_offset < event->first_offset) {
    if (watch->backwards++ == 0 && watch->errors == 0) {
      snprintf(watch->first_problem, sizeof watch->first_problem,
               "ack event %" PRIu64 "..%" PRIu64 " after watermark %" PRIu64, event->first_offset,
               event->last_offset, watch->next);
    }
  } else {
    watch->next = event->last_offset + 1;
  }
  pthread_mutex_unlock(&watch->mu);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The storm, driven from the test so that breaks come at a steady pace whatever the request
 * sizes: every few milliseconds a break is armed at a random record count with a random
 * retryable code, acks get a random delay, and now and then every ack is withheld for a
 * moment. Every choice comes from `seed`, so a failing run can be replayed. */
typedef struct storm {
  zbtest_server *server;
  const char *table;
  uint64_t seed;
  int64_t pace_ms;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
} storm;

static uint64_t next_random(uint64_t *state) {
  /* xorshift64*: enough for choosing faults, and the same everywhere. */
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return *state * 2685821657736338717ull;
}

/* Waits `ms` or until the storm is told to stop; returns whether to go on. */
static int storm_pause(storm *s, int64_t ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == 0) {
  }
  const int go_on = !s->stop;
  pthread_mutex_unlock(&s->mu);
  return go_on;
}

static void *rage(void *arg) {
  static const char *const kRetryable[] = {"UNAVAILABLE",        "INTERNAL",          "ABORTED",
                                           "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "UNKNOWN"};
  storm *s = arg;
  uint64_t random = s->seed | 1;
  for (int round = 0;
       storm_pause(s, s->pace_ms + (int64_t)(next_random(&random) % (4 * s->pace_ms))); ++round) {
    /* One round in ten withholds every ack until the next round. */
    char plan[512];
    snprintf(plan, sizeof plan,
             "{\"fail_after_records\": %d, \"fail_status\": \"%s\", \"ack_delay_ms\": %d,"
             " \"withhold_acks\": %s, \"close_after_records\": 30000, \"close_signal_ms\": 50}",
             /* Up to twice the window: a replayed request (at most a window's records)
              * must get through now and then, or no call could ever make progress. */
             (int)(1 + next_random(&random) % 10000),
             kRetryable[next_random(&random) % (sizeof kRetryable / sizeof kRetryable[0])],
             (int)(next_random(&random) % 4), round % 10 == 9 ? "true" : "false");
    const int64_t opened = zbtest_server_streams_opened(s->server);
    if (!zbtest_server_set_fault_plan(s->server, s->table, plan)) {
      cu_die("the fault plan was refused");
    }
    /* Give the armed break its chance to fire before the next round replaces it, so the count
     * of breaks follows the records streamed rather than how fast this machine happens to be;
     * a round whose acks are withheld may never reach its break, hence the bound. */
    for (int64_t waited = 0; waited < 20 * s->pace_ms &&
                             zbtest_server_streams_opened(s->server) == opened && storm_pause(s, 1);
         ++waited) {
    }
  }
  return NULL;
}

/* Ingests the producer's rows as Arrow batches of 1 to 2,000 rows. */
static void produce_batches(producer *p) {
  for (int64_t i = 0; i < p->count;) {
    int64_t rows = 1 + (int64_t)(next_random(&p->random) % 2000);
    if (rows > p->count - i) rows = p->count - i;
    struct ArrowArray batch;
    zbtest_arrow_batch(&batch, p->first_id + i, rows, 0, NULL);
    zb_error *err = NULL;
    if (zb_stream_ingest_arrow(p->stream, &batch, NULL, &err) != ZB_OK) {
      if (p->failed++ == 0) snprintf(p->error, sizeof p->error, "%s", zb_error_message(err));
      zb_error_free(err);
    } else {
      ++p->batches;
    }
    i += rows;
  }
}

/* The rows an Arrow stream sent, replays included (its statistics' "wire" "records"). */
static int64_t rows_sent(zb_stream *stream) {
  char *json = NULL;
  zb_error *err = NULL;
  if (zb_stream_stats_json(stream, &json, NULL, &err) != ZB_OK) cu_die(zb_error_message(err));
  const char *wire = strstr(json, "\"wire\"");
  const char *records = wire ? strstr(wire, "\"records\":") : NULL;
  if (!records) cu_die("the statistics have no wire records");
  const int64_t rows = strtoll(records + strlen("\"records\":"), NULL, 10);
  zb_string_free(json);
  return rows;
}

static void *produce(void *arg) {
  producer *p = arg;
  uint8_t record[64];
  if (p->arrow) {
    produce_batches(p);
    return NULL;
  }
  for (int64_t i = 0; i < p->count; ++i) {
    const size_t len = zbtest_encode_event(p->first_id + i, "chaos", record, sizeof record);
    zb_error *err = NULL;
    if (zb_stream_ingest_proto(p->stream, record, len, NULL, &err) != ZB_OK) {
      if (p->failed++ == 0) snprintf(p->error, sizeof p->error, "%s", zb_error_message(err));
      zb_error_free(err);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  int64_t records = 1000000;
  uint64_t seed = 20261124;
  int64_t pace_ms = 2;
  int64_t lanes = 1;
  int arrow = 0;
  int persistent = 0;
  for (int i = 1; i < argc; i += 2) {
    if (strcmp(argv[i], "--arrow") == 0) {
      arrow = 1;
      --i; /* a flag without a value */
    } else if (i + 1 == argc) {
      cu_die(USAGE);
    } else if (strcmp(argv[i], "--records") == 0) {
      records = strtoll(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--seed") == 0) {
      seed = strtoull(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--pace-ms") == 0) {
      pace_ms = strtoll(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--lanes") == 0) {
      lanes = strtoll(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--persistent") == 0) {
      persistent = atoi(argv[i + 1]) != 0;
    } else {
      cu_die(USAGE);
    }
  }
  if (arrow && lanes != 1) cu_die("an Arrow stream has one lane");
  if (arrow && persistent) cu_die("--arrow and --persistent 1 exclude each other");
  const char *table = arrow ? ZBTEST_ARROW_TABLE : TABLE;
  if (lanes < 1 || lanes > 64) cu_die("--lanes must be 1 to 64");
  if (records < THREADS * 1000) cu_die("--records must be at least 4000");
  if (pace_ms < 1) cu_die("--pace-ms must be at least 1");

  char data_dir[] = "/tmp/zerobus-chaos-XXXXXX";
  if (!mkdtemp(data_dir)) cu_die("cannot make a data directory");
  zbtest_server_options options = {0};
  options.schema = TABLE " (id BIGINT, payload STRING); " ZBTEST_ARROW_DDL;
  options.reject_undeclared_tables = true;
  options.data_dir = data_dir;
  options.seed = seed;
  zbtest_server *server = zbtest_server_start(&options);
  if (!server) cu_die("the server did not start");
  zb_error *err = NULL;
  zb_sdk *sdk = NULL;
  char lanes_text[8];
  snprintf(lanes_text, sizeof lanes_text, "%" PRId64, lanes);
  ack_watch watch = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, ""};
  /* A small window: each break replays at most this much, as a latency-bound producer would
   * configure it (an Arrow stream's counts batches). An Arrow stream's frames carry at most 16
   * KiB: a batch travels in several, so a break can land inside one the server acknowledged in
   * part. */
  const char *window = arrow ? "4" : "5000";
  const char *request_bytes = arrow ? "16384" : "10485760";
  const char *const stream_options[] = {"recovery.backoff.ms",
                                        "5",
                                        "recovery.backoff.max.ms",
                                        "50",
                                        "recovery.retries",
                                        "1000",
                                        "stream.ack.timeout.ms",
                                        "2000",
                                        "stream.max.inflight.records",
                                        window,
                                        "stream.max.request.bytes",
                                        request_bytes,
                                        "stream.lanes",
                                        lanes_text,
                                        NULL};
  zb_stream *stream = arrow ? cu_open_arrow_stream(zbtest_server_endpoint(server), table,
                                                   stream_options, watch_event, &watch, &sdk)
                            : cu_open_stream(zbtest_server_endpoint(server), table, persistent,
                                             stream_options, watch_event, &watch, &sdk);

  const int64_t start = now_ms();
  producer producers[THREADS];
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; ++t) {
    producers[t] = (producer){
        stream, t * (records / THREADS), records / THREADS, 0, "", arrow, (seed + (uint64_t)t) | 1,
        0};
    if (t == THREADS - 1) producers[t].count = records - producers[t].first_id;
    pthread_create(&threads[t], NULL, produce, &producers[t]);
  }
  storm chaos = {server, table, seed, pace_ms, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                 0};
  pthread_t storm_thread;
  pthread_create(&storm_thread, NULL, rage, &chaos);
  /* Offsets taken: one per record, or one per Arrow batch. */
  int64_t offsets = arrow ? 0 : records;
  for (int t = 0; t < THREADS; ++t) {
    pthread_join(threads[t], NULL);
    offsets += producers[t].batches;
    if (producers[t].failed) {
      fprintf(stderr, "chaos_test: %" PRId64 " ingests failed: %s\n", producers[t].failed,
              producers[t].error);
      return 1;
    }
  }
  if (zb_stream_flush(stream, 300000, &err) != ZB_OK) cu_die(zb_error_message(err));
  const int64_t elapsed = now_ms() - start;
  pthread_mutex_lock(&chaos.mu);
  chaos.stop = 1;
  pthread_cond_signal(&chaos.cv);
  pthread_mutex_unlock(&chaos.mu);
  pthread_join(storm_thread, NULL);

  zb_stream_info info = ZB_STREAM_INFO_INIT;
  if (zb_stream_get_info(stream, &info, &err) != ZB_OK) cu_die(zb_error_message(err));
  /* What may be stored twice: records replayed, or an Arrow stream's rows sent again. */
  const int64_t resent = arrow ? rows_sent(stream) - records : (int64_t)info.records_replayed;
  if (zb_stream_close(stream, 60000, &err) != ZB_OK) cu_die(zb_error_message(err));
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  const int64_t breaks = zbtest_server_streams_opened(server) - lanes;
  zbtest_server_stop(server);

  const cu_stored stored = cu_read_stored(data_dir, table, records);
  printf("chaos: %" PRId64 " records from %d threads over %" PRId64
         " %slane%s%s in %.1f s; %" PRId64 " stream breaks, %" PRIu64 " recoveries, %" PRId64
         " %s sent again; %" PRId64 " rows in SQLite, %" PRId64 " duplicates\n",
         records, THREADS, lanes, persistent ? "persistent " : "", lanes == 1 ? "" : "s",
         arrow ? " (Arrow batches)" : "", elapsed / 1000.0, breaks, info.recoveries, resent,
         arrow ? "rows" : "records", stored.rows, stored.duplicates);

  int failures = 0;
  if (info.records_acked != (uint64_t)offsets) {
    fprintf(stderr, "chaos_test: %" PRIu64 " of %" PRId64 " offsets acknowledged\n",
            info.records_acked, offsets);
    ++failures;
  }
  const int64_t min_breaks = BREAKS_PER_MILLION * records / 1000000;
  if (breaks < min_breaks) {
    fprintf(stderr, "chaos_test: only %" PRId64 " stream breaks, fewer than %" PRId64 "\n", breaks,
            min_breaks);
    ++failures;
  }
  if (stored.missing > 0) {
    fprintf(stderr, "chaos_test: %" PRId64 " acknowledged records are not in SQLite\n",
            stored.missing);
    ++failures;
  }
  if (persistent && stored.duplicates > 0) {
    fprintf(stderr, "chaos_test: %" PRId64 " duplicates on a persistent stream\n",
            stored.duplicates);
    ++failures;
  }
  if (stored.duplicates > resent) {
    fprintf(stderr, "chaos_test: %" PRId64 " duplicates but only %" PRId64 " sent again\n",
            stored.duplicates, resent);
    ++failures;
  }
  /* zb_stream_close() delivered every event before it returned. */
  if (watch.backwards > 0 || watch.errors > 0 || watch.next != (uint64_t)offsets) {
    fprintf(stderr,
            "chaos_test: %" PRId64 " ack events out of step, %" PRId64
            " error events, acks up to %" PRIu64 " (%s)\n",
            watch.backwards, watch.errors, watch.next, watch.first_problem);
    ++failures;
  }
  cu_remove_dir(data_dir);
  return failures ? 1 : 0;
}
