/* Timeouts and backpressure, with the server withholding or delaying its acks: flush,
 * wait_for_offset and close time out and say so; a full window fails an ingest at once, after
 * stream.ingest.timeout.ms, or blocks it until acks or a close release it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

static void test_flush_and_wait_time_out_while_acks_are_withheld(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  tu_ingest_and_flush(stream, 0, 1, "timeout");

  zbtest_server_withhold_acks(env->server, true);
  assert_int_equal(tu_ingest_events(stream, 1, 5, "timeout"), 5);
  /* The records reach the server; only the acks are missing. */
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 6, 10000));

  int64_t started = tu_now_ms();
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_flush(stream, 100, &err));
  assert_true(tu_now_ms() - started >= 90);
  started = tu_now_ms();
  zb_error *kept =
      TU_EXPECT_ERROR(ZB_ERR_TIMEOUT, err, zb_stream_wait_for_offset(stream, 3, 50, &err));
  assert_true(tu_now_ms() - started >= 40);
  zb_error_free(kept);
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_wait_for_offset(stream, 1, 0, &err));
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_flush(stream, 0, &err));
  /* Acknowledged before the acks stopped. */
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 0, 0, &err));
  tu_assert_unacked_count(stream, 5);

  /* A timed-out flush leaves the stream working. */
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 5, 0, &err));
  tu_assert_unacked_count(stream, 0);
  assert_int_equal(tu_ingest_events(stream, 6, 1, "timeout"), 6);
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 7);
}

/* A zero timeout asks the library not to wait, and it answers at once: each of these calls once
 * slept for the kernel's timer slack (70 to 110 µs here) in a condition variable's timed wait
 * whose deadline had already passed, which an asyncio binding polling at every wakeup paid per
 * ack. 2,000 calls of each kind then took at least 140 ms; now well under a millisecond. */
static void test_zero_timeouts_answer_at_once(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  zbtest_server_withhold_acks(env->server, true);
  assert_int_equal(tu_ingest_events(stream, 0, 2, "zero"), 1);
  enum { kCalls = 2000, kBoundMs = 60 };
  zb_event events[4];
  size_t count = 99;
  int64_t started = tu_now_ms();
  for (int i = 0; i < kCalls; ++i) {
    TU_EXPECT(ZB_OK, err, zb_stream_poll(stream, events, sizeof(zb_event), 4, 0, &count, &err));
    assert_int_equal(count, 0);
  }
  assert_true(tu_now_ms() - started < kBoundMs);
  started = tu_now_ms();
  for (int i = 0; i < kCalls; ++i) {
    TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_wait_for_offset(stream, 1, 0, &err));
  }
  assert_true(tu_now_ms() - started < kBoundMs);
  started = tu_now_ms();
  for (int i = 0; i < kCalls; ++i) TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_flush(stream, 0, &err));
  assert_true(tu_now_ms() - started < kBoundMs);
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  tu_close_and_destroy(stream);
}

static void test_wait_for_offset_with_delayed_acks(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  zbtest_server_delay_acks(env->server, 400);
  const int64_t started = tu_now_ms();
  tu_ingest_events(stream, 0, 1, "timeout");
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_wait_for_offset(stream, 0, 50, &err));
  /* The delay passes and the ack arrives. */
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 0, 10000, &err));
  assert_true(tu_now_ms() - started >= 350);
  zbtest_server_delay_acks(env->server, 0);
  tu_close_and_destroy(stream);
}

static void test_close_timeout_reports_the_unacked_records(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  tu_ingest_and_flush(stream, 0, 3, "timeout");

  zbtest_server_withhold_acks(env->server, true);
  enum { kLeft = 5 };
  tu_batch left;
  tu_batch_fill_numbered(&left, kLeft, 100, "left behind ");
  for (int i = 0; i < kLeft; ++i) {
    uint64_t offset = 0;
    TU_EXPECT(ZB_OK, err,
              zb_stream_ingest_proto(stream, left.records[i], left.lens[i], &offset, &err));
    assert_int_equal(offset, 3 + i);
  }
  const int64_t started = tu_now_ms();
  zb_error *close_err = TU_EXPECT_ERROR(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 200, &err));
  const int64_t took = tu_now_ms() - started;
  assert_true(took >= 180);
  /* The message counts the records left. */
  if (!tu_contains(zb_error_message(close_err), "5")) {
    print_error("close message: \"%s\"\n", zb_error_message(close_err));
    fail();
  }

  /* The events, all queued by now: acks for 0..2, then one error event for exactly 3..7, then
   * nothing. */
  uint64_t next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 0, &next_ack);
  tu_assert_error_event(&error, 3, 7, ZB_ERR_TIMEOUT);
  zb_event event;
  assert_false(tu_poll_one(stream, &event, 0));

  /* Exactly those records, with their offsets and bytes, stay retrievable. */
  zb_records *unacked = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &unacked, &err));
  tu_assert_records(unacked, 3, left.pointers, left.lens, kLeft);
  /* The list is a copy: it outlives later calls and the stream's own state. */
  zb_records *again = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &again, &err));
  assert_int_equal(zb_records_count(again), kLeft);
  zb_records_free(again);

  /* A second close returns what the first did. */
  zb_error *second = TU_EXPECT_ERROR(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 200, &err));
  zb_error_free(second);
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 0, &err));
  TU_EXPECT(ZB_ERR_CLOSED, err,
            zb_stream_ingest_proto(stream, left.records[0], left.lens[0], NULL, &err));
  zb_error_free(close_err);

  zbtest_server_withhold_acks(env->server, false);
  zb_stream_destroy(stream);
  /* Still valid after the stream is gone. */
  const void *data = NULL;
  size_t len = 0;
  TU_EXPECT(ZB_OK, err, zb_records_get(unacked, kLeft - 1, &data, &len, NULL, &err));
  assert_int_equal(len, left.lens[kLeft - 1]);
  assert_memory_equal(data, left.records[kLeft - 1], len);
  zb_records_free(unacked);
}

/* A stream whose window holds 10 records, an ingest waiting `ingest_timeout_ms` for room. */
static zb_stream *open_small_window(tu_env *env, const char *ingest_timeout_ms) {
  const char *const pairs[] = {"stream.ingest.timeout.ms", ingest_timeout_ms,
                               "stream.max.inflight.records", "10", NULL};
  return tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
}

/* Fills the window: records 0..9, at offsets 0..9. */
static void fill_window(zb_stream *stream) {
  assert_int_equal(tu_ingest_events(stream, 0, 10, "timeout"), 9);
}

/* A small window, filled while the server withholds its acks: full until they come. */
static zb_stream *open_full_window(tu_env *env, const char *ingest_timeout_ms) {
  zb_stream *stream = open_small_window(env, ingest_timeout_ms);
  zbtest_server_withhold_acks(env->server, true);
  fill_window(stream);
  return stream;
}

static void test_non_blocking_ingest_fails_at_once_when_full(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = open_full_window(env, "0");
  zb_error *err = NULL;
  tu_batch eleventh;
  tu_batch_fill(&eleventh, 1, 10, "eleventh");
  const void *record = eleventh.records[0];
  const size_t len = eleventh.lens[0];
  uint64_t offset = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t started = tu_now_ms();
    offset = 1234;
    TU_EXPECT(ZB_ERR_QUEUE_FULL, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
    assert_true(tu_now_ms() - started < 150);
    assert_int_equal(offset, 1234);
    TU_EXPECT(
        ZB_ERR_QUEUE_FULL, err,
        zb_stream_ingest_proto_batch(stream, eleventh.pointers, eleventh.lens, 1, &offset, &err));
  }
  tu_assert_unacked_count(stream, 10);

  /* Room again once the acks come; the rejected ingests took no offset. */
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 10);
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 11);
}

static void test_blocking_ingest_times_out_when_full(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = open_full_window(env, "200");
  zb_error *err = NULL;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(10, "eleventh", record);
  uint64_t offset = 0;
  const int64_t started = tu_now_ms();
  TU_EXPECT(ZB_ERR_QUEUE_FULL, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  const int64_t took = tu_now_ms() - started;
  if (took < 150 || took > 5000) print_error("the full ingest took %lld ms\n", (long long)took);
  assert_true(took >= 150);
  assert_true(took < 5000);
  zbtest_server_withhold_acks(env->server, false);
  tu_close_and_destroy(stream);
}

/* An ingest on a thread of its own, expected to block. */
typedef struct blocked_ingest {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  zb_stream *stream;
  bool started;
  bool done;
  zb_status rc;
  zb_status err_code;
  bool err_has_message;
  uint64_t offset;
  int64_t returned_at;
} blocked_ingest;

static void *blocked_ingest_thread(void *arg) {
  blocked_ingest *b = arg;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = zbtest_encode_event(10, "blocked", record, sizeof record);
  pthread_mutex_lock(&b->mu);
  b->started = true;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  zb_error *err = NULL;
  uint64_t offset = UINT64_MAX;
  const zb_status rc = zb_stream_ingest_proto(b->stream, record, len, &offset, &err);
  pthread_mutex_lock(&b->mu);
  b->done = true;
  b->rc = rc;
  b->offset = offset;
  b->err_code = err != NULL ? zb_error_code(err) : ZB_OK;
  b->err_has_message = err != NULL && zb_error_message(err)[0] != '\0';
  b->returned_at = tu_now_ms();
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  zb_error_free(err);
  return NULL;
}

/* Starts the ingest of record 10 on a thread of its own, and waits until the thread runs. */
static void launch_blocked_ingest(blocked_ingest *b, zb_stream *stream) {
  memset(b, 0, sizeof *b);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->stream = stream;
  assert_int_equal(pthread_create(&b->thread, NULL, blocked_ingest_thread, b), 0);
  pthread_mutex_lock(&b->mu);
  while (!b->started) pthread_cond_wait(&b->cv, &b->mu);
  pthread_mutex_unlock(&b->mu);
}

/* Launches the blocked ingest and checks that it stays blocked for a while. */
static void start_blocked_ingest(blocked_ingest *b, zb_stream *stream) {
  launch_blocked_ingest(b, stream);
  /* Holding the state: it must not return while the window is full. */
  tu_sleep_ms(150);
  pthread_mutex_lock(&b->mu);
  const bool done = b->done;
  pthread_mutex_unlock(&b->mu);
  assert_false(done);
}

static void finish_blocked_ingest(blocked_ingest *b) {
  assert_int_equal(pthread_join(b->thread, NULL), 0);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
}

static void test_blocked_ingest_released_by_acks(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = open_full_window(env, "-1");
  zb_error *err = NULL;
  blocked_ingest b;
  start_blocked_ingest(&b, stream);

  zbtest_server_withhold_acks(env->server, false);
  finish_blocked_ingest(&b);
  assert_int_equal(b.rc, ZB_OK);
  assert_int_equal(b.offset, 10);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 11);
}

static void test_blocked_ingest_released_by_close(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = open_full_window(env, "-1");
  zb_error *err = NULL;
  blocked_ingest b;
  start_blocked_ingest(&b, stream);

  /* The acks never come: close times out, and the blocked ingest gives up as closed. */
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 200, &err));
  finish_blocked_ingest(&b);
  assert_int_equal(b.rc, ZB_ERR_CLOSED);
  assert_int_equal(b.err_code, ZB_ERR_CLOSED);
  assert_true(b.err_has_message);
  assert_int_equal(b.offset, UINT64_MAX);
  /* It was not accepted: the unacked records are the ten from before. */
  tu_assert_unacked_count(stream, 10);
  zbtest_server_withhold_acks(env->server, false);
  zb_stream_destroy(stream);
}

static void test_blocked_ingest_released_by_close_that_succeeds(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = open_small_window(env, "-1");
  zb_error *err = NULL;
  zbtest_server_delay_acks(env->server, 300);
  fill_window(stream);
  blocked_ingest b;
  launch_blocked_ingest(&b, stream);

  /* close() waits for the delayed acks and succeeds; the ingest either got in before the close
   * (and was acknowledged by it) or was refused as closed: never lost, never stuck. */
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  finish_blocked_ingest(&b);
  if (b.rc == ZB_OK) {
    assert_int_equal(b.offset, 10);
    assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 11);
  } else {
    assert_int_equal(b.rc, ZB_ERR_CLOSED);
    assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 10);
  }
  tu_assert_unacked_count(stream, 0);
  zbtest_server_delay_acks(env->server, 0);
  zb_stream_destroy(stream);
}

static void test_close_timeout_error_event_reaches_the_callback(void **state) {
  tu_env *env = ENV(state);
  static tu_event_log log; /* static: the library may touch it until the stream is destroyed */
  zb_stream *stream = tu_open_proto_with_event_log(env->sdk, TU_TABLE, &log);
  zb_error *err = NULL;
  tu_ingest_and_flush(stream, 0, 3, "timeout");
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 3, 4, "timeout");
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 150, &err));

  /* close() returned after the callback had the events queued so far, the error included. */
  const tu_event_log seen = tu_event_log_checked(&log);
  assert_int_equal(seen.errors, 1);
  tu_assert_error_event(&seen.error, 3, 6, ZB_ERR_TIMEOUT);
  tu_assert_unacked_count(stream, 4);
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 150, &err));
  zbtest_server_withhold_acks(env->server, false);
  zb_stream_destroy(stream);
  const tu_event_log after = tu_event_log_snapshot(&log);
  assert_int_equal(after.errors, 1); /* the second close reported no second error event */
  assert_int_equal(after.freed, 1);
  tu_event_log_fini(&log);
}

static void test_inflight_bytes_limit(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"stream.max.inflight.bytes", "1000",
                                      "stream.ingest.timeout.ms", "0", NULL};
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  zb_error *err = NULL;
  zbtest_server_withhold_acks(env->server, true);

  /* A record larger than the byte limit still enters an empty window, and then fills it. */
  uint8_t *large = NULL;
  const size_t large_len = tu_big_event(0, 2000, &large);
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, large, large_len, &offset, &err));
  assert_int_equal(offset, 0);
  uint8_t small[TU_EVENT_CAP];
  const size_t small_len = tu_event(1, "s", small);
  TU_EXPECT(ZB_ERR_QUEUE_FULL, err, zb_stream_ingest_proto(stream, small, small_len, NULL, &err));
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));

  /* Four records of about 200 bytes fit into 1000 bytes, a fifth does not. */
  zbtest_server_withhold_acks(env->server, true);
  uint8_t *medium = NULL;
  const size_t medium_len = tu_big_event(2, 200, &medium);
  assert_true(medium_len >= 201 && medium_len <= 240); /* 4 framed fit, 5 do not */
  for (int i = 0; i < 4; ++i) {
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, medium, medium_len, &offset, &err));
    assert_int_equal(offset, 1 + i);
  }
  TU_EXPECT(ZB_ERR_QUEUE_FULL, err, zb_stream_ingest_proto(stream, medium, medium_len, NULL, &err));
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, medium, medium_len, &offset, &err));
  assert_int_equal(offset, 5);
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 6);
  tu_assert_stored(env->server, TU_TABLE, 0, large, large_len, false);
  free(large);
  free(medium);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_flush_and_wait_time_out_while_acks_are_withheld),
      TU_TEST(test_wait_for_offset_with_delayed_acks),
      TU_TEST(test_zero_timeouts_answer_at_once),
      TU_TEST(test_close_timeout_reports_the_unacked_records),
      TU_TEST(test_close_timeout_error_event_reaches_the_callback),
      TU_TEST(test_inflight_bytes_limit),
      TU_TEST(test_non_blocking_ingest_fails_at_once_when_full),
      TU_TEST(test_blocking_ingest_times_out_when_full),
      TU_TEST(test_blocked_ingest_released_by_acks),
      TU_TEST(test_blocked_ingest_released_by_close),
      TU_TEST(test_blocked_ingest_released_by_close_that_succeeds),
  };
  return cmocka_run_group_tests_name("timeouts", tests, NULL, NULL);
}
