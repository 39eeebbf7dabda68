/* Schemas through the C API: built from DDL or a Unity Catalog description, their descriptor
 * accepted by a server that declares the table, JSON records encoded to protobuf on a stream
 * opened from the schema (every record stored as the encoder's bytes), and each mistake
 * reported with its own code and the column it concerns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

#define ORDERS "main.sales.orders"
static const char kOrdersDdl[] =
    "main.sales.orders (id BIGINT NOT NULL, placed TIMESTAMP, day DATE, total DECIMAL(8,2), "
    "lines ARRAY<STRUCT<sku: STRING NOT NULL, qty INT>>, tags MAP<STRING, STRING>)";

static int orders_setup(void **state) {
  zbtest_server_options options;
  memset(&options, 0, sizeof options);
  options.schema = kOrdersDdl;
  options.reject_undeclared_tables = true;
  return tu_setup_with(state, &options);
}

#define ORDERS_TEST(test) cmocka_unit_test_setup_teardown(test, orders_setup, tu_teardown)

static zb_schema *orders_schema(void) {
  zb_schema *schema = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_from_ddl(kOrdersDdl, &schema, &err));
  return schema;
}

/* The encoder's bytes for `json`, in a buffer the caller frees. */
static uint8_t *encode(const zb_schema *schema, const char *json, size_t *len) {
  zb_error *err = NULL;
  *len = 0;
  TU_EXPECT(ZB_OK, err, zb_schema_encode_json(schema, json, strlen(json), NULL, len, &err));
  uint8_t *bytes = malloc(*len);
  assert_non_null(bytes);
  size_t room = *len;
  TU_EXPECT(ZB_OK, err, zb_schema_encode_json(schema, json, strlen(json), bytes, &room, &err));
  assert_int_equal(room, *len);
  return bytes;
}

static void test_schema_gives_descriptor_and_proto_source(void **state) {
  (void)state;
  zb_schema *schema = orders_schema();
  assert_string_equal(zb_schema_table_name(schema), ORDERS);
  const void *descriptor = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_descriptor(schema, &descriptor, &len, &err));
  assert_non_null(descriptor);
  assert_true(len > 0);
  const char *source = zb_schema_proto_source(schema);
  assert_true(tu_contains(source, "syntax = \"proto2\";"));
  assert_true(tu_contains(source, "message Orders {"));
  assert_true(tu_contains(source, "required int64 id = 1;"));
  assert_true(tu_contains(source, "map<string, string> tags = 6;"));
  zb_schema_destroy(schema);
}

static void test_json_records_on_a_schema_stream_are_stored_as_encoded(void **state) {
  tu_env *env = ENV(state);
  zb_schema *schema = orders_schema();
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new_from_schema(env->sdk, schema, NULL, &stream, &err));
  /* The stream keeps its own reference. */
  static const char *const records[] = {
      "{\"id\": 1, \"placed\": \"2026-11-24T09:30:00Z\", \"day\": \"2026-11-24\", "
      "\"total\": \"19.99\", \"lines\": [{\"sku\": \"A-1\", \"qty\": 2}], "
      "\"tags\": {\"channel\": \"web\"}}",
      "{\"id\": 2}",
      "{\"id\": \"9007199254740993\", \"lines\": []}",
  };
  size_t lens[3];
  uint8_t *expected[3];
  for (size_t i = 0; i < 3; ++i) {
    expected[i] = encode(schema, records[i], &lens[i]);
  }
  zb_schema_destroy(schema);
  uint64_t offset = 99;
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_json(stream, records[0], strlen(records[0]), &offset, &err));
  assert_int_equal(offset, 0);
  const size_t batch_lens[] = {strlen(records[1]), strlen(records[2])};
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_json_batch(stream, records + 1, batch_lens, 2, &offset, &err));
  assert_int_equal(offset, 2);
  /* Protobuf records go in as they are. */
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, expected[1], lens[1], &offset, &err));
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, ORDERS), 4);
  for (int64_t i = 0; i < 4; ++i) {
    const size_t which = i == 3 ? 1 : (size_t)i;
    tu_assert_stored(env->server, ORDERS, i, expected[which], lens[which], false);
  }
  for (size_t i = 0; i < 3; ++i) free(expected[i]);
}

static void test_a_record_that_does_not_fit_names_its_column(void **state) {
  tu_env *env = ENV(state);
  zb_schema *schema = orders_schema();
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new_from_schema(env->sdk, schema, NULL, &stream, &err));
  static const char bad[] = "{\"id\": 1, \"lines\": [{\"qty\": 1}]}";
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_stream_ingest_json(stream, bad, strlen(bad), NULL, &err));
  assert_true(tu_contains(zb_error_message(err), "column 'lines[0].sku': is NOT NULL"));
  zb_error_free(err);
  err = NULL;
  /* In a batch, the bad record is named and none of the batch is accepted. */
  static const char *const batch[] = {"{\"id\": 1}", "{\"id\": 2, \"day\": \"24.11.2026\"}"};
  const size_t batch_lens[] = {strlen(batch[0]), strlen(batch[1])};
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_stream_ingest_json_batch(stream, batch, batch_lens, 2, NULL, &err));
  assert_true(tu_contains(zb_error_message(err), "record 1 of the batch: column 'day'"));
  zb_error_free(err);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  /* The encoder says the same without a stream. */
  size_t size = 0;
  err = TU_EXPECT_ERROR(
      ZB_ERR_INVALID_RECORD, err,
      zb_schema_encode_json(schema, "{\"total\": \"1.234\"}", 18, NULL, &size, &err));
  assert_true(tu_contains(zb_error_message(err), "column 'id': is NOT NULL"));
  zb_error_free(err);
  tu_close_and_destroy(stream);
  zb_schema_destroy(schema);
}

static void test_json_on_a_plain_proto_stream_is_still_the_wrong_type(void **state) {
  tu_env *env = ENV(state);
  zb_schema *schema = orders_schema();
  const void *descriptor = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_descriptor(schema, &descriptor, &len, &err));
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_stream_new(env->sdk, ORDERS, ZB_RECORD_PROTO, descriptor, len, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err, zb_stream_ingest_json(stream, "{\"id\":1}", 8, NULL, &err));
  tu_close_and_destroy(stream);
  zb_schema_destroy(schema);
}

static void test_table_json_builds_the_same_schema(void **state) {
  (void)state;
  static const char info[] =
      "{\"full_name\": \"main.sales.orders\", \"columns\": ["
      "{\"name\": \"id\", \"position\": 0, \"nullable\": false, \"type_text\": \"bigint\"},"
      "{\"name\": \"placed\", \"position\": 1, \"type_text\": \"timestamp\"},"
      "{\"name\": \"day\", \"position\": 2, \"type_text\": \"date\"},"
      "{\"name\": \"total\", \"position\": 3, \"type_text\": \"decimal(8,2)\"},"
      "{\"name\": \"lines\", \"position\": 4, \"type_json\": \"{\\\"type\\\":\\\"array\\\","
      "\\\"elementType\\\":{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"sku\\\","
      "\\\"type\\\":\\\"string\\\",\\\"nullable\\\":false},{\\\"name\\\":\\\"qty\\\","
      "\\\"type\\\":\\\"integer\\\"}]}}\"},"
      "{\"name\": \"tags\", \"position\": 5, \"type_text\": \"map<string,string>\"}]}";
  zb_schema *from_json = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_from_table_json(info, strlen(info), &from_json, &err));
  zb_schema *from_ddl = orders_schema();
  assert_string_equal(zb_schema_proto_source(from_json), zb_schema_proto_source(from_ddl));
  zb_schema_destroy(from_json);
  zb_schema_destroy(from_ddl);
}

/* `levels` arrays one inside the other, between `head` and `tail`; the caller frees it. */
static char *nested(const char *head, size_t levels, const char *tail) {
  const size_t len = strlen(head) + 2 * levels + strlen(tail);
  char *text = malloc(len + 1);
  assert_non_null(text);
  char *at = text;
  memcpy(at, head, strlen(head));
  at += strlen(head);
  memset(at, '[', levels);
  memset(at + levels, ']', levels);
  at += 2 * levels;
  memcpy(at, tail, strlen(tail) + 1);
  return text;
}

/* `err`'s message says `says` in at most a few hundred bytes; frees `err`. */
static void expect_short_message(zb_error *err, const char *says) {
  const char *message = zb_error_message(err);
  if (!tu_contains(message, says) || strlen(message) > 400) {
    fail_msg("expected a short message saying \"%s\", got %.500s", says, message);
  }
  zb_error_free(err);
}

/* Nesting 100,000 levels deep used to overflow the stack while the message quoted the value; a
 * key given twice, a NUL with garbage after it and a timestamp in the year 99999 were taken. */
static void test_hostile_json_is_refused_with_short_messages(void **state) {
  tu_env *env = ENV(state);
  zb_schema *schema = orders_schema();
  zb_error *err = NULL;
  size_t size = 0;
  char *deep = nested("{\"id\": 1, \"tags\": ", 100000, "}");
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_schema_encode_json(schema, deep, strlen(deep), NULL, &size, &err));
  expect_short_message(err, "record nests arrays and objects deeper than 512 levels");
  err = NULL;
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new_from_schema(env->sdk, schema, NULL, &stream, &err));
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_stream_ingest_json(stream, deep, strlen(deep), NULL, &err));
  expect_short_message(err, "deeper than 512 levels");
  err = NULL;
  free(deep);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  tu_close_and_destroy(stream);

  deep = nested("{\"full_name\": \"a.b.c\", \"columns\": ", 100000, "}");
  zb_schema *made = NULL;
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_SCHEMA, err,
                        zb_schema_from_table_json(deep, strlen(deep), &made, &err));
  expect_short_message(err, "the table description nests arrays and objects deeper than 512");
  err = NULL;
  free(deep);
  assert_null(made);

  static const char twice[] = "{\"id\": 1, \"ID\": 2}";
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_schema_encode_json(schema, twice, strlen(twice), NULL, &size, &err));
  expect_short_message(err, "column 'id': the record gives it twice, as 'ID' and 'id'");
  err = NULL;
  static const char nul[] = "{\"id\": 1}\0{\"garbage";
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_schema_encode_json(schema, nul, sizeof nul - 1, NULL, &size, &err));
  expect_short_message(err, "record has a NUL byte at offset 9");
  err = NULL;
  static const char far[] = "{\"id\": 1, \"placed\": 3093496444800000000}";
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_RECORD, err,
                        zb_schema_encode_json(schema, far, strlen(far), NULL, &size, &err));
  expect_short_message(err, "column 'placed': 3093496444800000000 microseconds is out of range");
  zb_schema_destroy(schema);
}

static void test_bad_schemas_and_arguments(void **state) {
  (void)state;
  zb_schema *schema = NULL;
  zb_error *err = NULL;
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_SCHEMA, err,
                        zb_schema_from_ddl("a.b.c (m MAP<DOUBLE, INT>)", &schema, &err));
  assert_true(tu_contains(zb_error_message(err), "MAP keys must be"));
  zb_error_free(err);
  err = NULL;
  err = TU_EXPECT_ERROR(ZB_ERR_INVALID_SCHEMA, err,
                        zb_schema_from_table_json("{}", 2, &schema, &err));
  zb_error_free(err);
  assert_null(schema);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_ddl(NULL, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_ddl("a.b.c (x INT)", NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_table_json(NULL, 0, &schema, &err));
  size_t size = 0;
  const void *data = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_encode_json(NULL, "{}", 2, NULL, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_descriptor(NULL, &data, &size, &err));
  assert_null(zb_schema_table_name(NULL));
  assert_null(zb_schema_proto_source(NULL));
  zb_schema_destroy(NULL);
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_new_from_schema(NULL, NULL, NULL, &stream, &err));
  assert_string_equal(zb_status_name(ZB_ERR_INVALID_SCHEMA), "ZB_ERR_INVALID_SCHEMA");
  assert_string_equal(zb_status_name(ZB_ERR_INVALID_RECORD), "ZB_ERR_INVALID_RECORD");
  assert_null(zb_status_name(ZB_ERR_INVALID_RECORD + 1));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      ORDERS_TEST(test_schema_gives_descriptor_and_proto_source),
      ORDERS_TEST(test_json_records_on_a_schema_stream_are_stored_as_encoded),
      ORDERS_TEST(test_a_record_that_does_not_fit_names_its_column),
      ORDERS_TEST(test_json_on_a_plain_proto_stream_is_still_the_wrong_type),
      ORDERS_TEST(test_table_json_builds_the_same_schema),
      ORDERS_TEST(test_hostile_json_is_refused_with_short_messages),
      ORDERS_TEST(test_bad_schemas_and_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
