/* Lanes (stream.lanes): one handle over several server streams of one table, with one offset
 * space and one cumulative watermark. 64 lanes open, carry records and close; the watermark
 * stops below a lane that lost its call and moves on once it recovers; a lane that fails for
 * good fails the handle, and every record not acknowledged comes back in offset order; a
 * recreated stream with lanes sends exactly those records again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

/* Asserts that the server stored every Event id in 0..count-1 of `table` at least once, in
 * whatever order the lanes delivered them, and nothing else. */
static void assert_ids_stored(zbtest_server *server, const char *table, int64_t count) {
  bool *seen = calloc((size_t)count, sizeof *seen);
  assert_non_null(seen);
  const int64_t rows = zbtest_server_record_count(server, table);
  for (int64_t row = 0; row < rows; ++row) {
    const uint8_t *data = NULL;
    size_t len = 0;
    const int64_t id = tu_stored_event_id(server, table, row, &data, &len);
    assert_true(id >= 0 && id < count);
    seen[id] = true;
  }
  for (int64_t id = 0; id < count; ++id) {
    if (!seen[id]) fail_msg("record %lld was not stored", (long long)id);
  }
  free(seen);
}

/* The stream's unacknowledged records, asserting that they come in strictly increasing offset
 * order and that each is the Event whose id is its offset (as tu_ingest_events() made them).
 * Returns the list, owned by the caller. */
static zb_records *unacked_in_order(zb_stream *stream) {
  zb_records *records = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &records, &err));
  for (size_t i = 0; i < zb_records_count(records); ++i) {
    const void *data = NULL;
    size_t len = 0;
    uint64_t offset = 0;
    TU_EXPECT(ZB_OK, err, zb_records_get(records, i, &data, &len, &offset, &err));
    int64_t id = -1;
    assert_true(tu_decode_event_id(data, len, &id));
    assert_int_equal(id, offset);
    if (i > 0) {
      uint64_t previous = 0;
      TU_EXPECT(ZB_OK, err, zb_records_get(records, i - 1, &data, &len, &previous, &err));
      assert_true(previous < offset);
    }
  }
  return records;
}

static uint64_t offset_at(const zb_records *records, size_t index) {
  const void *data = NULL;
  size_t len = 0;
  uint64_t offset = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_records_get(records, index, &data, &len, &offset, &err));
  return offset;
}

static void test_sixty_four_lanes_open_ingest_flush_and_close(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE,
                                               (const char *const[]){"stream.lanes", "64", NULL});
  assert_true(zbtest_server_wait_streams_open(env->server, 64, 30000));
  assert_int_equal(zbtest_server_streams_opened(env->server), 64);
  /* One batch then single records: offsets stay contiguous whatever lane each went to. */
  tu_batch batch;
  tu_batch_fill(&batch, TU_BATCH_MAX, 0, "batch");
  uint64_t last = 0;
  zb_error *err = NULL;
  TU_EXPECT(
      ZB_OK, err,
      zb_stream_ingest_proto_batch(stream, batch.pointers, batch.lens, batch.count, &last, &err));
  assert_int_equal(last, TU_BATCH_MAX - 1);
  assert_int_equal(tu_ingest_and_flush(stream, TU_BATCH_MAX, 2000, "lane"), TU_BATCH_MAX + 1999);
  uint64_t next_ack = 0;
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, TU_BATCH_MAX + 2000);
  const zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_accepted, TU_BATCH_MAX + 2000);
  assert_int_equal(info.records_acked, TU_BATCH_MAX + 2000);
  assert_int_equal(info.records_in_flight, 0);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), TU_BATCH_MAX + 2000);
  assert_ids_stored(env->server, TU_TABLE, TU_BATCH_MAX + 2000);
  tu_close_and_destroy(stream);
  /* Every lane ended its call. */
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 30000));
}

static void test_watermark_stops_below_a_lane_that_lost_its_call(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE,
      (const char *const[]){"stream.lanes", "4", "recovery.backoff.ms", "1",
                            "recovery.backoff.max.ms", "20", "recovery.retries", "100000", NULL});
  tu_ingest_and_flush(stream, 0, 40, "before");
  uint64_t next_ack = 0;
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, 40);
  /* The lane that takes record 40 loses its call on it and cannot open another; the others
   * take records 41..80 and get them acknowledged. */
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "lane down", -1);
  zbtest_server_fail_after(env->server, 0, TU_GRPC_UNAVAILABLE, "lane broken");
  /* Larger than all the records after it: even before the stream sees its lane down, the
   * lane holds more bytes than any other and gets none of them. */
  uint8_t *stuck = NULL;
  const size_t stuck_len = tu_big_event(40, 4000, &stuck);
  uint64_t offset = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, stuck, stuck_len, &offset, &err));
  free(stuck);
  assert_int_equal(offset, 40);
  assert_true(zbtest_server_wait_streams_open(env->server, 3, 30000));
  tu_ingest_events(stream, 41, 40, "after");
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 80, 30000));
  /* Whatever the other lanes got acknowledged, the watermark stays below record 40. */
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_flush(stream, 200, &err));
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, 40);
  const zb_stream_info held = tu_stream_info(stream);
  assert_int_equal(held.records_acked, 40);
  assert_int_equal(held.records_accepted, 81);
  zb_records *unacked = unacked_in_order(stream);
  assert_true(zb_records_count(unacked) >= 1);
  assert_int_equal(offset_at(unacked, 0), 40);
  zb_records_free(unacked);
  /* The lane comes back, sends record 40 again, and the watermark covers everything. */
  zbtest_server_clear_faults(env->server);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, 81);
  const zb_stream_info recovered = tu_stream_info(stream);
  assert_true(recovered.recoveries >= 1);
  assert_ids_stored(env->server, TU_TABLE, 81);
  tu_close_and_destroy(stream);
}

/* A stream of 4 lanes whose server withholds every ack, holding records 0..199 spread over its
 * lanes; then record 200 meets a refusal no retry can fix on its lane. */
static zb_stream *open_and_fail_a_lane(tu_env *env, uint64_t *next_ack) {
  zb_stream *stream = tu_open_proto_configured(
      env->sdk, TU_TABLE,
      (const char *const[]){"stream.lanes", "4", "stream.ack.timeout.ms", "60000", NULL});
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 0, 200, "held");
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 200, 30000));
  zbtest_server_fail_after(env->server, 0, TU_GRPC_INVALID_ARGUMENT, "refused for good");
  tu_ingest_events(stream, 200, 1, "refused");
  *next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 30000, next_ack);
  /* Everything above the watermark, whichever lane held it. */
  tu_assert_error_event(&error, 0, 200, ZB_ERR_TRANSPORT);
  assert_int_equal(error.grpc_status, TU_GRPC_INVALID_ARGUMENT);
  assert_int_equal(error.retryable, 0);
  assert_true(tu_contains(error.message, "lane"));
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_FAILED);
  return stream;
}

static void test_a_failed_lane_fails_the_stream_and_nothing_is_missing(void **state) {
  tu_env *env = ENV(state);
  uint64_t next_ack = 0;
  zb_stream *stream = open_and_fail_a_lane(env, &next_ack);
  /* No lane got an ack: every record comes back, in offset order. */
  zb_records *unacked = unacked_in_order(stream);
  assert_int_equal(zb_records_count(unacked), 201);
  for (size_t i = 0; i < 201; ++i) assert_int_equal(offset_at(unacked, i), i);
  zb_records_free(unacked);
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(201, "late", record);
  zb_error *err = NULL;
  TU_EXPECT(ZB_ERR_TRANSPORT, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  TU_EXPECT(ZB_ERR_TRANSPORT, err, zb_stream_close(stream, 1000, &err));
  zb_stream_destroy(stream);
}

static void test_recreate_with_lanes_sends_exactly_the_unacknowledged_records(void **state) {
  tu_env *env = ENV(state);
  uint64_t next_ack = 0;
  zb_stream *stream = open_and_fail_a_lane(env, &next_ack);
  zb_records *before = unacked_in_order(stream);
  const size_t count = zb_records_count(before);
  assert_int_equal(count, 201);
  zb_stream *fresh = NULL;
  zb_error *err = NULL;
  /* Records 0..199 were stored (their acks withheld); the request of record 200 was not. */
  const int64_t stored_before = zbtest_server_record_count(env->server, TU_TABLE);
  assert_int_equal(stored_before, 200);
  /* Acks are still withheld (the refusal was used up): the new stream holds what it was
   * given, and nothing else. */
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &fresh, &err));
  zb_stream_destroy(stream);
  const zb_stream_info held = tu_stream_info(fresh);
  assert_int_equal(held.records_accepted, count);
  zb_records *again = unacked_in_order(fresh);
  assert_int_equal(zb_records_count(again), count);
  for (size_t i = 0; i < count; ++i) {
    const void *was = NULL, *now = NULL;
    size_t was_len = 0, now_len = 0;
    uint64_t offset = 0;
    TU_EXPECT(ZB_OK, err, zb_records_get(before, i, &was, &was_len, NULL, &err));
    TU_EXPECT(ZB_OK, err, zb_records_get(again, i, &now, &now_len, &offset, &err));
    assert_int_equal(offset, i);
    assert_memory_equal(was, now, was_len);
    assert_int_equal(was_len, now_len);
  }
  zb_records_free(again);
  zb_records_free(before);
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(fresh, 30000, &err));
  /* Exactly the 201 records went out again. */
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), stored_before + 201);
  tu_close_and_destroy(fresh);
}

static void test_a_close_that_times_out_reports_every_lanes_records(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE,
                                               (const char *const[]){"stream.lanes", "4", NULL});
  tu_ingest_and_flush(stream, 0, 10, "acked");
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 10, 50, "held");
  zb_error *err = NULL;
  TU_EXPECT(ZB_ERR_TIMEOUT, err, zb_stream_close(stream, 200, &err));
  uint64_t next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 0, &next_ack);
  tu_assert_error_event(&error, 10, 59, ZB_ERR_TIMEOUT);
  zb_records *unacked = unacked_in_order(stream);
  assert_int_equal(zb_records_count(unacked), 50);
  assert_int_equal(offset_at(unacked, 0), 10);
  assert_int_equal(offset_at(unacked, 49), 59);
  zb_records_free(unacked);
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_CLOSED);
  zb_stream_destroy(stream);
}

static void test_a_schema_stream_with_lanes_encodes_json_records(void **state) {
  tu_env *env = ENV(state);
  zb_schema *schema = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_from_ddl(TU_TABLE " (id BIGINT, payload STRING)", &schema, &err));
  zb_config *cfg = tu_config((const char *const[]){"stream.lanes", "3", NULL});
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new_from_schema(env->sdk, schema, cfg, &stream, &err));
  zb_config_destroy(cfg);
  zb_schema_destroy(schema);
  for (int id = 0; id < 300; ++id) {
    char json[64];
    const int len = snprintf(json, sizeof json, "{\"id\": %d, \"payload\": \"json\"}", id);
    uint64_t offset = 0;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(stream, json, (size_t)len, &offset, &err));
    assert_int_equal(offset, id);
  }
  /* A record that does not fit the schema is refused before anything of its call is taken. */
  const char *const batch[] = {"{\"id\": 300}", "{\"id\": \"not a number\"}"};
  const size_t lens[] = {strlen(batch[0]), strlen(batch[1])};
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_stream_ingest_json_batch(stream, batch, lens, 2, NULL, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(tu_stream_info(stream).records_accepted, 300);
  tu_close_and_destroy(stream);
  assert_ids_stored(env->server, TU_TABLE, 300);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 300);
}

static void test_lanes_take_one_to_sixty_four(void **state) {
  tu_env *env = ENV(state);
  zb_config *cfg = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_new(&cfg, &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err, zb_config_set(cfg, "stream.lanes", "0", &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err, zb_config_set(cfg, "stream.lanes", "65", &err));
  TU_EXPECT(ZB_OK, err, zb_config_set(cfg, "stream.lanes", "1", &err));
  zb_stream *one = tu_open_proto(env->sdk, TU_TABLE, cfg);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
  tu_ingest_and_flush(one, 0, 10, "one");
  tu_close_and_destroy(one);
  zb_config_destroy(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_sixty_four_lanes_open_ingest_flush_and_close),
      TU_TEST(test_watermark_stops_below_a_lane_that_lost_its_call),
      TU_TEST(test_a_failed_lane_fails_the_stream_and_nothing_is_missing),
      TU_TEST(test_recreate_with_lanes_sends_exactly_the_unacknowledged_records),
      TU_TEST(test_a_close_that_times_out_reports_every_lanes_records),
      TU_TEST(test_a_schema_stream_with_lanes_encodes_json_records),
      TU_TEST(test_lanes_take_one_to_sixty_four),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
