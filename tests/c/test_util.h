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

/* The table every test writes to unless it needs several, and the one of the JSON stream that
 * tests open next to a protobuf stream. */
#define TU_TABLE "main.default.events"
#define TU_JSON_TABLE "main.default.json"

/* What a test group's setup prepares: a fresh server (faults never leak between tests) and an
 * SDK pointed at it. Teardown frees both even when the test failed. */
typedef struct tu_env {
  zbtest_server *server;
  zb_sdk *sdk;
} tu_env;

/* cmocka group/test fixtures building a tu_env in *state: tu_setup() with a server of the
 * default options, tu_setup_with() with `options` (a fixture of the caller's passes them). */
int tu_setup(void **state);
int tu_setup_with(void **state, const zbtest_server_options *options);
int tu_teardown(void **state);

/* Starts a server that stores into a new directory made from `data_dir` (a mkdtemp() template,
 * rewritten in place), and fills `*options` so that zbtest_server_start(options) brings it back
 * on the same port with the same data: for tests that stop a server under a stream and restart
 * it. Fails the test when the directory or the server cannot be made. */
zbtest_server *tu_start_restartable_server(char *data_dir, zbtest_server_options *options);

/* A test with a fresh tu_env: the entry of a cmocka test table for most tests. */
#define TU_TEST(test) cmocka_unit_test_setup_teardown(test, tu_setup, tu_teardown)

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

/* gRPC status codes the server's failures carry, and the one the library's own give-ups do. */
enum {
  TU_GRPC_INVALID_ARGUMENT = 3,
  TU_GRPC_DEADLINE_EXCEEDED = 4,
  TU_GRPC_NOT_FOUND = 5,
  TU_GRPC_PERMISSION_DENIED = 7,
  TU_GRPC_UNAVAILABLE = 14
};

/* Asserts that `err` is a ZB_ERR_TRANSPORT error with gRPC status `grpc_status` and the given
 * retryability (1 or 0), and frees it. */
void tu_expect_transport(zb_error *err, int grpc_status, int retryable);

/* Asserts that `call` fails with ZB_ERR_TRANSPORT (as TU_EXPECT_ERROR) with that gRPC status and
 * retryability (as tu_expect_transport()). */
#define TU_EXPECT_TRANSPORT(grpc_status, retryable, err, call) \
  tu_expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, call), (grpc_status), (retryable))

/* A new config with `pairs` applied: "key", "value", ..., NULL. Asserts every set succeeds. */
zb_config *tu_config(const char *const *pairs);

/* An SDK for a local server's plaintext `endpoint` (transport.plaintext=true), asserting
 * success. */
zb_sdk *tu_plaintext_sdk(const char *endpoint);
/* The transport.engine the tests' SDKs use: $ZBTEST_TRANSPORT_ENGINE, else http2, the
 * library's default (ctest runs some files twice, as c.<file> and c.grpc.<file>). */
const char *tu_engine(void);

/* Sets one option, asserting success. */
void tu_config_set(zb_config *cfg, const char *key, const char *value);

/* Opens a protobuf stream of the Event schema (or a JSON stream) into `table`, asserting
 * success. `cfg` may be NULL. */
zb_stream *tu_open_proto(zb_sdk *sdk, const char *table, const zb_config *cfg);
zb_stream *tu_open_json(zb_sdk *sdk, const char *table, const zb_config *cfg);

/* tu_open_proto() with a config of `pairs` (as tu_config() takes them). */
zb_stream *tu_open_proto_configured(zb_sdk *sdk, const char *table, const char *const *pairs);

/* tu_open_proto() with a config that has only an event callback (or only a wakeup). */
zb_stream *tu_open_proto_with_event_cb(zb_sdk *sdk, const char *table, zb_event_cb cb,
                                       void *user_data, zb_free_cb free_user_data);
zb_stream *tu_open_proto_with_wakeup(zb_sdk *sdk, const char *table, zb_wakeup_cb cb,
                                     void *user_data, zb_free_cb free_user_data);

/* Closes the stream, asserting that the close succeeds (everything was acknowledged), then
 * destroys it. */
void tu_close_and_destroy(zb_stream *stream);

/* Asserts that opening a stream of `record_type` (ZB_RECORD_PROTO with the Event descriptor, or
 * ZB_RECORD_JSON) into `table` fails with `expected` (as TU_EXPECT_ERROR checks it) and leaves
 * no stream; returns the error object, which the caller frees. `cfg` may be NULL. */
#define TU_OPEN_ERROR(expected, sdk, table, record_type, cfg)                                 \
  tu_open_error_((sdk), (table), (record_type), (cfg), (expected),                            \
                 "zb_stream_new(" #sdk ", " #table ", " #record_type ", " #cfg ")", __FILE__, \
                 __LINE__)
zb_error *tu_open_error_(zb_sdk *sdk, const char *table, zb_record_type record_type,
                         const zb_config *cfg, zb_status expected, const char *call,
                         const char *file, int line);

/* A serialized Event{id, payload} in `buf` (at least TU_EVENT_CAP bytes); returns its length. */
#define TU_EVENT_CAP 256
size_t tu_event(int64_t id, const char *payload, uint8_t *buf);

/* Up to TU_BATCH_MAX Event records, with the pointer and length arrays that the batch ingest
 * calls and zb_records checks take. pointers[i] points into records[i]: do not copy a tu_batch. */
#define TU_BATCH_MAX 32
typedef struct tu_batch {
  size_t count;
  uint8_t records[TU_BATCH_MAX][TU_EVENT_CAP];
  const void *pointers[TU_BATCH_MAX];
  size_t lens[TU_BATCH_MAX];
} tu_batch;

/* Fills `batch` with `count` records, record i being Event{first_id + i, payload}. */
void tu_batch_fill(tu_batch *batch, int count, int64_t first_id, const char *payload);

/* As tu_batch_fill(), but record i's payload is `prefix` followed by i ("single-" gives
 * "single-0", "single-1", ...). */
void tu_batch_fill_numbered(tu_batch *batch, int count, int64_t first_id, const char *prefix);

/* Ingests Event{id, payload} for id = first_id .. first_id + count - 1, one
 * zb_stream_ingest_proto() each, asserting that every call succeeds and takes the offset after
 * the previous one's. Returns the last offset. */
uint64_t tu_ingest_events(zb_stream *stream, int64_t first_id, int count, const char *payload);

/* tu_ingest_events(), then a flush that must succeed: the records are acknowledged. */
uint64_t tu_ingest_and_flush(zb_stream *stream, int64_t first_id, int count, const char *payload);

/* Decodes an Event as tu_event() encodes it (id, then an optional payload): sets *id and
 * returns true, or returns false when the bytes are not such an Event. */
bool tu_decode_event_id(const uint8_t *data, size_t len, int64_t *id);

/* Asserts that the server stored record `index` of `table` as exactly `data`/`len`, of the
 * given kind. */
void tu_assert_stored(zbtest_server *server, const char *table, int64_t index, const void *data,
                      size_t len, bool is_json);

/* Asserts that the server stored records first_index .. of `table` as exactly the batch's
 * records, in order. */
void tu_assert_stored_batch(zbtest_server *server, const char *table, int64_t first_index,
                            const tu_batch *batch);

/* The id of the Event the server stored as record `index` of `table`, asserting that there is
 * such a record and that it decodes; *data and *len get its bytes. */
int64_t tu_stored_event_id(zbtest_server *server, const char *table, int64_t index,
                           const uint8_t **data, size_t *len);

/* Asserts that the stream has exactly `count` unacknowledged records (and frees the list). */
void tu_assert_unacked_count(zb_stream *stream, size_t count);

/* Asserts that `list` holds exactly `count` records, record i being the `lens[i]` bytes of
 * records[i] at offset first_offset + i. */
void tu_assert_records(const zb_records *list, uint64_t first_offset, const void *const *records,
                       const size_t *lens, size_t count);

/* tu_assert_records() on the stream's unacknowledged records (the list is freed here). */
void tu_assert_unacked(zb_stream *stream, uint64_t first_offset, const void *const *records,
                       const size_t *lens, size_t count);

/* The stream's zb_stream_get_info(), asserting that it succeeds. */
zb_stream_info tu_stream_info(zb_stream *stream);

/* Polls `stream` (no event callback) until an event arrives or `timeout_ms` passes; returns
 * true with *event filled (its error owned by the caller), false on timeout. */
bool tu_poll_one(zb_stream *stream, zb_event *event, int32_t timeout_ms);

/* Drains every event queued now (timeout 0) and checks the ack events: contiguous from
 * *next_ack (updated), never overlapping, every event an ack. Returns the events seen. */
size_t tu_drain_acks(zb_stream *stream, uint64_t *next_ack);

/* What an error event said, its error object read into plain fields. */
typedef struct tu_error_event {
  uint64_t first_offset, last_offset;
  zb_status code;
  int32_t grpc_status;
  int32_t retryable;
  char message[256]; /* "" when it had none */
} tu_error_event;

/* Asserts that the error event covers exactly first..last, with `code` and a message. */
void tu_assert_error_event(const tu_error_event *event, uint64_t first, uint64_t last,
                           zb_status code);

/* Polls `stream` (no event callback) until an error event arrives, for `timeout_ms` at the most
 * (0: only the events queued now), and returns it; fails when none comes. The ack events before
 * it must cover *next_ack onwards without a gap or an overlap, and the error event must begin
 * where they end; *next_ack ends past the error event. */
tu_error_event tu_poll_error_event(zb_stream *stream, int64_t timeout_ms, uint64_t *next_ack);

/* Removes directory `path` and the files in it (a server's data directory), asserting
 * success. */
void tu_remove_directory(const char *path);

/* Whether `haystack` contains `needle`. */
bool tu_contains(const char *haystack, const char *needle);

/* Removes the flat directory `path` and the files in it (a server's data directory). */
void tu_remove_directory(const char *path);

/* Asserts that `err` holds a message containing `needle`, and frees it. */
void tu_expect_message(zb_error *err, const char *needle);

/* ---- Many threads ingesting into one stream ---------------------------------------------- */

/* One ingesting thread: `count` Event records, record `seq` of thread `index` having the id
 * tu_thread_record_id(index, seq), each ingested on its own; the offsets it got go to
 * offsets[seq]. */
typedef struct tu_ingester {
  zb_stream *stream;
  int index;
  int count;
  uint64_t *offsets; /* `count` entries, allocated by tu_ingesters_new() */
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

/* What the calling thread does for the test ("ingesting", "polling"), as the thread set it
 * with tu_set_thread_role(); NULL on every other thread, the library's among them. Unlike a
 * pthread_t kept for later, it cannot mistake a library thread started after a test thread
 * ended for that thread (the system reuses the ids of joined threads). */
void tu_set_thread_role(const char *role);
const char *tu_thread_role(void);

/* Asserts that the server holds exactly the ingesters' records in `table`: each record at the
 * index of the offset its thread received, each thread's records in its sequence order. */
void tu_ingesters_verify_stored(const tu_ingester *ingesters, int threads, zbtest_server *server,
                                const char *table);

/* An absolute CLOCK_REALTIME deadline `ms` from now, for pthread_cond_timedwait. */
struct timespec tu_deadline(int64_t ms);

/* With `mu` locked: waits on `cv` until `condition` holds or `timeout_ms` have passed, whichever
 * comes first (the caller tells which by the condition); `mu` is locked again when it ends. */
#define TU_WAIT_UNTIL(cv, mu, condition, timeout_ms)                                      \
  do {                                                                                    \
    const struct timespec tu_wait_deadline_ = tu_deadline(timeout_ms);                    \
    while (!(condition) && pthread_cond_timedwait((cv), (mu), &tu_wait_deadline_) == 0) { \
    }                                                                                     \
  } while (0)

/* A serialized Event{id, payload of `payload_len` 'x' characters} in a new malloc'd buffer
 * (*out, freed by the caller); returns its length. */
size_t tu_big_event(int64_t id, size_t payload_len, uint8_t **out);

/* ---- An event callback that records what it sees ----------------------------------------- */

#define TU_EVENT_LOG_THREADS 4

typedef struct tu_event_log {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  zb_stream *stream; /* when set, the stream every event must come from */
  uint64_t next_ack; /* the first offset the next ack (or error) event must cover */
  int64_t acks;      /* ack events */
  int errors;        /* error events; the first one below */
  tu_error_event error;
  pthread_t threads[TU_EVENT_LOG_THREADS]; /* the distinct threads the callback ran on */
  int thread_count;
  int violations; /* events out of order, overlapping, malformed, of another stream or on a
                     thread too many; the first in `what` */
  char what[256];
  int freed; /* free_user_data calls */
} tu_event_log;

void tu_event_log_init(tu_event_log *log);
void tu_event_log_fini(tu_event_log *log);
/* Initializes `log` and opens a protobuf stream whose events go to it (tu_event_log_cb, released
 * with tu_event_log_free); the log expects the events of that stream only. */
zb_stream *tu_open_proto_with_event_log(zb_sdk *sdk, const char *table, tu_event_log *log);
/* The zb_event_cb and zb_free_cb to register with a tu_event_log as user_data. A poller may
 * also hand each polled event to tu_event_log_cb() to have it checked and counted. */
void tu_event_log_cb(zb_stream *stream, const zb_event *event, void *user_data);
void tu_event_log_free(void *user_data);
/* Waits until the log's acks cover every offset below `next_ack`; false after `timeout_ms`. */
bool tu_event_log_wait_acked(tu_event_log *log, uint64_t next_ack, int64_t timeout_ms);
/* Waits until the log counts `errors` error events; false after `timeout_ms`. */
bool tu_event_log_wait_errors(tu_event_log *log, int errors, int64_t timeout_ms);
/* A copy of the log taken under its lock (the copy's mutex and condition are not usable). */
tu_event_log tu_event_log_snapshot(tu_event_log *log);
/* A snapshot, asserting that no event broke the rules (the first that did is printed). */
tu_event_log tu_event_log_checked(tu_event_log *log);

#endif /* ZB_TESTS_C_TEST_UTIL_H */
