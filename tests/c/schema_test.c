/* Against a server with declared tables, as the real service has: records are validated, a
 * descriptor that does not match its table and a table that does not exist are refused, and the
 * C API reports each as the service's gRPC status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

static const char kSchema[] =
    "CREATE TABLE main.default.events (id BIGINT, payload STRING);\n"
    "CREATE TABLE main.default.sensors (id BIGINT NOT NULL, temp DOUBLE);\n";

static int schema_setup(void **state) {
  zbtest_server_options options;
  memset(&options, 0, sizeof options);
  options.schema = kSchema;
  options.reject_undeclared_tables = true;
  return tu_setup_with(state, &options);
}

/* A test against a server with the tables of kSchema declared. */
#define SCHEMA_TEST(test) cmocka_unit_test_setup_teardown(test, schema_setup, tu_teardown)

static void test_valid_records_into_a_declared_table(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  zb_stream *proto = tu_open_proto(env->sdk, "main.default.events", NULL);
  zb_stream *json = tu_open_json(env->sdk, "main.default.events", NULL);
  tu_ingest_events(proto, 0, 10, "declared");
  static const char *const rows[] = {"{\"id\": 10, \"payload\": \"json\"}", "{\"id\": 11}",
                                     "{\"payload\": \"no id\"}"};
  for (size_t i = 0; i < 3; ++i) {
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(json, rows[i], strlen(rows[i]), NULL, &err));
  }
  tu_close_and_destroy(proto);
  tu_close_and_destroy(json);
  assert_int_equal(zbtest_server_record_count(env->server, "main.default.events"), 13);
}

static void test_undeclared_table_is_not_found(void **state) {
  tu_env *env = ENV(state);
  const int64_t started = tu_now_ms();
  tu_expect_transport(
      TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, "main.default.missing", ZB_RECORD_PROTO, NULL),
      TU_GRPC_NOT_FOUND, 0);
  tu_expect_transport(
      TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, "other.default.events", ZB_RECORD_JSON, NULL),
      TU_GRPC_NOT_FOUND, 0);
  /* Not retryable, so not retried after the default 2 s backoff. */
  assert_true(tu_now_ms() - started < 1900);
}

static void test_descriptor_that_does_not_match_the_table(void **state) {
  tu_env *env = ENV(state);
  /* Event has a `payload` field that sensors lacks, and leaves NOT NULL `id` optional. */
  tu_expect_transport(
      TU_OPEN_ERROR(ZB_ERR_TRANSPORT, env->sdk, "main.default.sensors", ZB_RECORD_PROTO, NULL),
      TU_GRPC_INVALID_ARGUMENT, 0);
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);
}

/* Ingests `bad` after two good records into a new stream of main.default.events (a JSON stream,
 * or a protobuf one) and checks that the stream fails for good, reporting the bad record and what
 * followed it. */
static void invalid_record_fails_the_stream(tu_env *env, bool json, const void *good,
                                            size_t good_len, const void *bad, size_t bad_len) {
  const char *const table = "main.default.events";
  zb_stream *stream =
      json ? tu_open_json(env->sdk, table, NULL) : tu_open_proto(env->sdk, table, NULL);
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

  /* The error event names exactly the refused record, after the acks of the good ones. */
  uint64_t next_ack = 0;
  const tu_error_event error = tu_poll_error_event(stream, 30000, &next_ack);
  tu_assert_error_event(&error, 2, 2, ZB_ERR_TRANSPORT);
  assert_int_equal(error.grpc_status, TU_GRPC_INVALID_ARGUMENT);
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err, zb_stream_flush(stream, 1000, &err));
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err,
                      json ? zb_stream_ingest_json(stream, good, good_len, NULL, &err)
                           : zb_stream_ingest_proto(stream, good, good_len, NULL, &err));
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err, zb_stream_close(stream, 1000, &err));
  tu_assert_unacked(stream, 2, &bad, &bad_len, 1);
  const zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.state, ZB_STREAM_FAILED);
  assert_int_equal(info.records_accepted, 3);
  assert_int_equal(info.records_acked, 2);
  zb_stream_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, table), 2);
}

/* invalid_record_fails_the_stream() for JSON text. */
static void invalid_json_fails_the_stream(void **state, const char *good, const char *bad) {
  invalid_record_fails_the_stream(ENV(state), true, good, strlen(good), bad, strlen(bad));
}

static void test_json_record_with_an_unknown_column(void **state) {
  invalid_json_fails_the_stream(state, "{\"id\": 1, \"payload\": \"fine\"}",
                                "{\"id\": 2, \"no_such_column\": true}");
}

static void test_json_record_of_the_wrong_type(void **state) {
  invalid_json_fails_the_stream(state, "{\"id\": 1}", "{\"id\": \"not a number\"}");
}

static void test_proto_record_that_does_not_parse(void **state) {
  uint8_t good[TU_EVENT_CAP];
  const size_t good_len = tu_event(1, "whole", good);
  /* The payload's length says more bytes than follow. */
  uint8_t bad[TU_EVENT_CAP];
  const size_t bad_len = tu_event(2, "truncated", bad) - 3;
  invalid_record_fails_the_stream(ENV(state), false, good, good_len, bad, bad_len);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      SCHEMA_TEST(test_valid_records_into_a_declared_table),
      SCHEMA_TEST(test_undeclared_table_is_not_found),
      SCHEMA_TEST(test_descriptor_that_does_not_match_the_table),
      SCHEMA_TEST(test_json_record_with_an_unknown_column),
      SCHEMA_TEST(test_json_record_of_the_wrong_type),
      SCHEMA_TEST(test_proto_record_that_does_not_parse),
  };
  return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
