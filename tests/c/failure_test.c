/* Failures: a fatal server error fails the stream for good and reports what was not delivered;
 * refused opens fail fast or are retried as recovery.* says; an unreachable server is a
 * retryable transport error; a broken call mid-stream is recovered without losing a record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

enum { kInvalidArgument = 3, kPermissionDenied = 7, kUnavailable = 14 };

static void expect_transport(zb_error *err, int grpc_status, int retryable) {
  assert_non_null(err);
  assert_int_equal(zb_error_code(err), ZB_ERR_TRANSPORT);
  if (zb_error_grpc_status(err) != grpc_status || zb_error_is_retryable(err) != retryable) {
    print_error("\"%s\": grpc status %d (expected %d), retryable %d (expected %d)\n",
                zb_error_message(err), (int)zb_error_grpc_status(err), grpc_status,
                (int)zb_error_is_retryable(err), retryable);
  }
  assert_int_equal(zb_error_grpc_status(err), grpc_status);
  assert_int_equal(zb_error_is_retryable(err), retryable);
  zb_error_free(err);
}

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
    int64_t id = -1;
    assert_true(zbtest_server_record(server, TU_TABLE, i, &data, &len, NULL));
    assert_true(tu_decode_event_id(data, len, &id));
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

static void test_fatal_server_error_fails_the_stream(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  /* Five records are accepted; the request after them is refused with INVALID_ARGUMENT, which
   * no retry can fix. */
  zbtest_server_fail_after(env->server, 5, kInvalidArgument, "bad record");
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 5; ++i) {
    const size_t len = tu_event(i, "accepted", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));

  enum { kFailed = 3 };
  uint8_t failed[kFailed][TU_EVENT_CAP];
  size_t failed_lens[kFailed];
  const void *pointers[kFailed];
  for (int i = 0; i < kFailed; ++i) {
    failed_lens[i] = tu_event(100 + i, "refused", failed[i]);
    pointers[i] = failed[i];
  }
  uint64_t last = 0;
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, pointers, failed_lens, kFailed, &last, &err));
  assert_int_equal(last, 7);

  /* An error event covers exactly the records that will never be acknowledged. */
  uint64_t next_ack = 0;
  zb_event event;
  bool saw_error = false;
  const int64_t deadline = tu_now_ms() + 30000;
  while (!saw_error && tu_now_ms() < deadline) {
    if (!tu_poll_one(stream, &event, 1000)) continue;
    if (event.type == ZB_EVENT_ACK) {
      assert_int_equal(event.first_offset, next_ack);
      next_ack = event.last_offset + 1;
      continue;
    }
    assert_int_equal(event.type, ZB_EVENT_ERROR);
    saw_error = true;
    const uint64_t first = event.first_offset, last_offset = event.last_offset;
    const zb_status code = zb_error_code(event.error);
    const int32_t grpc = zb_error_grpc_status(event.error);
    zb_error_free(event.error);
    assert_int_equal(first, 5);
    assert_int_equal(last_offset, 7);
    assert_int_equal(code, ZB_ERR_TRANSPORT);
    assert_int_equal(grpc, kInvalidArgument);
  }
  assert_true(saw_error);
  assert_int_equal(next_ack, 5);

  /* The stream failed for good: every call reports the same error. */
  const size_t len = tu_event(8, "too late", record);
  uint64_t offset = 4321;
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_ingest_proto(stream, record, len, &offset, &err)),
                   kInvalidArgument, 0);
  assert_int_equal(offset, 4321);
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_flush(stream, 1000, &err)),
                   kInvalidArgument, 0);
  expect_transport(
      TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_wait_for_offset(stream, 6, 1000, &err)),
      kInvalidArgument, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 4, 0, &err));

  /* The failed records stay retrievable, with their offsets and bytes. */
  zb_records *unacked = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &unacked, &err));
  assert_int_equal(zb_records_count(unacked), kFailed);
  for (size_t i = 0; i < kFailed; ++i) {
    const void *data = NULL;
    size_t data_len = 0;
    uint64_t record_offset = 0;
    TU_EXPECT(ZB_OK, err, zb_records_get(unacked, i, &data, &data_len, &record_offset, &err));
    assert_int_equal(record_offset, 5 + i);
    assert_int_equal(data_len, failed_lens[i]);
    assert_memory_equal(data, failed[i], data_len);
  }
  zb_records_free(unacked);

  /* close() reports the failure, not success, and so does a second close. */
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_close(stream, 1000, &err)),
                   kInvalidArgument, 0);
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_close(stream, 0, &err)),
                   kInvalidArgument, 0);
  tu_assert_unacked_count(stream, kFailed);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.state, ZB_STREAM_FAILED);
  assert_int_equal(info.records_accepted, 8);
  assert_int_equal(info.records_acked, 5);
  assert_int_equal(info.records_in_flight, kFailed);
  /* No second error event for the same records. */
  while (tu_poll_one(stream, &event, 0)) {
    assert_int_equal(event.type, ZB_EVENT_ACK);
    assert_null(event.error);
  }
  zb_stream_destroy(stream);
  /* The refused request was not stored; nothing was retried. */
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 5);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
}

static void test_refused_stream_permission_denied_fails_fast(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_refuse_streams(env->server, kPermissionDenied, "no access to this table", -1);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  /* Default recovery settings: a retry would wait at least a second. */
  const int64_t started = tu_now_ms();
  zb_error *kept = TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor,
                                                 descriptor_len, NULL, &stream, &err));
  const int64_t took = tu_now_ms() - started;
  expect_transport(kept, kPermissionDenied, 0);
  assert_null(stream);
  assert_true(took < 900);
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);

  /* JSON streams alike. */
  kept = TU_EXPECT_ERROR(
      ZB_ERR_TRANSPORT, err,
      zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  expect_transport(kept, kPermissionDenied, 0);
  zbtest_server_clear_faults(env->server);
}

static void test_refused_stream_unavailable_is_retried(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_refuse_streams(env->server, kUnavailable, "warming up", 2);
  static const char *const pairs[] = {"recovery.backoff.ms", "10", NULL};
  zb_config *cfg = tu_config(pairs);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
  zb_error *err = NULL;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "after retries", record);
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  zb_stream_destroy(stream);
  tu_assert_stored(env->server, TU_TABLE, 0, record, len, false);

  /* More refusals than retries: the last error comes back, still retryable. */
  zbtest_server_refuse_streams(env->server, kUnavailable, "still warming up", -1);
  static const char *const few[] = {"recovery.backoff.ms", "10", "recovery.retries", "2", NULL};
  cfg = tu_config(few);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  stream = NULL;
  zb_error *kept = TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor,
                                                 descriptor_len, cfg, &stream, &err));
  zb_config_destroy(cfg);
  expect_transport(kept, kUnavailable, 1);
  assert_null(stream);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
  zbtest_server_clear_faults(env->server);
}

static void test_recovery_disabled_fails_at_once(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_refuse_streams(env->server, kUnavailable, "unavailable", 1);
  static const char *const pairs[] = {"recovery.enable", "false", NULL};
  zb_config *cfg = tu_config(pairs);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  const int64_t started = tu_now_ms();
  zb_error *kept = TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor,
                                                 descriptor_len, cfg, &stream, &err));
  const int64_t took = tu_now_ms() - started;
  assert_int_equal(zb_error_grpc_status(kept), kUnavailable);
  zb_error_free(kept);
  assert_null(stream);
  assert_true(took < 900); /* no retry after the default 2000 ms backoff */
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);

  /* The one refusal is used up: the same config opens now. */
  stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  zb_stream_destroy(stream);
}

static void test_unreachable_server_is_a_retryable_transport_error(void **state) {
  (void)state;
  /* A port where a server listened a moment ago and nothing does now. */
  zbtest_server *gone = zbtest_server_start(NULL);
  assert_non_null(gone);
  char endpoint[128];
  snprintf(endpoint, sizeof endpoint, "%s", zbtest_server_endpoint(gone));
  zbtest_server_stop(gone);

  zb_sdk *sdk = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(endpoint, NULL, &sdk, &err));
  static const char *const pairs[] = {
      "recovery.backoff.ms", "10", "recovery.retries", "1", "recovery.timeout.ms", "5000", NULL};
  zb_config *cfg = tu_config(pairs);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *kept = TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor,
                                                 descriptor_len, cfg, &stream, &err));
  if (zb_error_is_retryable(kept) != 1) print_error("\"%s\"\n", zb_error_message(kept));
  assert_int_equal(zb_error_is_retryable(kept), 1);
  assert_true(zb_error_grpc_status(kept) > 0);
  zb_error_free(kept);
  assert_null(stream);
  zb_config_destroy(cfg);
  zb_sdk_destroy(sdk);
}

static void test_broken_call_mid_stream_is_recovered(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"recovery.backoff.ms", "10", NULL};
  zb_config *cfg = tu_config(pairs);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  zb_error *err = NULL;

  /* The call breaks with UNAVAILABLE after 50 records; the rest must survive it. */
  zbtest_server_fail_after(env->server, 50, kUnavailable, "server restarting");
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
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.recoveries, 1);
  assert_true(info.records_replayed >= 1);

  /* The acks: contiguous from 0 to the last offset, no error event. */
  uint64_t next_ack = 0;
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, kCount);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  tu_assert_unacked_count(stream, 0);
  zb_stream_destroy(stream);

  assert_stored_at_least_once_in_order(env->server, kCount, "survivor");
}

static void test_fatal_error_reaches_the_event_callback(void **state) {
  tu_env *env = ENV(state);
  static tu_event_log log; /* static: the library may touch it until the stream is destroyed */
  tu_event_log_init(&log);
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_config_set_event_callback(cfg, tu_event_log_cb, &log, tu_event_log_free, &err));
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  zbtest_server_fail_after(env->server, 3, kInvalidArgument, "bad record");
  uint8_t records[5][TU_EVENT_CAP];
  const void *pointers[5];
  size_t lens[5];
  for (int i = 0; i < 5; ++i) {
    lens[i] = tu_event(i, "callback", records[i]);
    pointers[i] = records[i];
  }
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, pointers, lens, 3, NULL, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, pointers + 3, lens + 3, 2, NULL, &err));
  assert_true(tu_event_log_wait_errors(&log, 1, 30000));
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_close(stream, 1000, &err)),
                   kInvalidArgument, 0);
  const tu_event_log seen = tu_event_log_snapshot(&log);
  if (seen.violations != 0) print_error("%s\n", seen.what);
  assert_int_equal(seen.violations, 0);
  assert_int_equal(seen.errors, 1);
  assert_int_equal(seen.error_first, 3);
  assert_int_equal(seen.error_last, 4);
  assert_int_equal(seen.error_code, ZB_ERR_TRANSPORT);
  assert_int_equal(seen.error_grpc, kInvalidArgument);
  assert_int_equal(seen.error_retryable, 0);
  assert_true(seen.error_has_message);
  tu_assert_unacked_count(stream, 2);
  zb_stream_destroy(stream);
  assert_int_equal(tu_event_log_snapshot(&log).freed, 1);
  tu_event_log_fini(&log);
}

static void test_ack_timeout_reconnects_and_replays(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"stream.ack.timeout.ms", "300", "recovery.backoff.ms", "10",
                                      NULL};
  zb_config *cfg = tu_config(pairs);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  zb_error *err = NULL;
  /* The server goes silent: the stream gives the call up and replays on a new one. */
  zbtest_server_withhold_acks(env->server, true);
  enum { kCount = 20 };
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < kCount; ++i) {
    const size_t len = tu_event(i, "silent", record);
    uint64_t offset = 0;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
    assert_int_equal(offset, i);
  }
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 2 * kCount, 20000));
  assert_true(zbtest_server_streams_opened(env->server) >= 2);
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 20000, &err));
  uint64_t next_ack = 0;
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, kCount);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  zb_stream_destroy(stream);
  assert_stored_at_least_once_in_order(env->server, kCount, "silent");
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
  zb_config *cfg = tu_config(pairs);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  zb_error *err = NULL;
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 5; ++i) {
    const size_t len = tu_event(i, "recovering", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));

  /* The call breaks on the next request and every reconnection is refused for now. */
  zbtest_server_refuse_streams(env->server, kUnavailable, "not yet", -1);
  zbtest_server_fail_after(env->server, 0, kUnavailable, "going away");
  for (int i = 5; i < 8; ++i) {
    const size_t len = tu_event(i, "recovering", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  }
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 10000));
  /* While recovering nothing is acknowledged, yet records are still accepted. */
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_wait_for_offset(stream, 7, 200, &err));
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.state, ZB_STREAM_RECOVERING);
  assert_int_equal(info.records_acked, 5);
  const size_t len = tu_event(8, "recovering", record);
  uint64_t offset = 0;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 8);

  zbtest_server_clear_faults(env->server);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_accepted, 9);
  assert_int_equal(info.records_acked, 9);
  assert_int_equal(info.records_in_flight, 0);
  assert_int_equal(info.recoveries, 1);
  assert_true(info.records_replayed >= 1);
  assert_true(info.records_replayed <= 4);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  zb_stream_destroy(stream);
  assert_int_equal(zbtest_server_streams_opened(env->server), 2);
  assert_stored_at_least_once_in_order(env->server, 9, "recovering");
}

static void test_recreate_after_a_timed_out_close(void **state) {
  tu_env *env = ENV(state);
  static tu_event_log log; /* static: the library may touch it until both streams are gone */
  tu_event_log_init(&log);
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_config_set_event_callback(cfg, tu_event_log_cb, &log, tu_event_log_free, &err));
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);

  /* Recreating needs a failed or closed stream. */
  zb_stream *fresh = NULL;
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_recreate(stream, &fresh, &err));
  assert_null(fresh);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_recreate(stream, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_recreate(NULL, &fresh, &err));

  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 3; ++i) {
    const size_t len = tu_event(i, "recreated", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  zbtest_server_withhold_acks(env->server, true);
  /* Two requests' worth, a batch and a single record. */
  uint8_t batch[2][TU_EVENT_CAP];
  const void *pointers[2] = {batch[0], batch[1]};
  const size_t lens[2] = {tu_event(3, "recreated", batch[0]), tu_event(4, "recreated", batch[1])};
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, pointers, lens, 2, NULL, &err));
  const size_t len5 = tu_event(5, "recreated", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len5, NULL, &err));
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 100, &err));
  zbtest_server_withhold_acks(env->server, false);

  /* The new stream carries the three unacknowledged records, from offset 0. */
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &fresh, &err));
  assert_non_null(fresh);
  assert_ptr_not_equal(fresh, stream);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(fresh, &info, &err));
  assert_int_equal(info.records_accepted, 3);
  uint64_t offset = 0;
  const size_t len6 = tu_event(6, "recreated", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(fresh, record, len6, &offset, &err));
  assert_int_equal(offset, 3);
  TU_EXPECT(ZB_OK, err, zb_stream_close(fresh, 10000, &err));
  tu_assert_unacked_count(fresh, 0);
  /* The old stream is unchanged: still closed with its records. */
  tu_assert_unacked_count(stream, 3);
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.state, ZB_STREAM_CLOSED);

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
  zbtest_server_fail_after(env->server, 2, kInvalidArgument, "refused once");
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 2; ++i) {
    const size_t len = tu_event(i, "again", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  const size_t len = tu_event(2, "again", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  zb_error *failed = TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_flush(stream, 10000, &err));
  zb_error_free(failed);

  /* The refusal was one-shot: the recreated stream delivers the refused record. */
  zb_stream *fresh = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &fresh, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(fresh, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(fresh, 10000, &err));
  zb_stream_destroy(fresh);
  zb_stream_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 3);
  tu_assert_stored(env->server, TU_TABLE, 2, record, len, false);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fatal_server_error_fails_the_stream, tu_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_refused_stream_permission_denied_fails_fast, tu_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_refused_stream_unavailable_is_retried, tu_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_recovery_disabled_fails_at_once, tu_setup, tu_teardown),
      cmocka_unit_test(test_unreachable_server_is_a_retryable_transport_error),
      cmocka_unit_test_setup_teardown(test_broken_call_mid_stream_is_recovered, tu_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_fatal_error_reaches_the_event_callback, tu_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_ack_timeout_reconnects_and_replays, tu_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_recovering_state_and_counters, tu_setup, tu_teardown),
      cmocka_unit_test_setup_teardown(test_recreate_after_a_timed_out_close, tu_setup, tu_teardown),
      cmocka_unit_test_setup_teardown(test_recreate_after_a_fatal_failure, tu_setup, tu_teardown),
  };
  return cmocka_run_group_tests_name("failures", tests, NULL, NULL);
}
