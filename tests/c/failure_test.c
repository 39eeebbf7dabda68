/* Failures: a fatal server error fails the stream for good and reports what was not delivered;
 * refused opens fail fast or are retried as recovery.* says; an unreachable server is a
 * retryable transport error; a broken call mid-stream is recovered without losing a record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

/* Every record 0..count-1 (Event{i, payload}) stored at least once, and in offset order once
 * replays are removed: a replay restarts at an earlier record, never skips one. */
static void assert_stored_at_least_once_in_order(zbtest_server *server, int64_t count,
                                                 const char *payload) {
  const int64_t stored = zbtest_server_record_count(server, TU_TABLE);
  assert_true(stored >= count);
  int64_t expected = 0;
  for (int64_t i = 0; i < stored; ++i) {
    const uint8_t *data = NULL;
    size_t len = 0;
    const int64_t id = tu_stored_event_id(server, TU_TABLE, i, &data, &len);
    uint8_t want[TU_EVENT_CAP];
    const size_t want_len = tu_event(id, payload, want);
    assert_int_equal(len, want_len);
    assert_memory_equal(data, want, len);
    if (id == expected) {
      ++expected;
    } else if (id > expected) {
      print_error("record %lld holds offset %lld before offset %lld was stored\n", (long long)i,
                  (long long)id, (long long)expected);
      fail();
    }
  }
  assert_int_equal(expected, count);
}

/* After a recovery: the queued acks cover exactly 0..count-1 (no error event), the stream closes
 * with nothing left unacknowledged, and the server holds every record at least once, in order.
 * Destroys the stream. */
static void close_recovered_stream(tu_env *env, zb_stream *stream, int count, const char *payload) {
  uint64_t next_ack = 0;
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, count);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  tu_assert_unacked_count(stream, 0);
  zb_stream_destroy(stream);
  assert_stored_at_least_once_in_order(env->server, count, payload);
}

/* The server accepts the next `accepted` records, ingested here (Event{0..}, `payload`) and
 * acknowledged, and refuses the request after them with INVALID_ARGUMENT (`message`), which no
 * retry can fix. */
static void fail_fatally_after(tu_env *env, zb_stream *stream, int accepted, const char *payload,
                               const char *message) {
  zbtest_server_fail_after(env->server, accepted, TU_GRPC_INVALID_ARGUMENT, message);
  tu_ingest_and_flush(stream, 0, accepted, payload);
}

static void test_fatal_server_error_fails_the_stream(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  /* Five records are accepted; the request after them is refused for good. */
  fail_fatally_after(env, stream, 5, "accepted", "bad record");

  enum { kFailed = 3 };
  tu_batch failed;
  tu_batch_fill(&failed, kFailed, 100, "refused");
  uint64_t last = 0;
  TU_EXPECT(
      ZB_OK, err,
      zb_stream_ingest_proto_batch(stream, failed.pointers, failed.lens, kFailed, &last, &err));
  assert_int_equal(last, 7);

  /* An error event covers exactly the records that will never be acknowledged, after the acks of
   * the ones before them. */
  uint64_t next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 30000, &next_ack);
  tu_assert_error_event(&error, 5, 7, ZB_ERR_TRANSPORT);
  assert_int_equal(error.grpc_status, TU_GRPC_INVALID_ARGUMENT);

  /* The stream failed for good: every call reports the same error. */
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(8, "too late", record);
  uint64_t offset = 4321;
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err,
                      zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 4321);
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err, zb_stream_flush(stream, 1000, &err));
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err,
                      zb_stream_wait_for_offset(stream, 6, 1000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 4, 0, &err));

  /* The failed records stay retrievable, with their offsets and bytes. */
  tu_assert_unacked(stream, 5, failed.pointers, failed.lens, kFailed);

  /* close() reports the failure, not success, and so does a second close. */
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err, zb_stream_close(stream, 1000, &err));
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err, zb_stream_close(stream, 0, &err));
  tu_assert_unacked_count(stream, kFailed);
  const zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_FAILED);
  assert_int_equal(info.records_accepted, 8);
  assert_int_equal(info.records_acked, 5);
  assert_int_equal(info.records_in_flight, kFailed);
  /* No second error event for the same records. */
  tu_drain_acks(stream, &next_ack);
  zb_stream_destroy(stream);
  /* The refused request was not stored; nothing was retried. */
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 5);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
}

static void test_refused_stream_permission_denied_fails_fast(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_refuse_streams(env->server, TU_GRPC_PERMISSION_DENIED, "no access to this table",
                               -1);
  /* Default recovery settings: a retry would wait at least a second. */
  const int64_t started = tu_now_ms();
  zb_error *kept = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, TU_TABLE, ZB_RECORD_PROTO, NULL);
  const int64_t took = tu_now_ms() - started;
  tu_expect_transport(kept, TU_GRPC_PERMISSION_DENIED, 0);
  assert_true(took < 900);
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);

  /* JSON streams alike. */
  kept = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, TU_TABLE, ZB_RECORD_JSON, NULL);
  tu_expect_transport(kept, TU_GRPC_PERMISSION_DENIED, 0);
  zbtest_server_clear_faults(env->server);
}

static void test_refused_stream_unavailable_is_retried(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "warming up", 2);
  static const char *const pairs[] = {"recovery.backoff.ms", "10", NULL};
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
  zb_error *err = NULL;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "after retries", record);
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 0);
  tu_close_and_destroy(stream);
  tu_assert_stored(env->server, TU_TABLE, 0, record, len, false);

  /* More refusals than retries: the last error comes back, still retryable. */
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "still warming up", -1);
  static const char *const few[] = {"recovery.backoff.ms", "10", "recovery.retries", "2", NULL};
  zb_config *cfg = tu_config(few);
  zb_error *kept = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  zb_config_destroy(cfg);
  tu_expect_transport(kept, TU_GRPC_UNAVAILABLE, 1);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
  zbtest_server_clear_faults(env->server);
}

static void test_recovery_disabled_fails_at_once(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "unavailable", 1);
  static const char *const pairs[] = {"recovery.enable", "false", NULL};
  zb_config *cfg = tu_config(pairs);
  const int64_t started = tu_now_ms();
  zb_error *kept = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  const int64_t took = tu_now_ms() - started;
  assert_int_equal(zb_error_grpc_status(kept), TU_GRPC_UNAVAILABLE);
  zb_error_free(kept);
  assert_true(took < 900); /* no retry after the default 2000 ms backoff */
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);

  /* The one refusal is used up: the same config opens now. */
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  tu_close_and_destroy(stream);
}

static void test_unreachable_server_is_a_retryable_transport_error(void **state) {
  (void)state;
  /* A port where a server listened a moment ago and nothing does now. */
  zbtest_server *gone = zbtest_server_start(NULL);
  assert_non_null(gone);
  char endpoint[128];
  snprintf(endpoint, sizeof endpoint, "%s", zbtest_server_endpoint(gone));
  zbtest_server_stop(gone);

  zb_sdk *sdk = tu_plaintext_sdk(endpoint);
  static const char *const pairs[] = {
      "recovery.backoff.ms", "10", "recovery.retries", "1", "recovery.timeout.ms", "5000", NULL};
  zb_config *cfg = tu_config(pairs);
  zb_error *kept = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  if (zb_error_is_retryable(kept) != 1) print_error("\"%s\"\n", zb_error_message(kept));
  assert_int_equal(zb_error_is_retryable(kept), 1);
  assert_true(zb_error_grpc_status(kept) > 0);
  zb_error_free(kept);
  zb_config_destroy(cfg);
  zb_sdk_destroy(sdk);
}

static void test_broken_call_mid_stream_is_recovered(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"recovery.backoff.ms", "10", NULL};
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  zb_error *err = NULL;

  /* The call breaks with UNAVAILABLE after 50 records; the rest must survive it. */
  zbtest_server_fail_after(env->server, 50, TU_GRPC_UNAVAILABLE, "server restarting");
  enum { kCount = 300 };
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < kCount; ++i) {
    const size_t len = tu_event(i, "survivor", record);
    uint64_t offset = 0;
    if (i % 3 == 0) {
      const void *one[1] = {record};
      const size_t one_len[1] = {len};
      TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, one, one_len, 1, &offset, &err));
    } else {
      TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
    }
    assert_int_equal(offset, i); /* logical offsets are not reset by recovery */
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(zbtest_server_streams_opened(env->server), 2);
  const zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.recoveries, 1);
  assert_true(info.records_replayed >= 1);
  close_recovered_stream(env, stream, kCount, "survivor");
}

static void test_fatal_error_reaches_the_event_callback(void **state) {
  tu_env *env = ENV(state);
  static tu_event_log log; /* static: the library may touch it until the stream is destroyed */
  zb_stream *stream = tu_open_proto_with_event_log(env->sdk, TU_TABLE, &log);
  zb_error *err = NULL;
  zbtest_server_fail_after(env->server, 3, TU_GRPC_INVALID_ARGUMENT, "bad record");
  tu_batch batch;
  tu_batch_fill(&batch, 5, 0, "callback");
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, batch.pointers, batch.lens, 3, NULL, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  TU_EXPECT(
      ZB_OK, err,
      zb_stream_ingest_proto_batch(stream, batch.pointers + 3, batch.lens + 3, 2, NULL, &err));
  assert_true(tu_event_log_wait_errors(&log, 1, 30000));
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err, zb_stream_close(stream, 1000, &err));
  const tu_event_log seen = tu_event_log_checked(&log);
  assert_int_equal(seen.errors, 1);
  tu_assert_error_event(&seen.error, 3, 4, ZB_ERR_TRANSPORT);
  assert_int_equal(seen.error.grpc_status, TU_GRPC_INVALID_ARGUMENT);
  assert_int_equal(seen.error.retryable, 0);
  tu_assert_unacked_count(stream, 2);
  zb_stream_destroy(stream);
  assert_int_equal(tu_event_log_snapshot(&log).freed, 1);
  tu_event_log_fini(&log);
}

static void test_ack_timeout_reconnects_and_replays(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"stream.ack.timeout.ms", "300", "recovery.backoff.ms", "10",
                                      NULL};
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  zb_error *err = NULL;
  /* The server goes silent: the stream gives the call up and replays on a new one. */
  zbtest_server_withhold_acks(env->server, true);
  enum { kCount = 20 };
  assert_int_equal(tu_ingest_events(stream, 0, kCount, "silent"), kCount - 1);
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 2 * kCount, 20000));
  assert_true(zbtest_server_streams_opened(env->server) >= 2);
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 20000, &err));
  close_recovered_stream(env, stream, kCount, "silent");
}

static void test_recovering_state_and_counters(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"recovery.backoff.ms",
                                      "20",
                                      "recovery.backoff.max.ms",
                                      "50",
                                      "recovery.retries",
                                      "100000",
                                      NULL};
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  zb_error *err = NULL;
  tu_ingest_and_flush(stream, 0, 5, "recovering");

  /* The call breaks on the next request and every reconnection is refused for now. */
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "not yet", -1);
  zbtest_server_fail_after(env->server, 0, TU_GRPC_UNAVAILABLE, "going away");
  tu_ingest_events(stream, 5, 3, "recovering");
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 10000));
  /* While recovering nothing is acknowledged, yet records are still accepted. */
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_wait_for_offset(stream, 7, 200, &err));
  zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_RECOVERING);
  assert_int_equal(info.records_acked, 5);
  assert_int_equal(tu_ingest_events(stream, 8, 1, "recovering"), 8);

  zbtest_server_clear_faults(env->server);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_accepted, 9);
  assert_int_equal(info.records_acked, 9);
  assert_int_equal(info.records_in_flight, 0);
  assert_int_equal(info.recoveries, 1);
  assert_true(info.records_replayed >= 1);
  assert_true(info.records_replayed <= 4);
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_streams_opened(env->server), 2);
  assert_stored_at_least_once_in_order(env->server, 9, "recovering");
}

static void test_recreate_after_a_timed_out_close(void **state) {
  tu_env *env = ENV(state);
  static tu_event_log log; /* static: the library may touch it until both streams are gone */
  zb_stream *stream = tu_open_proto_with_event_log(env->sdk, TU_TABLE, &log);
  zb_error *err = NULL;

  /* Recreating needs a failed or closed stream. */
  zb_stream *fresh = NULL;
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_recreate(stream, &fresh, &err));
  assert_null(fresh);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_recreate(stream, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_recreate(NULL, &fresh, &err));

  tu_ingest_and_flush(stream, 0, 3, "recreated");
  zbtest_server_withhold_acks(env->server, true);
  /* Two requests' worth, a batch and a single record. */
  tu_batch batch;
  tu_batch_fill(&batch, 2, 3, "recreated");
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, batch.pointers, batch.lens, 2, NULL, &err));
  tu_ingest_events(stream, 5, 1, "recreated");
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 100, &err));
  zbtest_server_withhold_acks(env->server, false);

  /* The new stream carries the three unacknowledged records, from offset 0. */
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &fresh, &err));
  assert_non_null(fresh);
  assert_ptr_not_equal(fresh, stream);
  assert_int_equal(tu_stream_info(fresh).records_accepted, 3);
  assert_int_equal(tu_ingest_events(fresh, 6, 1, "recreated"), 3);
  TU_EXPECT(ZB_OK, err, zb_stream_close(fresh, 10000, &err));
  tu_assert_unacked_count(fresh, 0);
  /* The old stream is unchanged: still closed with its records. */
  tu_assert_unacked_count(stream, 3);
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_CLOSED);

  /* Both streams shared the callback registration: released once, after both are gone. */
  zb_stream_destroy(stream);
  assert_int_equal(tu_event_log_snapshot(&log).freed, 0);
  zb_stream_destroy(fresh);
  const tu_event_log seen = tu_event_log_snapshot(&log);
  assert_int_equal(seen.freed, 1);
  assert_int_equal(seen.errors, 1); /* the old stream's timed-out close */
  assert_true(seen.acks >= 1);      /* (the two streams share the log, so offsets restart) */
  /* The server has 0..5 (3..5 perhaps twice: stored, never acknowledged, replayed) then 6. */
  assert_stored_at_least_once_in_order(env->server, 7, "recreated");
  tu_event_log_fini(&log);
}

static void test_recreate_after_a_fatal_failure(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  fail_fatally_after(env, stream, 2, "again", "refused once");
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(2, "again", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  zb_error *failed = TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_flush(stream, 10000, &err));
  zb_error_free(failed);

  /* The refusal was one-shot: the recreated stream delivers the refused record. */
  zb_stream *fresh = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &fresh, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(fresh, 10000, &err));
  tu_close_and_destroy(fresh);
  zb_stream_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 3);
  tu_assert_stored(env->server, TU_TABLE, 2, record, len, false);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_fatal_server_error_fails_the_stream),
      TU_TEST(test_refused_stream_permission_denied_fails_fast),
      TU_TEST(test_refused_stream_unavailable_is_retried),
      TU_TEST(test_recovery_disabled_fails_at_once),
      cmocka_unit_test(test_unreachable_server_is_a_retryable_transport_error),
      TU_TEST(test_broken_call_mid_stream_is_recovered),
      TU_TEST(test_fatal_error_reaches_the_event_callback),
      TU_TEST(test_ack_timeout_reconnects_and_replays),
      TU_TEST(test_recovering_state_and_counters),
      TU_TEST(test_recreate_after_a_timed_out_close),
      TU_TEST(test_recreate_after_a_fatal_failure),
  };
  return cmocka_run_group_tests_name("failures", tests, NULL, NULL);
}
