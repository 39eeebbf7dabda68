/* Servers that keep a stream busy without letting it make progress: one that accepts every
 * stream and then fails it, one that answers with the same stale watermark for ever, one that
 * announces a close in ten years and then falls silent. Each ends within the library's own
 * settings: the stream backs off and fails once recovery.retries is spent, or recovers once
 * the server behaves. */
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

#define TU_GRPC_RESOURCE_EXHAUSTED 8

/* Every id in 0..count-1 is among the records the server stored for TU_TABLE (at least once:
 * a record sent on a connection that ended may have been stored before it was acknowledged). */
static void assert_each_stored(zbtest_server *server, int64_t count) {
  const int64_t stored = zbtest_server_record_count(server, TU_TABLE);
  assert_true(stored >= count);
  bool *seen = calloc((size_t)count, sizeof *seen);
  assert_non_null(seen);
  for (int64_t i = 0; i < stored; ++i) {
    const uint8_t *data;
    size_t len;
    const int64_t id = tu_stored_event_id(server, TU_TABLE, i, &data, &len);
    assert_true(id >= 0 && id < count);
    seen[id] = true;
  }
  for (int64_t id = 0; id < count; ++id) assert_true(seen[id]);
  free(seen);
}

static void test_streams_accepted_then_failed_back_off_and_fail(void **state) {
  tu_env *env = ENV(state);
  /* An overloaded service: each stream is accepted, and its first request fails it. */
  assert_true(zbtest_server_set_fault_plan(
      env->server, "*",
      "{\"fail_streams_after_records\": 0, \"fail_status\": \"RESOURCE_EXHAUSTED\", "
      "\"fail_message\": \"overloaded\"}"));
  const int64_t started = tu_now_ms();
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE, (const char *const[]){"recovery.backoff.ms", "200", NULL});
  tu_ingest_events(stream, 0, 5, "refused");
  uint64_t next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 30000, &next_ack);
  const int64_t took = tu_now_ms() - started;
  tu_assert_error_event(&error, 0, 4, ZB_ERR_TRANSPORT);
  assert_int_equal(error.grpc_status, TU_GRPC_RESOURCE_EXHAUSTED);
  if (!tu_contains(error.message, "recovery.retries")) print_error("%s\n", error.message);
  assert_true(tu_contains(error.message, "overloaded"));
  assert_true(tu_contains(error.message, "recovery.retries"));
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_FAILED);
  /* The default budget: the first connection and four more, each after its backoff (at least
   * half of 200, 400, 800 and 1600 ms), not thousands as fast as the loop runs. */
  assert_int_equal(zbtest_server_streams_opened(env->server), 5);
  assert_true(took >= 1500);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 0);
  tu_assert_unacked_count(stream, 5);
  zb_stream_destroy(stream);
}

static void test_progress_restores_the_budget(void **state) {
  tu_env *env = ENV(state);
  /* Each connection takes three records and then fails: a stream sending one record at a time
   * makes progress on every connection, and so never runs out of retries. */
  assert_true(zbtest_server_set_fault_plan(
      env->server, "*", "{\"fail_streams_after_records\": 3, \"fail_status\": \"UNAVAILABLE\"}"));
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE,
      (const char *const[]){"recovery.backoff.ms", "10", "recovery.retries", "1", NULL});
  for (int64_t id = 0; id < 12; ++id) tu_ingest_and_flush(stream, id, 1, "progress");
  const zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.records_acked, 12);
  assert_true(info.recoveries >= 3);
  tu_close_and_destroy(stream);
  assert_each_stored(env->server, 12);
}

static void test_a_repeated_stale_watermark_does_not_hold_the_stream(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE,
      (const char *const[]){"stream.ack.timeout.ms", "500", "recovery.backoff.ms", "10",
                            "recovery.retries", "2", NULL});
  tu_ingest_and_flush(stream, 0, 2, "acked");
  /* From now on the server repeats its last ack every 50 ms: messages, and no progress. */
  assert_true(zbtest_server_set_fault_plan(env->server, "*", "{\"repeat_stale_ack_ms\": 50}"));
  const int64_t started = tu_now_ms();
  tu_ingest_events(stream, 2, 3, "never acked");
  uint64_t next_ack = 0; /* the acks of the first two come first */
  const tu_error_event error = tu_poll_error_event(stream, 20000, &next_ack);
  const int64_t took = tu_now_ms() - started;
  /* A failure, not a wait's timeout: the code a caller may wait again after is never it. */
  tu_assert_error_event(&error, 2, 4, ZB_ERR_TRANSPORT);
  assert_int_equal(error.grpc_status, TU_GRPC_DEADLINE_EXCEEDED);
  assert_true(tu_contains(error.message, "stream.ack.timeout.ms"));
  /* Each connection is given one ack timeout: the first (which made progress before the
   * watermark went stale, so the budget stays whole) and three without progress, the first
   * attempt and its two retries. */
  assert_true(took >= 2000);
  assert_int_equal(zbtest_server_streams_opened(env->server), 4);
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_FAILED);
  /* A wait, however short, answers with the failure: never ZB_ERR_TIMEOUT, "not yet". */
  zb_error *err = NULL;
  TU_EXPECT_TRANSPORT(TU_GRPC_DEADLINE_EXCEEDED, 1, err,
                      zb_stream_wait_for_offset(stream, 2, 0, &err));
  zb_stream_destroy(stream);
}

static void test_a_close_announced_in_ten_years_then_silence_ends(void **state) {
  tu_env *env = ENV(state);
  /* After its first record the server announces the end of the call in ten years, then
   * acknowledges nothing. The default stream.paused.max.wait.ms is a minute; the ack timeout
   * ends the pause sooner. */
  assert_true(zbtest_server_set_fault_plan(
      env->server, "*",
      "{\"close_after_records\": 1, \"close_signal_ms\": 315360000000, \"withhold_acks\": "
      "true}"));
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE,
      (const char *const[]){"stream.ack.timeout.ms", "500", "recovery.backoff.ms", "10", NULL});
  tu_ingest_events(stream, 0, 3, "paused");
  const int64_t deadline = tu_now_ms() + 20000;
  while (tu_stream_info(stream).recoveries == 0 && tu_now_ms() < deadline) tu_sleep_ms(5);
  assert_true(tu_stream_info(stream).recoveries >= 1);
  /* The server behaves again: the stream delivers every record. */
  zbtest_server_clear_faults(env->server);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(tu_stream_info(stream).records_acked, 3);
  tu_close_and_destroy(stream);
  assert_each_stored(env->server, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_streams_accepted_then_failed_back_off_and_fail),
      TU_TEST(test_progress_restores_the_budget),
      TU_TEST(test_a_repeated_stale_watermark_does_not_hold_the_stream),
      TU_TEST(test_a_close_announced_in_ten_years_then_silence_ends),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
