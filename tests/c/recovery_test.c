/* Recovery as the service's classification asks for it: every fatal gRPC code fails the stream
 * at once with error events for exactly what was not acknowledged; retries end; a
 * CloseStreamSignal pauses sending until the acks are in (or the cap passes) while ingest
 * goes on, and the stream moves to a new connection; a connection that goes dark is found by
 * keepalive pings, and a server that does not accept a stream in time is tried again. */
#include <stdio.h>

#include "test_util.h"
#include "zbtest_relay.h"

#define ENV(state) ((tu_env *)*(state))

/* The codes the service uses for what no retry can fix (reference/protocol.md §4.1). */
static const int kFatalCodes[] = {3 /* INVALID_ARGUMENT */,  5 /* NOT_FOUND */,
                                  7 /* PERMISSION_DENIED */, 11 /* OUT_OF_RANGE */,
                                  12 /* UNIMPLEMENTED */,    16 /* UNAUTHENTICATED */};

static void test_each_fatal_code_fails_without_retry(void **state) {
  tu_env *env = ENV(state);
  for (size_t i = 0; i < sizeof kFatalCodes / sizeof kFatalCodes[0]; ++i) {
    const int code = kFatalCodes[i];
    zb_stream *stream = tu_open_proto_configured(
        env->sdk, TU_TABLE, (const char *const[]){"recovery.backoff.ms", "1", NULL});
    const int64_t opened = zbtest_server_streams_opened(env->server);
    /* Four records are acknowledged, then the request after them is refused with `code`. */
    zbtest_server_fail_after(env->server, 4, code, "refused for good");
    tu_ingest_and_flush(stream, 0, 4, "kept");
    /* One batch, one request: ingested one by one, the later records could meet the stream
     * already failed by the refusal of the first. */
    tu_batch refused;
    tu_batch_fill(&refused, 3, 4, "refused");
    uint64_t last = 0;
    zb_error *err = NULL;
    TU_EXPECT(ZB_OK, err,
              zb_stream_ingest_proto_batch(stream, refused.pointers, refused.lens, refused.count,
                                           &last, &err));
    assert_int_equal(last, 6);
    uint64_t next_ack = 0;
    const tu_error_event error = tu_poll_error_event(stream, 30000, &next_ack);
    tu_assert_error_event(&error, 4, 6, ZB_ERR_TRANSPORT);
    assert_int_equal(error.grpc_status, code);
    assert_int_equal(error.retryable, 0);
    const zb_stream_info info = tu_stream_info(stream);
    assert_int_equal(info.state, ZB_STREAM_FAILED);
    assert_int_equal(info.recoveries, 0);
    /* No new connection was tried. */
    assert_int_equal(zbtest_server_streams_opened(env->server), opened);
    tu_assert_unacked_count(stream, 3);
    zb_stream_destroy(stream);
    zbtest_server_clear_faults(env->server);
  }
}

static void test_retries_exhausted_fail_the_stream(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE,
      (const char *const[]){"recovery.retries", "2", "recovery.backoff.ms", "1", NULL});
  tu_ingest_and_flush(stream, 0, 2, "kept");
  /* The call breaks and every new one is refused: the first reconnection and its two retries
   * fail, and the stream gives up with the refusal. */
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "down for good", -1);
  zbtest_server_fail_after(env->server, 0, TU_GRPC_UNAVAILABLE, "broken");
  tu_ingest_events(stream, 2, 1, "lost");
  uint64_t next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 30000, &next_ack);
  tu_assert_error_event(&error, 2, 2, ZB_ERR_TRANSPORT);
  assert_int_equal(error.grpc_status, TU_GRPC_UNAVAILABLE);
  assert_true(tu_contains(error.message, "down for good"));
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_FAILED);
  zb_stream_destroy(stream);
}

/* Opens a stream whose server announces a close (CloseStreamSignal of `signal_ms`) once it has
 * received `records` records, withholding its acks when `withhold` so that the stream cannot
 * drain. */
static zb_stream *open_with_close_signal(tu_env *env, int records, int signal_ms, bool withhold,
                                         const char *max_wait) {
  char plan[160];
  snprintf(plan, sizeof plan,
           "{\"close_after_records\": %d, \"close_signal_ms\": %d, \"withhold_acks\": %s}", records,
           signal_ms, withhold ? "true" : "false");
  assert_true(zbtest_server_set_fault_plan(env->server, TU_TABLE, plan));
  return tu_open_proto_configured(env->sdk, TU_TABLE,
                                  (const char *const[]){"stream.paused.max.wait.ms", max_wait,
                                                        "recovery.backoff.ms", "1", NULL});
}

/* Waits (bounded) until the stream reports `state`. */
static void wait_for_state(zb_stream *stream, zb_stream_state state) {
  const int64_t deadline = tu_now_ms() + 30000;
  while (tu_stream_info(stream).state != state && tu_now_ms() < deadline) tu_sleep_ms(1);
  assert_int_equal(tu_stream_info(stream).state, state);
}

static void test_pause_waits_for_the_server_and_ingest_goes_on(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = open_with_close_signal(env, 5, 400, true, "-1");
  tu_ingest_events(stream, 0, 5, "before");
  wait_for_state(stream, ZB_STREAM_PAUSED);
  const int64_t paused_at = tu_now_ms();
  /* Records keep being accepted while paused; none of them goes out on this call. */
  const int64_t requests = zbtest_server_requests(env->server);
  tu_ingest_events(stream, 5, 5, "during");
  assert_int_equal(zbtest_server_requests(env->server), requests);
  /* Without a cap the stream waits as long as the server grants, then moves to a new call,
   * replays what was not acknowledged and sends what came in meanwhile. (The new call is
   * paused again at once: its state is OPEN for a moment only.) */
  const int64_t deadline = tu_now_ms() + 30000;
  while (tu_stream_info(stream).recoveries == 0 && tu_now_ms() < deadline) tu_sleep_ms(1);
  assert_true(tu_stream_info(stream).recoveries >= 1);
  assert_true(tu_now_ms() - paused_at >= 300);
  zbtest_server_clear_faults(env->server);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  const zb_stream_info info = tu_stream_info(stream);
  assert_true(info.recoveries >= 1);
  assert_true(info.records_replayed >= 5);
  tu_close_and_destroy(stream);
}

static void test_pause_with_a_cap_reconnects_sooner(void **state) {
  tu_env *env = ENV(state);
  /* The server grants 30 s; the stream waits 50 ms at most. */
  zb_stream *stream = open_with_close_signal(env, 5, 30000, true, "50");
  const int64_t start = tu_now_ms();
  tu_ingest_events(stream, 0, 5, "capped");
  const int64_t deadline = start + 20000;
  while (tu_stream_info(stream).recoveries == 0 && tu_now_ms() < deadline) tu_sleep_ms(1);
  assert_true(tu_stream_info(stream).recoveries >= 1);
  assert_true(tu_now_ms() - start < 20000);
  zbtest_server_clear_faults(env->server);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  tu_close_and_destroy(stream);
}

static void test_pause_ends_early_once_everything_is_acknowledged(void **state) {
  tu_env *env = ENV(state);
  /* Acks flow: the stream reconnects as soon as the records it sent are acknowledged, long
   * before the 30 s the server grants. */
  zb_stream *stream = open_with_close_signal(env, 5, 30000, false, "-1");
  const int64_t start = tu_now_ms();
  tu_ingest_events(stream, 0, 5, "drained");
  const int64_t deadline = start + 20000;
  while (tu_stream_info(stream).recoveries == 0 && tu_now_ms() < deadline) tu_sleep_ms(1);
  assert_true(tu_stream_info(stream).recoveries >= 1);
  zbtest_server_clear_faults(env->server);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 5);
  tu_close_and_destroy(stream);
}

/* An SDK that reaches the (plaintext) server through `relay`, with `pairs` (as tu_config()
 * takes them). */
static zb_sdk *sdk_through(const zbtest_relay *relay, const char *const *pairs) {
  zb_config *cfg = tu_config(pairs);
  tu_config_set(cfg, "transport.plaintext", "true");
  tu_config_set(cfg, "transport.engine", tu_engine());
  zb_sdk *sdk = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_relay_endpoint(relay), cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
}

static void test_dead_connection_is_found_by_keepalive(void **state) {
  tu_env *env = ENV(state);
  zbtest_relay *relay = zbtest_relay_start(zbtest_server_endpoint(env->server));
  assert_non_null(relay);
  zb_sdk *sdk =
      sdk_through(relay, (const char *const[]){"grpc.keepalive.time.ms", "1000",
                                               "grpc.keepalive.timeout.ms", "1000", NULL});
  /* No ack is ever late enough for the ack timeout to be what finds the dead connection. */
  zb_stream *stream = tu_open_proto_configured(
      sdk, TU_TABLE,
      (const char *const[]){"stream.ack.timeout.ms", "600000", "recovery.backoff.ms", "1", NULL});
  tu_ingest_and_flush(stream, 0, 10, "before");
  /* The path goes dark without a word: no reset, no close, nothing more through it. */
  zbtest_relay_freeze(relay);
  tu_ingest_events(stream, 10, 10, "after");
  const int64_t frozen_at = tu_now_ms();
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  /* Found by an unanswered ping: a keepalive interval and a ping timeout, give or take. */
  assert_true(tu_now_ms() - frozen_at >= 1000);
  /* A slow machine may lose a ping before the freeze too: then more than one recovery. */
  const zb_stream_info info = tu_stream_info(stream);
  assert_true(info.recoveries >= 1);
  assert_int_equal(zbtest_relay_connections(relay), 1 + (int64_t)info.recoveries);
  /* The records sent into the dark never reached the server and were sent again; every record
   * is stored, and no more often than replays allow. */
  assert_true(info.records_replayed >= 10);
  const int64_t stored = zbtest_server_record_count(env->server, TU_TABLE);
  assert_true(stored <= 10 + (int64_t)info.records_replayed);
  bool seen[20] = {false};
  for (int64_t i = 0; i < stored; ++i) {
    const uint8_t *data = NULL;
    size_t len = 0;
    const int64_t id = tu_stored_event_id(env->server, TU_TABLE, i, &data, &len);
    assert_true(id >= 0 && id < 20);
    seen[id] = true;
  }
  for (int i = 0; i < 20; ++i) assert_true(seen[i]);
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);
  zbtest_relay_stop(relay);
}

static void test_stream_creation_times_out(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_stall(env->server, true);
  zb_config *cfg = tu_config((const char *const[]){"recovery.timeout.ms", "200", "recovery.retries",
                                                   "1", "recovery.backoff.ms", "1", NULL});
  const int64_t start = tu_now_ms();
  zb_error *err = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  /* Two attempts (the first and one retry) of 200 ms each. */
  assert_true(tu_now_ms() - start >= 400);
  assert_true(tu_contains(zb_error_message(err), "recovery.timeout.ms"));
  assert_int_equal(zb_error_grpc_status(err), TU_GRPC_DEADLINE_EXCEEDED);
  assert_int_equal(zb_error_is_retryable(err), 1);
  zb_error_free(err);
  zb_config_destroy(cfg);
}

static void test_creation_timeouts_during_recovery_are_retried(void **state) {
  tu_env *env = ENV(state);
  zbtest_relay *relay = zbtest_relay_start(zbtest_server_endpoint(env->server));
  assert_non_null(relay);
  zb_sdk *sdk = sdk_through(relay, (const char *const[]){NULL});
  zb_stream *stream = tu_open_proto_configured(
      sdk, TU_TABLE,
      (const char *const[]){"recovery.timeout.ms", "100", "recovery.retries", "1000",
                            "recovery.backoff.ms", "1", "recovery.backoff.max.ms", "10", NULL});
  tu_ingest_and_flush(stream, 0, 3, "before");
  /* The connection is cut while the server accepts no stream: every attempt to reconnect times
   * out, and the stream keeps trying. */
  zbtest_server_stall(env->server, true);
  zbtest_relay_sever(relay);
  tu_ingest_events(stream, 3, 3, "after");
  wait_for_state(stream, ZB_STREAM_RECOVERING);
  const int64_t stalled_until = tu_now_ms() + 800;
  while (tu_now_ms() < stalled_until) {
    assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_RECOVERING);
    tu_sleep_ms(20);
  }
  zbtest_server_stall(env->server, false);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(tu_stream_info(stream).recoveries, 1);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 6);
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);
  zbtest_relay_stop(relay);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_each_fatal_code_fails_without_retry),
      TU_TEST(test_retries_exhausted_fail_the_stream),
      TU_TEST(test_pause_waits_for_the_server_and_ingest_goes_on),
      TU_TEST(test_pause_with_a_cap_reconnects_sooner),
      TU_TEST(test_pause_ends_early_once_everything_is_acknowledged),
      TU_TEST(test_dead_connection_is_found_by_keepalive),
      TU_TEST(test_stream_creation_times_out),
      TU_TEST(test_creation_timeouts_during_recovery_are_retried),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
