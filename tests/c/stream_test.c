/* Streams against the local server: ingest (single and batch, protobuf and JSON), offsets, what
 * the server stores, flush, acks through polling, close, and every way an ingest or an open is
 * rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

static const char *const kJson[] = {
    "{\"id\": 0, \"payload\": \"zero\"}",
    "{\"id\": 1, \"payload\": \"one\"}",
    "{\"id\": 2, \"payload\": \"two \\u00e9\\u4e2d\"}",
    "{\"id\": 3}",
    "{\"id\": 4, \"payload\": \"\"}",
};
#define JSON_COUNT (sizeof kJson / sizeof kJson[0])

/* A protobuf stream into TU_TABLE and a JSON stream into TU_JSON_TABLE. */
static void open_proto_and_json(tu_env *env, zb_stream **proto, zb_stream **json) {
  *proto = tu_open_proto(env->sdk, TU_TABLE, NULL);
  *json = tu_open_json(env->sdk, TU_JSON_TABLE, NULL);
}

/* The end of the tests of rejected records: the rejected ones took no offset, so a good record
 * (`record` into `proto`, kJson[0] into `json`) still gets offset 0 in each stream, and once both
 * are closed (and destroyed) each table holds exactly that one record. */
static void expect_good_records_at_offset_0(tu_env *env, zb_stream *proto, zb_stream *json,
                                            const void *record, size_t len) {
  zb_error *err = NULL;
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(proto, record, len, &offset, &err));
  assert_int_equal(offset, 0);
  offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, kJson[0], strlen(kJson[0]), &offset, &err));
  assert_int_equal(offset, 0);
  tu_close_and_destroy(proto);
  tu_close_and_destroy(json);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 1);
  assert_int_equal(zbtest_server_record_count(env->server, TU_JSON_TABLE), 1);
}

static void test_proto_single_ingest(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  enum { kCount = 20 };
  tu_batch batch;
  tu_batch_fill_numbered(&batch, kCount, 0, "single-");
  zb_error *err = NULL;
  /* Every record is ingested from one scratch buffer, overwritten right after each call: the
   * bytes must have been copied before the call returned. */
  uint8_t scratch[TU_EVENT_CAP];
  for (int i = 0; i < kCount; ++i) {
    memcpy(scratch, batch.records[i], batch.lens[i]);
    uint64_t offset = UINT64_MAX;
    err = TU_ERR_SENTINEL;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, scratch, batch.lens[i], &offset, &err));
    memset(scratch, 0xee, sizeof scratch);
    assert_int_equal(offset, i);
  }
  /* offset_out may be NULL. */
  uint8_t extra[TU_EVENT_CAP];
  const size_t extra_len = tu_event(kCount, "no offset wanted", extra);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, extra, extra_len, NULL, &err));

  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), kCount + 1);
  tu_assert_stored_batch(env->server, TU_TABLE, 0, &batch);
  tu_assert_stored(env->server, TU_TABLE, kCount, extra, extra_len, false);
  tu_assert_unacked_count(stream, 0);

  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
}

static void test_proto_batch_ingest(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  enum { kCount = 12 };
  tu_batch batch;
  tu_batch_fill_numbered(&batch, kCount, 1000, "batch-");
  const void *const *pointers = batch.pointers;
  const size_t *lens = batch.lens;
  zb_error *err = NULL;
  uint64_t last = UINT64_MAX;
  /* Batches of 5, 1 and 3 records, then 3 single records. */
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, pointers, lens, 5, &last, &err));
  assert_int_equal(last, 4);
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, pointers + 5, lens + 5, 1, &last, &err));
  assert_int_equal(last, 5);
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, pointers + 6, lens + 6, 3, &last, &err));
  assert_int_equal(last, 8);
  for (int i = 9; i < kCount; ++i) {
    uint64_t offset = UINT64_MAX;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, pointers[i], lens[i], &offset, &err));
    assert_int_equal(offset, i);
  }
  /* last_offset_out may be NULL. */
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, pointers, lens, 2, NULL, &err));

  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), kCount + 2);
  tu_assert_stored_batch(env->server, TU_TABLE, 0, &batch);
  tu_assert_stored(env->server, TU_TABLE, kCount, pointers[0], lens[0], false);
  tu_assert_stored(env->server, TU_TABLE, kCount + 1, pointers[1], lens[1], false);
  tu_close_and_destroy(stream);
}

static void test_json_single_and_batch(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_json(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  /* Single records, not NUL-terminated where the length ends: the length rules. */
  for (size_t i = 0; i < JSON_COUNT; ++i) {
    char padded[128];
    const size_t len = strlen(kJson[i]);
    memcpy(padded, kJson[i], len);
    memcpy(padded + len, "garbage", 8);
    uint64_t offset = UINT64_MAX;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(stream, padded, len, &offset, &err));
    assert_int_equal(offset, i);
  }
  size_t lens[JSON_COUNT];
  for (size_t i = 0; i < JSON_COUNT; ++i) lens[i] = strlen(kJson[i]);
  uint64_t last = UINT64_MAX;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_json_batch(stream, kJson, lens, JSON_COUNT, &last, &err));
  assert_int_equal(last, 2 * JSON_COUNT - 1);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_json_batch(stream, kJson + 1, lens + 1, 2, &last, &err));
  assert_int_equal(last, 2 * JSON_COUNT + 1);

  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 2 * JSON_COUNT + 2);
  for (size_t i = 0; i < 2 * JSON_COUNT; ++i) {
    const char *expected = kJson[i % JSON_COUNT];
    tu_assert_stored(env->server, TU_TABLE, (int64_t)i, expected, strlen(expected), true);
  }
  tu_assert_stored(env->server, TU_TABLE, 2 * JSON_COUNT, kJson[1], lens[1], true);
  tu_assert_stored(env->server, TU_TABLE, 2 * JSON_COUNT + 1, kJson[2], lens[2], true);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  tu_assert_unacked_count(stream, 0);
  zb_stream_destroy(stream);
}

static void test_streams_into_two_tables(void **state) {
  tu_env *env = ENV(state);
  zb_stream *proto = tu_open_proto(env->sdk, "main.default.proto_table", NULL);
  zb_stream *json = tu_open_json(env->sdk, "main.other.json_table", NULL);
  zb_error *err = NULL;
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 3; ++i) {
    uint64_t offset = 99;
    const size_t len = tu_event(i, "p", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(proto, record, len, &offset, &err));
    assert_int_equal(offset, i);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, kJson[i], strlen(kJson[i]), &offset, &err));
    assert_int_equal(offset, i); /* offsets are per stream */
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(proto, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(json, 10000, &err));
  assert_int_equal(zbtest_server_record_count(env->server, "main.default.proto_table"), 3);
  assert_int_equal(zbtest_server_record_count(env->server, "main.other.json_table"), 3);
  tu_assert_stored(env->server, "main.other.json_table", 2, kJson[2], strlen(kJson[2]), true);
  tu_close_and_destroy(proto);
  tu_close_and_destroy(json);
}

static void test_flush_and_poll_ack_events(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  /* Nothing ingested: flush is OK at once, the queue is empty. */
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 0, &err));
  zb_event event;
  assert_false(tu_poll_one(stream, &event, 0));

  uint64_t next_ack = 0;
  uint64_t last_offset = 0;
  size_t events_seen = 0;
  for (int round = 0; round < 4; ++round) {
    last_offset = tu_ingest_and_flush(stream, round * 100, 25, "poll");
    /* After a flush the ack watermark covers everything accepted before it. */
    events_seen += tu_drain_acks(stream, &next_ack);
    assert_int_equal(next_ack, last_offset + 1);
  }
  assert_int_equal(last_offset, 99);
  assert_true(events_seen >= 4);

  /* A poll with nothing queued times out with no events, after about its timeout. */
  const int64_t started = tu_now_ms();
  assert_false(tu_poll_one(stream, &event, 100));
  assert_true(tu_now_ms() - started >= 90);
  /* capacity 0 with no array is allowed and returns nothing. */
  size_t count = 9;
  TU_EXPECT(ZB_OK, err, zb_stream_poll(stream, NULL, sizeof(zb_event), 0, 0, &count, &err));
  assert_int_equal(count, 0);

  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  /* A clean close leaves no error event behind. */
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, 100);
  zb_stream_destroy(stream);
}

static void test_poll_ack_ranges_with_a_large_event_array(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  const uint64_t last = tu_ingest_and_flush(stream, 0, 300, NULL);
  /* The caller's zb_event may be larger than the library's: only event_size strides count. */
  typedef struct {
    zb_event event;
    uint64_t canary;
  } bigger_event;
  bigger_event events[16];
  for (size_t i = 0; i < 16; ++i) events[i].canary = 0xfeedfacecafebeefULL;
  uint64_t next = 0;
  for (;;) {
    size_t count = 0;
    TU_EXPECT(ZB_OK, err,
              zb_stream_poll(stream, &events[0].event, sizeof events[0], 16, 0, &count, &err));
    if (count == 0) break;
    for (size_t i = 0; i < count; ++i) {
      const zb_event *event = &events[i].event;
      assert_true(event->struct_size <= sizeof(zb_event));
      assert_int_equal(event->type, ZB_EVENT_ACK);
      assert_int_equal(event->first_offset, next);
      assert_true(event->last_offset >= event->first_offset);
      next = event->last_offset + 1;
    }
    for (size_t i = 0; i < 16; ++i) assert_int_equal(events[i].canary, 0xfeedfacecafebeefULL);
  }
  assert_int_equal(next, last + 1);
  assert_int_equal(last, 299);
  tu_close_and_destroy(stream);
}

static void test_wait_for_offset(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  /* Nothing issued yet. */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 0, 0, &err));
  tu_ingest_events(stream, 0, 3, "wait");
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 2, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 0, 0, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 1, ZB_TIMEOUT_INFINITE, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 3, 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 3, 100, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, UINT64_MAX, 0, &err));
  /* A timeout below ZB_TIMEOUT_INFINITE is out of range. */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 0, -2, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_flush(stream, -5, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  /* Acknowledged before the close: still acknowledged after it. */
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(stream, 2, 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 3, 0, &err));
  zb_stream_destroy(stream);
}

static void test_close_is_idempotent_and_final(void **state) {
  tu_env *env = ENV(state);
  zb_stream *proto, *json;
  open_proto_and_json(env, &proto, &json);
  zb_error *err = NULL;
  tu_batch one;
  tu_batch_fill(&one, 1, 7, "close");
  const size_t json_len = strlen(kJson[0]);
  for (int i = 0; i < 5; ++i) {
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(proto, one.records[0], one.lens[0], NULL, &err));
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, kJson[0], json_len, NULL, &err));
  }
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_stream_close(proto, 10000, &err));
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_stream_close(proto, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(proto, 0, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(json, ZB_TIMEOUT_INFINITE, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(json, 0, &err));
  /* Everything was acknowledged before close returned OK. */
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 5);
  assert_int_equal(zbtest_server_record_count(env->server, TU_JSON_TABLE), 5);
  tu_assert_unacked_count(proto, 0);
  tu_assert_unacked_count(json, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(proto, 0, &err));

  /* No record is accepted after a close, whatever the call. */
  uint64_t offset = 1234;
  TU_EXPECT(ZB_ERR_CLOSED, err,
            zb_stream_ingest_proto(proto, one.records[0], one.lens[0], &offset, &err));
  TU_EXPECT(ZB_ERR_CLOSED, err,
            zb_stream_ingest_proto_batch(proto, one.pointers, one.lens, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_CLOSED, err, zb_stream_ingest_json(json, kJson[0], json_len, &offset, &err));
  TU_EXPECT(ZB_ERR_CLOSED, err,
            zb_stream_ingest_json_batch(json, kJson, &json_len, 1, &offset, &err));
  assert_int_equal(offset, 1234);
  /* The close's result does not change with the failed ingests. */
  TU_EXPECT(ZB_OK, err, zb_stream_close(proto, 0, &err));
  zb_stream_destroy(proto);
  zb_stream_destroy(json);
  /* Both calls ended on the server. */
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 10000));
}

static void test_record_type_mismatch(void **state) {
  tu_env *env = ENV(state);
  zb_stream *proto, *json;
  open_proto_and_json(env, &proto, &json);
  zb_error *err = NULL;
  tu_batch one;
  tu_batch_fill(&one, 1, 1, "type");
  const size_t json_len = strlen(kJson[0]);
  uint64_t offset = 55;
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_proto(json, one.records[0], one.lens[0], &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_proto_batch(json, one.pointers, one.lens, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_json(proto, kJson[0], json_len, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_json_batch(proto, kJson, &json_len, 1, &offset, &err));
  assert_int_equal(offset, 55);
  /* Rejected records take no offset. */
  expect_good_records_at_offset_0(env, proto, json, one.records[0], one.lens[0]);
}

static void test_empty_records_and_batches(void **state) {
  tu_env *env = ENV(state);
  zb_stream *proto, *json;
  open_proto_and_json(env, &proto, &json);
  zb_error *err = NULL;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "empty", record);
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err, zb_stream_ingest_proto(proto, record, 0, NULL, &err));
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err, zb_stream_ingest_json(json, "{}", 0, NULL, &err));

  /* One empty record spoils its whole batch: nothing of it is accepted. */
  const void *records[3] = {record, record, record};
  const size_t lens[3] = {len, 0, len};
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err,
            zb_stream_ingest_proto_batch(proto, records, lens, 3, NULL, &err));
  const char *json_records[2] = {kJson[0], kJson[1]};
  const size_t json_lens[2] = {strlen(kJson[0]), 0};
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err,
            zb_stream_ingest_json_batch(json, json_records, json_lens, 2, NULL, &err));

  /* A batch of no records. */
  TU_EXPECT(ZB_ERR_EMPTY_BATCH, err,
            zb_stream_ingest_proto_batch(proto, records, lens, 0, NULL, &err));
  TU_EXPECT(ZB_ERR_EMPTY_BATCH, err,
            zb_stream_ingest_json_batch(json, json_records, json_lens, 0, NULL, &err));

  expect_good_records_at_offset_0(env, proto, json, record, len);
}

/* stream.max.payload.bytes: the record bytes of one ingest call, 10,420,224 by default (the
 * service's 10 MiB less room for the envelope), refused at once with both sizes named. */
static void test_payload_limit(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  const size_t limit = 10420224;
  uint8_t *big = malloc(limit + 1);
  assert_non_null(big);
  memset(big, 'x', limit + 1);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_status over = zb_stream_ingest_proto(stream, big, limit + 1, NULL, &err);
  assert_int_equal(over, ZB_ERR_RECORD_TOO_LARGE);
  tu_expect_message(err, "a record of 10420225 bytes is over the payload limit of 10420224");
  err = NULL;
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, big, limit, &offset, &err));
  assert_int_equal(offset, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  tu_close_and_destroy(stream);
  free(big);

  /* A lower limit, for a batch: 600 + 600 bytes are over 1,000; 1,000 in one record is not. */
  const char *const pairs[] = {"stream.max.payload.bytes", "1000", NULL};
  stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  uint8_t record[1000];
  memset(record, 'y', sizeof record);
  const void *two[2] = {record, record};
  const size_t two_lens[2] = {600, 600};
  over = zb_stream_ingest_proto_batch(stream, two, two_lens, 2, NULL, &err);
  assert_int_equal(over, ZB_ERR_RECORD_TOO_LARGE);
  tu_expect_message(err, "a batch of 2 records (1200 bytes) is over the payload limit of 1000");
  err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, sizeof record, &offset, &err));
  assert_int_equal(offset, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 2);
}

static void test_records_too_large(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream, *json;
  open_proto_and_json(env, &stream, &json);
  zb_error *err = NULL;
  const size_t ten_mib = 10485760;
  uint8_t *big = malloc(ten_mib + 1);
  assert_non_null(big);
  memset(big, 'x', ten_mib + 1);
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto(stream, big, ten_mib + 1, NULL, &err));
  /* Exactly 10 MiB cannot fit either: the request needs framing around it. */
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err, zb_stream_ingest_proto(stream, big, ten_mib, NULL, &err));
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_json(json, (const char *)big, ten_mib, NULL, &err));
  const void *one[1] = {big};
  const size_t one_len[1] = {ten_mib};
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto_batch(stream, one, one_len, 1, NULL, &err));

  /* A batch of records that each fit but not together (valid Events of about 4 MiB). */
  uint8_t *four_mib = NULL;
  const size_t four_mib_len = tu_big_event(4, 4 * 1024 * 1024, &four_mib);
  const void *three[3] = {four_mib, four_mib, four_mib};
  const size_t three_lens[3] = {four_mib_len, four_mib_len, four_mib_len};
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto_batch(stream, three, three_lens, 3, NULL, &err));
  const char *json_three[3] = {(const char *)big, (const char *)big, (const char *)big};
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_json_batch(json, json_three, three_lens, 3, NULL, &err));
  free(big);

  /* Nothing was accepted; large records that fit still go through. */
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, four_mib, four_mib_len, &offset, &err));
  assert_int_equal(offset, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, three, three_lens, 2, &offset, &err));
  assert_int_equal(offset, 2);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 3);
  tu_assert_stored(env->server, TU_TABLE, 0, four_mib, four_mib_len, false);
  tu_assert_stored(env->server, TU_TABLE, 2, four_mib, four_mib_len, false);
  free(four_mib);
  tu_close_and_destroy(stream);
  tu_close_and_destroy(json);
}

static void test_small_request_limit_splits_requests(void **state) {
  tu_env *env = ENV(state);
  static const char *const pairs[] = {"stream.max.request.bytes", "4096", NULL};
  zb_stream *stream = tu_open_proto_configured(env->sdk, TU_TABLE, pairs);
  zb_error *err = NULL;

  /* A record or a batch beyond one 4096-byte request is rejected... */
  uint8_t *big = NULL;
  const size_t big_len = tu_big_event(1, 4096, &big);
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err, zb_stream_ingest_proto(stream, big, big_len, NULL, &err));
  free(big);
  uint8_t *kilo = NULL;
  const size_t kilo_len = tu_big_event(2, 990, &kilo);
  const void *batch[5] = {kilo, kilo, kilo, kilo, kilo};
  const size_t batch_lens[5] = {kilo_len, kilo_len, kilo_len, kilo_len, kilo_len};
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto_batch(stream, batch, batch_lens, 5, NULL, &err));
  /* ...while one that fits is accepted. */
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto_batch(stream, batch, batch_lens, 3, &offset, &err));
  assert_int_equal(offset, 2);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  tu_assert_stored(env->server, TU_TABLE, 2, kilo, kilo_len, false);
  free(kilo);
  const int64_t requests_before = zbtest_server_requests(env->server);

  /* Many records in a burst: never more than 4096 bytes per request, so many requests. */
  enum { kCount = 1500 };
  char payload[120];
  memset(payload, 'p', sizeof payload - 1);
  payload[sizeof payload - 1] = '\0';
  size_t total_bytes = 0;
  for (int i = 0; i < kCount; ++i) {
    uint8_t record[TU_EVENT_CAP];
    const size_t len = tu_event(i, payload, record);
    total_bytes += len;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
    assert_int_equal(offset, 3 + i);
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  const int64_t requests = zbtest_server_requests(env->server) - requests_before;
  assert_true(requests > 1);
  assert_true((size_t)requests >= (total_bytes + 4095) / 4096);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 3 + kCount);
  for (int i = 0; i < kCount; ++i) {
    uint8_t record[TU_EVENT_CAP];
    const size_t len = tu_event(i, payload, record);
    tu_assert_stored(env->server, TU_TABLE, 3 + i, record, len, false);
  }
  tu_close_and_destroy(stream);
}

static void test_bad_tables_and_descriptors(void **state) {
  tu_env *env = ENV(state);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_error *err = NULL;
  static const char *const bad_tables[] = {"a.b",    "a.b.c.d", "a.b-c.d", "",
                                           "abc",    "a..c",    ".a.b",    "a.b.",
                                           "a.b.c.", "a b.c.d", "a.b.c d", "a.b.c/d"};
  for (size_t i = 0; i < sizeof bad_tables / sizeof bad_tables[0]; ++i) {
    zb_stream *stream = NULL;
    zb_status rc = zb_stream_new(env->sdk, bad_tables[i], ZB_RECORD_PROTO, descriptor,
                                 descriptor_len, NULL, &stream, &err);
    if (rc != ZB_ERR_INVALID_TARGET) print_error("table \"%s\"\n", bad_tables[i]);
    TU_EXPECT(ZB_ERR_INVALID_TARGET, err, rc);
    assert_null(stream);
    rc = zb_stream_new(env->sdk, bad_tables[i], ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err);
    if (rc != ZB_ERR_INVALID_TARGET) print_error("table \"%s\" (JSON)\n", bad_tables[i]);
    TU_EXPECT(ZB_ERR_INVALID_TARGET, err, rc);
    assert_null(stream);
  }

  /* Descriptors that do not parse as a DescriptorProto. */
  static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x01};
  static const uint8_t truncated[] = {0x0a, 0x20, 'E', 'v'}; /* name: 32 bytes, only 2 present */
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, garbage, sizeof garbage, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, truncated, sizeof truncated, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len - 1, NULL,
                          &stream, &err));
  assert_null(stream);

  /* A descriptor for a JSON stream, none for a protobuf one, unknown record types. */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_JSON, descriptor, descriptor_len, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_JSON, descriptor, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, NULL, descriptor_len, NULL, &stream,
                          &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, 0, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, 3, descriptor, descriptor_len, NULL, &stream, &err));
  assert_null(stream);
  /* Nothing of this reached the server as a stream. */
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);

  /* A well-formed name with upper case, digits and underscores is fine; the descriptor is
   * copied, so the caller's buffer may change right after. */
  uint8_t *copy = malloc(descriptor_len);
  assert_non_null(copy);
  memcpy(copy, descriptor, descriptor_len);
  TU_EXPECT(ZB_OK, err,
            zb_stream_new(env->sdk, "Main_1.default_2.Events_3", ZB_RECORD_PROTO, copy,
                          descriptor_len, NULL, &stream, &err));
  memset(copy, 0xff, descriptor_len);
  free(copy);
  assert_non_null(stream);
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "named", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, "Main_1.default_2.Events_3"), 1);
}

static void test_stream_null_arguments(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream, *json;
  open_proto_and_json(env, &stream, &json);
  zb_error *err = NULL;
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *out = NULL;
  TU_EXPECT(
      ZB_ERR_INVALID_ARG, err,
      zb_stream_new(env->sdk, NULL, ZB_RECORD_PROTO, descriptor, descriptor_len, NULL, &out, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len, NULL,
                          NULL, &err));
  assert_null(out);

  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "null", record);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_proto(stream, NULL, len, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_json(json, NULL, 2, NULL, &err));
  const void *records[2] = {record, NULL};
  const size_t lens[2] = {len, len};
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_proto_batch(stream, NULL, lens, 1, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_proto_batch(stream, records, NULL, 1, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_proto_batch(stream, records, lens, 2, NULL, &err));
  const char *json_records[2] = {"{}", NULL};
  const size_t json_lens[2] = {2, 2};
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_json_batch(json, NULL, json_lens, 1, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_json_batch(json, json_records, NULL, 1, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_json_batch(json, json_records, json_lens, 2, NULL, &err));

  zb_event events[2];
  size_t count = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(stream, NULL, sizeof events[0], 2, 0, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(stream, events, sizeof events[0], 2, 0, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_poll(stream, events, 4, 2, 0, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_poll(stream, events, 0, 2, 0, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(stream, events, sizeof events[0], 2, -7, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_unacked(stream, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_close(stream, -3, &err));

  /* Record lists: NULL outputs and an index past the end. */
  uint64_t offset = 0;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 0); /* nothing rejected above took an offset */
  zbtest_server_withhold_acks(env->server, true);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
  assert_int_equal(offset, 1);
  zb_records *unacked = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &unacked, &err));
  assert_non_null(unacked);
  const size_t n = zb_records_count(unacked);
  assert_true(n >= 1 && n <= 2);
  const void *data = NULL;
  size_t data_len = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(unacked, 0, NULL, &data_len, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(unacked, 0, &data, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(unacked, n, &data, &data_len, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_records_get(unacked, SIZE_MAX, &data, &data_len, NULL, &err));
  /* The offset output may be NULL. */
  TU_EXPECT(ZB_OK, err, zb_records_get(unacked, n - 1, &data, &data_len, NULL, &err));
  assert_int_equal(data_len, len);
  assert_memory_equal(data, record, len);
  zb_records_free(unacked);
  zbtest_server_withhold_acks(env->server, false);
  tu_close_and_destroy(stream);
  tu_close_and_destroy(json);
}

static void test_sdk_destroyed_before_its_stream(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  zb_sdk *sdk = tu_plaintext_sdk(zbtest_server_endpoint(env->server));
  zb_stream *proto = tu_open_proto(sdk, TU_TABLE, NULL);
  zb_stream *json = tu_open_json(sdk, TU_JSON_TABLE, NULL);
  zb_sdk_destroy(sdk);
  /* The streams keep working without the caller's SDK handle. */
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 10; ++i) {
    const size_t len = tu_event(i, "orphan", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(proto, record, len, NULL, &err));
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, kJson[0], strlen(kJson[0]), NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(proto, 10000, &err));
  tu_close_and_destroy(proto);
  /* One stream gone, the other still has the connection. */
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, kJson[1], strlen(kJson[1]), NULL, &err));
  tu_close_and_destroy(json);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 10);
  assert_int_equal(zbtest_server_record_count(env->server, TU_JSON_TABLE), 11);
  tu_assert_stored(env->server, TU_JSON_TABLE, 10, kJson[1], strlen(kJson[1]), true);
}

static void test_stream_info(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_error *err = NULL;
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.struct_size, sizeof info);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_accepted, 0);
  assert_int_equal(info.records_acked, 0);
  assert_int_equal(info.records_in_flight, 0);
  assert_int_equal(info.bytes_in_flight, 0);
  assert_int_equal(info.recoveries, 0);
  assert_int_equal(info.records_replayed, 0);

  /* With the acks withheld: five records in flight, their bytes counted with framing. */
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "info", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  zbtest_server_withhold_acks(env->server, true);
  for (int i = 0; i < 5; ++i) {
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  }
  info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_accepted, 6);
  assert_int_equal(info.records_acked, 1);
  assert_int_equal(info.records_in_flight, 5);
  assert_true(info.bytes_in_flight > 5 * len);
  assert_true(info.bytes_in_flight <= 5 * (len + 16));
  zbtest_server_withhold_acks(env->server, false);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  info = tu_stream_info(stream);
  assert_int_equal(info.records_accepted, 6);
  assert_int_equal(info.records_acked, 6);
  assert_int_equal(info.records_in_flight, 0);
  assert_int_equal(info.bytes_in_flight, 0);
  assert_int_equal(info.recoveries, 0);

  /* An older caller's struct that ends with the state: only that much is written. */
  zb_stream_info small = ZB_STREAM_INFO_INIT;
  small.struct_size = (uint32_t)(offsetof(zb_stream_info, state) + sizeof small.state);
  small.records_accepted = 12345;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &small, &err));
  assert_int_equal(small.state, ZB_STREAM_OPEN);
  assert_int_equal(small.records_accepted, 12345);
  /* Too small for the state; NULL arguments. */
  zb_stream_info tiny = ZB_STREAM_INFO_INIT;
  tiny.struct_size = 4;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_get_info(stream, &tiny, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_get_info(stream, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_get_info(NULL, &info, &err));

  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_CLOSED);
  assert_int_equal(info.records_acked, 6);
  zb_stream_destroy(stream);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_proto_single_ingest),
      TU_TEST(test_proto_batch_ingest),
      TU_TEST(test_json_single_and_batch),
      TU_TEST(test_streams_into_two_tables),
      TU_TEST(test_flush_and_poll_ack_events),
      TU_TEST(test_poll_ack_ranges_with_a_large_event_array),
      TU_TEST(test_wait_for_offset),
      TU_TEST(test_close_is_idempotent_and_final),
      TU_TEST(test_record_type_mismatch),
      TU_TEST(test_empty_records_and_batches),
      TU_TEST(test_records_too_large),
      TU_TEST(test_payload_limit),
      TU_TEST(test_small_request_limit_splits_requests),
      TU_TEST(test_bad_tables_and_descriptors),
      TU_TEST(test_stream_null_arguments),
      TU_TEST(test_sdk_destroyed_before_its_stream),
      TU_TEST(test_stream_info),
  };
  return cmocka_run_group_tests_name("streams", tests, NULL, NULL);
}
