/* Helpers shared by the cmocka tests of the C API: a local server per test, streams opened as a
 * C user opens them, Event records, and assertions on a status together with its error object.
 *
 * Every helper asserts with cmocka (so a failure points at the caller's line where it can) and
 * owns nothing it hands back: the caller frees what it receives. */
#ifndef ZB_TESTS_C_TEST_UTIL_H
#define ZB_TESTS_C_TEST_UTIL_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <zerobus/zerobus.h>

#include "zbtest_event.h"
#include "zbtest_server.h"

/* The table every test writes to unless it needs several. */
#define TU_TABLE "main.default.events"

/* What a test group's setup prepares: a fresh server (faults never leak between tests) and an
 * SDK pointed at it. Teardown frees both even when the test failed. */
typedef struct tu_env {
  zbtest_server *server;
  zb_sdk *sdk;
} tu_env;

/* cmocka group/test fixtures building a tu_env in *state. */
int tu_setup(void **state);
int tu_teardown(void **state);

/* Milliseconds on a monotonic clock. */
int64_t tu_now_ms(void);

/* Sleeps `ms` milliseconds. Only for holding a state while asserting something does NOT
 * happen; never to wait for a condition. */
void tu_sleep_ms(int64_t ms);

/* A value for `zb_error *` that no allocation returns, to check that a call overwrites *err
 * (with NULL on success). TU_EXPECT recognizes it. */
#define TU_ERR_SENTINEL ((zb_error *)(uintptr_t)0x1)

/* Asserts that `rc` is `expected` and that the error object agrees: NULL on ZB_OK; otherwise
 * present, with the same code and a non-empty message. Frees *err and sets it to NULL. */
#define TU_EXPECT(expected, err, call) \
  tu_expect_((call), &(err), (expected), #call, __FILE__, __LINE__)
void tu_expect_(zb_status rc, zb_error **err, zb_status expected, const char *call,
                const char *file, int line);

/* As TU_EXPECT for a failure, but hands the error object to the caller (who frees it). */
#define TU_EXPECT_ERROR(expected, err, call) \
  tu_expect_error_((call), &(err), (expected), #call, __FILE__, __LINE__)
zb_error *tu_expect_error_(zb_status rc, zb_error **err, zb_status expected, const char *call,
                           const char *file, int line);

/* A new config with `pairs` applied: "key", "value", ..., NULL. Asserts every set succeeds. */
zb_config *tu_config(const char *const *pairs);

/* Sets one option, asserting success. */
void tu_config_set(zb_config *cfg, const char *key, const char *value);

/* Opens a protobuf stream of the Event schema (or a JSON stream) into `table`, asserting
 * success. `cfg` may be NULL. */
zb_stream *tu_open_proto(zb_sdk *sdk, const char *table, const zb_config *cfg);
zb_stream *tu_open_json(zb_sdk *sdk, const char *table, const zb_config *cfg);

/* A serialized Event{id, payload} in `buf` (at least TU_EVENT_CAP bytes); returns its length. */
#define TU_EVENT_CAP 256
size_t tu_event(int64_t id, const char *payload, uint8_t *buf);

/* Decodes an Event as tu_event() encodes it (id, then an optional payload): sets *id and
 * returns true, or returns false when the bytes are not such an Event. */
bool tu_decode_event_id(const uint8_t *data, size_t len, int64_t *id);

/* Asserts that the server stored record `index` of `table` as exactly `data`/`len`, of the
 * given kind. */
void tu_assert_stored(zbtest_server *server, const char *table, int64_t index, const void *data,
                      size_t len, bool is_json);

/* Asserts that the stream has exactly `count` unacknowledged records (and frees the list). */
void tu_assert_unacked_count(zb_stream *stream, size_t count);

/* Polls `stream` (no event callback) until an event arrives or `timeout_ms` passes; returns
 * true with *event filled (its error owned by the caller), false on timeout. */
bool tu_poll_one(zb_stream *stream, zb_event *event, int32_t timeout_ms);

/* Drains every event queued now (timeout 0) and checks the ack events: contiguous from
 * *next_ack (updated), never overlapping, every event an ack. Returns the events seen. */
size_t tu_drain_acks(zb_stream *stream, uint64_t *next_ack);

/* Whether `haystack` contains `needle`. */
bool tu_contains(const char *haystack, const char *needle);

#endif /* ZB_TESTS_C_TEST_UTIL_H */

/* ---- Many threads ingesting into one stream ---------------------------------------------- */

/* One ingesting thread: `count` Event records, record `seq` of thread `index` having the id
 * tu_thread_record_id(index, seq), each ingested on its own; the offsets it got go to
 * offsets[seq]. */
typedef struct tu_ingester {
  zb_stream *stream;
  int index;
  int count;
  uint64_t *offsets; /* `count` entries, allocated by tu_ingesters_new() */
  pthread_t self;    /* set by the thread itself */
  int failed;        /* ingests that did not return ZB_OK */
  char first_error[256];
} tu_ingester;

#define TU_THREAD_ID_BASE 1000000
int64_t tu_thread_record_id(int index, int seq);

/* `threads` ingesters of `per_thread` records each into `stream`. */
tu_ingester *tu_ingesters_new(zb_stream *stream, int threads, int per_thread);
void tu_ingesters_free(tu_ingester *ingesters, int threads);

/* Starts every ingester on a thread of its own, and joins them; asserts every ingest
 * succeeded and that each thread's offsets are strictly increasing. */
void tu_ingesters_run(tu_ingester *ingesters, int threads);

/* Whether `thread` is one of the ingesters' threads. */
bool tu_ingesters_include(const tu_ingester *ingesters, int threads, pthread_t thread);

/* Asserts that the server holds exactly the ingesters' records in `table`: each record at the
 * index of the offset its thread received, each thread's records in its sequence order. */
void tu_ingesters_verify_stored(const tu_ingester *ingesters, int threads, zbtest_server *server,
                                const char *table);

/* An absolute CLOCK_REALTIME deadline `ms` from now, for pthread_cond_timedwait. */
struct timespec tu_deadline(int64_t ms);

/* A serialized Event{id, payload of `payload_len` 'x' characters} in a new malloc'd buffer
 * (*out, freed by the caller); returns its length. */
size_t tu_big_event(int64_t id, size_t payload_len, uint8_t **out);

/* ---- An event callback that records what it sees ----------------------------------------- */

typedef struct tu_event_log {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t next_ack; /* the first offset the next ack (or error) event must cover */
  int64_t acks;      /* ack events */
  int errors;        /* error events; the first one's details below */
  uint64_t error_first, error_last;
  zb_status error_code;
  int32_t error_grpc;
  int32_t error_retryable;
  bool error_has_message;
  int violations; /* events out of order, overlapping or malformed; the first in `what` */
  char what[256];
  int freed; /* free_user_data calls */
} tu_event_log;

void tu_event_log_init(tu_event_log *log);
void tu_event_log_fini(tu_event_log *log);
/* The zb_event_cb and zb_free_cb to register with a tu_event_log as user_data. */
void tu_event_log_cb(zb_stream *stream, const zb_event *event, void *user_data);
void tu_event_log_free(void *user_data);
/* Waits until the log counts `errors` error events; false after `timeout_ms`. */
bool tu_event_log_wait_errors(tu_event_log *log, int errors, int64_t timeout_ms);
/* A copy of the log taken under its lock (the copy's mutex and condition are not usable). */
tu_event_log tu_event_log_snapshot(tu_event_log *log);
