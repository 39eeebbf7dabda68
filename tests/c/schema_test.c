/* Against a server with declared tables, as the real service has: records are validated, a
 * descriptor that does not match its table and a table that does not exist are refused, and the
 * C API reports each as the service's gRPC status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

enum { kInvalidArgument = 3, kNotFound = 5 };

static const char kSchema[] =
    "CREATE TABLE main.default.events (id BIGINT, payload STRING);\n"
    "CREATE TABLE main.default.sensors (id BIGINT NOT NULL, temp DOUBLE);\n";

static int schema_setup(void **state) {
  tu_env *env = calloc(1, sizeof *env);
  if (env == NULL) return -1;
  zbtest_server_options options;
  memset(&options, 0, sizeof options);
  options.schema = kSchema;
  options.reject_undeclared_tables = true;
  env->server = zbtest_server_start(&options);
  if (env->server == NULL) {
    free(env);
    return -1;
  }
  if (zb_sdk_new(zbtest_server_endpoint(env->server), NULL, &env->sdk, NULL) != ZB_OK) {
    zbtest_server_stop(env->server);
    free(env);
    return -1;
  }
  *state = env;
  return 0;
}

static void expect_transport(zb_error *err, int grpc_status) {
  assert_non_null(err);
  if (zb_error_grpc_status(err) != grpc_status || zb_error_is_retryable(err) != 0) {
    print_error("\"%s\": grpc status %d (expected %d), retryable %d\n", zb_error_message(err),
                (int)zb_error_grpc_status(err), grpc_status, (int)zb_error_is_retryable(err));
  }
  assert_int_equal(zb_error_code(err), ZB_ERR_TRANSPORT);
  assert_int_equal(zb_error_grpc_status(err), grpc_status);
  assert_int_equal(zb_error_is_retryable(err), 0);
  zb_error_free(err);
}

static void test_valid_records_into_a_declared_table(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  zb_stream *proto = tu_open_proto(env->sdk, "main.default.events", NULL);
  zb_stream *json = tu_open_json(env->sdk, "main.default.events", NULL);
  uint8_t record[TU_EVENT_CAP];
  for (int i = 0; i < 10; ++i) {
    const size_t len = tu_event(i, "declared", record);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(proto, record, len, NULL, &err));
  }
  static const char *const rows[] = {"{\"id\": 10, \"payload\": \"json\"}", "{\"id\": 11}",
                                     "{\"payload\": \"no id\"}"};
  for (size_t i = 0; i < 3; ++i) {
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, rows[i], strlen(rows[i]), NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_close(proto, 10000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(json, 10000, &err));
  zb_stream_destroy(proto);
  zb_stream_destroy(json);
  assert_int_equal(zbtest_server_record_count(env->server, "main.default.events"), 13);
}

static void test_undeclared_table_is_not_found(void **state) {
  tu_env *env = ENV(state);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  const int64_t started = tu_now_ms();
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(env->sdk, "main.default.missing", ZB_RECORD_PROTO,
                                                 descriptor, descriptor_len, NULL, &stream, &err)),
                   kNotFound);
  assert_null(stream);
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(env->sdk, "other.default.events", ZB_RECORD_JSON,
                                                 NULL, 0, NULL, &stream, &err)),
                   kNotFound);
  assert_null(stream);
  /* Not retryable, so not retried after the default 2 s backoff. */
  assert_true(tu_now_ms() - started < 1900);
}

static void test_descriptor_that_does_not_match_the_table(void **state) {
  tu_env *env = ENV(state);
  /* Event has a `payload` field that sensors lacks, and leaves NOT NULL `id` optional. */
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                                   zb_stream_new(env->sdk, "main.default.sensors", ZB_RECORD_PROTO,
                                                 descriptor, descriptor_len, NULL, &stream, &err)),
                   kInvalidArgument);
  assert_null(stream);
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);
}

/* Ingests `bad` after two good records and checks that the stream fails for good, reporting the
 * bad record and what followed it. */
static void invalid_record_fails_the_stream(tu_env *env, zb_stream *stream, bool json,
                                            const void *good, size_t good_len, const void *bad,
                                            size_t bad_len, const char *table) {
  zb_error *err = NULL;
  for (int i = 0; i < 2; ++i) {
    TU_EXPECT(ZB_OK, err,
              json ? zb_stream_ingest_json(stream, good, good_len, NULL, &err)
                   : zb_stream_ingest_proto(stream, good, good_len, NULL, &err));
  }
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  uint64_t offset = 0;
  TU_EXPECT(ZB_OK, err,
            json ? zb_stream_ingest_json(stream, bad, bad_len, &offset, &err)
                 : zb_stream_ingest_proto(stream, bad, bad_len, &offset, &err));
  assert_int_equal(offset, 2);

  /* The error event names exactly the refused record. */
  zb_event event;
  bool saw_error = false;
  const int64_t deadline = tu_now_ms() + 30000;
  while (!saw_error && tu_now_ms() < deadline) {
    if (!tu_poll_one(stream, &event, 1000)) continue;
    if (event.type != ZB_EVENT_ERROR) continue;
    saw_error = true;
    const uint64_t first = event.first_offset, last = event.last_offset;
    const int32_t grpc = zb_error_grpc_status(event.error);
    zb_error_free(event.error);
    assert_int_equal(first, 2);
    assert_int_equal(last, 2);
    assert_int_equal(grpc, kInvalidArgument);
  }
  assert_true(saw_error);
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_flush(stream, 1000, &err)),
                   kInvalidArgument);
  expect_transport(
      TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err,
                      json ? zb_stream_ingest_json(stream, good, good_len, NULL, &err)
                           : zb_stream_ingest_proto(stream, good, good_len, NULL, &err)),
      kInvalidArgument);
  expect_transport(TU_EXPECT_ERROR(ZB_ERR_TRANSPORT, err, zb_stream_close(stream, 1000, &err)),
                   kInvalidArgument);
  zb_records *unacked = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &unacked, &err));
  assert_int_equal(zb_records_count(unacked), 1);
  const void *data = NULL;
  size_t len = 0;
  TU_EXPECT(ZB_OK, err, zb_records_get(unacked, 0, &data, &len, &offset, &err));
  assert_int_equal(offset, 2);
  assert_int_equal(len, bad_len);
  assert_memory_equal(data, bad, len);
  zb_records_free(unacked);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.state, ZB_STREAM_FAILED);
  assert_int_equal(info.records_accepted, 3);
  assert_int_equal(info.records_acked, 2);
  zb_stream_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, table), 2);
}

static void test_json_record_with_an_unknown_column(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_json(env->sdk, "main.default.events", NULL);
  static const char good[] = "{\"id\": 1, \"payload\": \"fine\"}";
  static const char bad[] = "{\"id\": 2, \"no_such_column\": true}";
  invalid_record_fails_the_stream(env, stream, true, good, strlen(good), bad, strlen(bad),
                                  "main.default.events");
}

static void test_json_record_of_the_wrong_type(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_json(env->sdk, "main.default.events", NULL);
  static const char good[] = "{\"id\": 1}";
  static const char bad[] = "{\"id\": \"not a number\"}";
  invalid_record_fails_the_stream(env, stream, true, good, strlen(good), bad, strlen(bad),
                                  "main.default.events");
}

static void test_proto_record_that_does_not_parse(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, "main.default.events", NULL);
  uint8_t good[TU_EVENT_CAP];
  const size_t good_len = tu_event(1, "whole", good);
  /* The payload's length says more bytes than follow. */
  uint8_t bad[TU_EVENT_CAP];
  const size_t bad_len = tu_event(2, "truncated", bad) - 3;
  invalid_record_fails_the_stream(env, stream, false, good, good_len, bad, bad_len,
                                  "main.default.events");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_valid_records_into_a_declared_table, schema_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_undeclared_table_is_not_found, schema_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_descriptor_that_does_not_match_the_table, schema_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_json_record_with_an_unknown_column, schema_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_json_record_of_the_wrong_type, schema_setup,
                                      tu_teardown),
      cmocka_unit_test_setup_teardown(test_proto_record_that_does_not_parse, schema_setup,
                                      tu_teardown),
  };
  return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
