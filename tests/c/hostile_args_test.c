/* Hostile arguments: every public function of zerobus.h called with what a careless or hostile
 * caller passes (a NULL for each pointer, SIZE_MAX lengths and counts, batches whose sizes add
 * up past SIZE_MAX, invalid UTF-8, JSON nested 100,000 levels deep, calls on closed and failed
 * streams) returns the code its comment documents, with an error object that carries a message
 * where the function takes `err`, and never crashes (CI runs it under ASan and UBSan).
 *
 * One test per public function, named hostile_<function>; every_public_function_has_a_case
 * compares their names with abi/symbols.txt, so a function added to the ABI without a case here
 * fails this test. Records of huge lengths point into a read-only MAP_NORESERVE mapping, so that
 * they are real memory of the length they claim (as far as the address space allows) without
 * costing any. */
#define _DEFAULT_SOURCE /* MAP_NORESERVE and MAP_ANONYMOUS */
#define ZB_EXPERIMENTAL_PERSISTENT

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"
#include "zbtest_arrow.h"

#define ENV(state) ((tu_env *)*(state))

/* The largest request a stream sends by default (stream.max.request.bytes). */
#define MAX_REQUEST_BYTES (10 * 1024 * 1024)
/* How deep the deeply nested JSON goes. */
#define DEEP_LEVELS 100000

static const char kBadUtf8[] = "\xff\xfe\xc3(\xed\xa0\x80";
static const char kDdl[] = "main.default.events (id BIGINT NOT NULL, payload STRING)";

/* ---- Shared pieces ------------------------------------------------------------------------- */

/* A new NUL-terminated string: `head`, then `open` and `close` each `levels` times around
 * `core`, then `tail`. */
static char *nested(const char *head, const char *open, const char *core, const char *close,
                    const char *tail, size_t levels) {
  const size_t size =
      strlen(head) + levels * (strlen(open) + strlen(close)) + strlen(core) + strlen(tail) + 1;
  char *text = malloc(size);
  assert_non_null(text);
  char *end = text;
  end += sprintf(end, "%s", head);
  for (size_t i = 0; i < levels; ++i) end += sprintf(end, "%s", open);
  end += sprintf(end, "%s", core);
  for (size_t i = 0; i < levels; ++i) end += sprintf(end, "%s", close);
  sprintf(end, "%s", tail);
  return text;
}

/* A read-only mapping of zeros that costs no memory: as large as the address space gives, from
 * 2^44 bytes down. */
typedef struct huge_region {
  const uint8_t *data;
  size_t len;
  unsigned log2_len;
} huge_region;

static huge_region huge_region_map(void) {
  for (unsigned log2_len = 44; log2_len >= 36; --log2_len) {
    const size_t len = (size_t)1 << log2_len;
    void *data = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (data != MAP_FAILED) {
      const huge_region region = {data, len, log2_len};
      return region;
    }
  }
  fail_msg("no read-only mapping of 2^36 bytes or more could be made");
  {
    const huge_region none = {NULL, 0, 0};
    return none;
  }
}

static void huge_region_unmap(huge_region region) {
  assert_int_equal(munmap((void *)region.data, region.len), 0);
}

/* Records that really are as long as they say, into `region`, each framed (tag, length varint,
 * bytes) to 2^log2_len bytes, and so many that their framed sizes add up to 2^64, plus a last
 * record of 12 bytes framed: past SIZE_MAX, 12 bytes once wrapped around. */
typedef struct wrapping_batch {
  const void **records;
  size_t *lens;
  size_t count;
} wrapping_batch;

static wrapping_batch wrapping_batch_new(huge_region region) {
  wrapping_batch batch;
  const size_t entry = region.len;
  const size_t varint = (region.log2_len + 6) / 7; /* a length just below 2^log2_len */
  batch.count = ((size_t)1 << (64 - region.log2_len)) + 1;
  batch.records = malloc(batch.count * sizeof *batch.records);
  batch.lens = malloc(batch.count * sizeof *batch.lens);
  assert_non_null(batch.records);
  assert_non_null(batch.lens);
  for (size_t i = 0; i + 1 < batch.count; ++i) {
    batch.records[i] = region.data;
    batch.lens[i] = entry - 1 - varint;
  }
  batch.records[batch.count - 1] = region.data;
  batch.lens[batch.count - 1] = 10;
  return batch;
}

static void wrapping_batch_free(wrapping_batch batch) {
  free(batch.records);
  free(batch.lens);
}

static int free_calls;
static void count_free(void *user_data) {
  (void)user_data;
  ++free_calls;
}

/* A callback setter of zb_config, as the five share one shape up to their callback's type. */
typedef zb_status (*callback_setter)(zb_config *cfg, void *user_data, zb_free_cb free_user_data,
                                     zb_error **err);

/* A NULL config is refused and leaves user_data the caller's; a NULL callback runs
 * free_user_data at once. */
static void expect_callback_setter_hostile(callback_setter set) {
  zb_error *err = TU_ERR_SENTINEL;
  free_calls = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, set(NULL, &free_calls, count_free, &err));
  assert_int_equal(free_calls, 0);
  zb_config *cfg = tu_config(NULL);
  TU_EXPECT(ZB_OK, err, set(cfg, &free_calls, count_free, &err));
  assert_int_equal(free_calls, 1);
  zb_config_destroy(cfg);
}

static zb_status set_no_headers(zb_config *cfg, void *ud, zb_free_cb free_ud, zb_error **err) {
  return zb_config_set_headers_provider(cfg, NULL, ud, free_ud, err);
}
static zb_status set_no_events(zb_config *cfg, void *ud, zb_free_cb free_ud, zb_error **err) {
  return zb_config_set_event_callback(cfg, NULL, ud, free_ud, err);
}
static zb_status set_no_wakeup(zb_config *cfg, void *ud, zb_free_cb free_ud, zb_error **err) {
  return zb_config_set_wakeup(cfg, NULL, ud, free_ud, err);
}
static zb_status set_no_log(zb_config *cfg, void *ud, zb_free_cb free_ud, zb_error **err) {
  return zb_config_set_log_callback(cfg, NULL, ud, free_ud, err);
}
static zb_status set_no_federation(zb_config *cfg, void *ud, zb_free_cb free_ud, zb_error **err) {
  return zb_config_set_token_federation(cfg, NULL, ud, free_ud, err);
}
static zb_status set_no_stats(zb_config *cfg, void *ud, zb_free_cb free_ud, zb_error **err) {
  return zb_config_set_stats_callback(cfg, NULL, ud, free_ud, err);
}

static zb_schema *ddl_schema(void) {
  zb_schema *schema = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_from_ddl(kDdl, &schema, &err));
  return schema;
}

static zb_stream *open_schema_stream(zb_sdk *sdk, const zb_schema *schema) {
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new_from_schema(sdk, schema, NULL, &stream, &err));
  return stream;
}

static zb_stream *open_avro_stream(zb_sdk *sdk, const zb_schema *schema) {
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new_avro_from_schema(sdk, schema, NULL, &stream, &err));
  return stream;
}

/* A stream that failed for good: the server refuses its first request with INVALID_ARGUMENT. */
static zb_stream *open_failed_stream(tu_env *env) {
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zbtest_server_fail_after(env->server, 0, TU_GRPC_INVALID_ARGUMENT, "refused for the test");
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "doomed", record);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  zb_status failed = zb_stream_flush(stream, 30000, &err);
  assert_int_equal(failed, ZB_ERR_TRANSPORT);
  tu_expect_message(err, "refused for the test");
  return stream;
}

/* A stream that was closed with everything acknowledged, after one record (offset 0). */
static zb_stream *open_closed_stream(tu_env *env) {
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  tu_ingest_events(stream, 1, 1, "closed");
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 30000, &err));
  return stream;
}

/* ---- Versions, status codes, errors --------------------------------------------------------- */

static void hostile_zb_version(void **state) {
  (void)state; /* no argument to be hostile with: it must still say what the header says */
  assert_int_equal(zb_version(), ZB_VERSION_NUM);
}

static void hostile_zb_version_str(void **state) {
  (void)state;
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", ZB_VERSION_MAJOR, ZB_VERSION_MINOR,
           ZB_VERSION_PATCH);
  assert_string_equal(zb_version_str(), expected);
}

static const zb_status kUnknownCodes[] = {-1, INT32_MIN, INT32_MAX, ZB_ERR_INVALID_RECORD + 1000};

static void hostile_zb_status_name(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kUnknownCodes / sizeof *kUnknownCodes; ++i) {
    assert_null(zb_status_name(kUnknownCodes[i]));
  }
}

static void hostile_zb_status_describe(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kUnknownCodes / sizeof *kUnknownCodes; ++i) {
    assert_null(zb_status_describe(kUnknownCodes[i]));
  }
}

static void hostile_zb_error_code(void **state) {
  (void)state;
  /* NULL is the error object that a failed call could not allocate. */
  assert_int_equal(zb_error_code(NULL), ZB_ERR_NO_MEMORY);
}

static void hostile_zb_error_name(void **state) {
  (void)state;
  assert_string_equal(zb_error_name(NULL), "ZB_ERR_NO_MEMORY");
  /* A code this library does not know has no name; a known one has its own. */
  for (size_t i = 0; i < sizeof kUnknownCodes / sizeof *kUnknownCodes; ++i) {
    zb_error *made = zb_error_new(kUnknownCodes[i], "made", 0);
    assert_non_null(made);
    assert_null(zb_error_name(made));
    zb_error_free(made);
  }
  zb_error *made = zb_error_new(ZB_ERR_INVALID_RECORD, NULL, 0);
  assert_string_equal(zb_error_name(made), "ZB_ERR_INVALID_RECORD");
  zb_error_free(made);
}

static void hostile_zb_error_message(void **state) {
  (void)state;
  assert_string_equal(zb_error_message(NULL), "");
}

static void hostile_zb_error_is_retryable(void **state) {
  (void)state;
  assert_int_equal(zb_error_is_retryable(NULL), 0);
}

static void hostile_zb_error_grpc_status(void **state) {
  (void)state;
  assert_int_equal(zb_error_grpc_status(NULL), -1);
  zb_error *made = zb_error_new(ZB_ERR_TRANSPORT, "made", 1);
  assert_int_equal(zb_error_grpc_status(made), -1);
  zb_error_free(made);
}

static void hostile_zb_error_new(void **state) {
  (void)state;
  /* Any code, any retryable value, no message, and bytes that are not UTF-8: kept as given. */
  zb_error *made = zb_error_new(INT32_MIN, NULL, INT32_MIN);
  assert_non_null(made);
  assert_int_equal(zb_error_code(made), INT32_MIN);
  assert_string_equal(zb_error_message(made), "");
  assert_int_equal(zb_error_is_retryable(made), 1);
  zb_error_free(made);
  made = zb_error_new(ZB_ERR_INTERNAL, kBadUtf8, 0);
  assert_string_equal(zb_error_message(made), kBadUtf8);
  zb_error_free(made);
}

static void hostile_zb_error_dup(void **state) {
  (void)state;
  assert_null(zb_error_dup(NULL));
}

static void hostile_zb_error_free(void **state) {
  (void)state;
  zb_error_free(NULL);
}

/* ---- Configuration -------------------------------------------------------------------------- */

static void hostile_zb_config_new(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_new(NULL, &err));
}

static void hostile_zb_config_dup(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_config *copy = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_dup(NULL, &copy, &err));
  assert_null(copy);
  zb_config *cfg = tu_config(NULL);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_dup(cfg, NULL, &err));
  zb_config_destroy(cfg);
}

static void hostile_zb_config_destroy(void **state) {
  (void)state;
  zb_config_destroy(NULL);
}

static void hostile_zb_config_set(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_config *cfg = tu_config(NULL);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set(NULL, "recovery.retries", "1", &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set(cfg, NULL, "1", &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set(cfg, "recovery.retries", NULL, &err));
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_set(cfg, kBadUtf8, "1", &err));
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_set(cfg, "", "1", &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err, zb_config_set(cfg, "recovery.retries", kBadUtf8, &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err,
            zb_config_set(cfg, "recovery.retries", "99999999999999999999999", &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err, zb_config_set(cfg, "recovery.retries", "-1", &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err, zb_config_set(cfg, "log.level", kBadUtf8, &err));
  TU_EXPECT(ZB_ERR_INVALID_VALUE, err, zb_config_set(cfg, "transport.plaintext", "", &err));
  /* Nothing changed on failure. */
  char value[64];
  size_t size = sizeof value;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "recovery.retries", value, &size, &err));
  zb_config *defaults = tu_config(NULL);
  char default_value[64];
  size_t default_size = sizeof default_value;
  TU_EXPECT(ZB_OK, err,
            zb_config_get(defaults, "recovery.retries", default_value, &default_size, &err));
  assert_string_equal(value, default_value);
  zb_config_destroy(defaults);
  zb_config_destroy(cfg);
}

static void hostile_zb_config_get(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_config *cfg = tu_config(NULL);
  char buf[64];
  size_t size = sizeof buf;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_get(NULL, "log.level", buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_get(cfg, NULL, buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_get(cfg, "log.level", buf, NULL, &err));
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_get(cfg, kBadUtf8, buf, &size, &err));
  /* No buffer with the largest size: only the size is reported. */
  size = sizeof buf;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "log.level", buf, &size, &err));
  const size_t needed = size;
  assert_int_equal(needed, strlen(buf) + 1);
  size = SIZE_MAX;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "log.level", NULL, &size, &err));
  assert_int_equal(size, needed);
  /* A buffer of size 0 is not written. */
  memset(buf, '#', sizeof buf);
  size = 0;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "log.level", buf, &size, &err));
  assert_int_equal(buf[0], '#');
  assert_int_equal(size, needed);
  zb_config_destroy(cfg);
}

static void hostile_zb_config_describe(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_config_property property = ZB_CONFIG_PROPERTY_INIT;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(0, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(SIZE_MAX, &property, &err));
  property.struct_size = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(0, &property, &err));
  /* A caller claiming a larger struct than the library knows gets what the library knows. */
  property.struct_size = UINT32_MAX;
  TU_EXPECT(ZB_OK, err, zb_config_describe(0, &property, &err));
  assert_int_equal(property.struct_size, sizeof property);
  assert_non_null(property.description);
}

static void hostile_zb_config_set_headers_provider(void **state) {
  (void)state;
  expect_callback_setter_hostile(set_no_headers);
}

static void hostile_zb_config_set_event_callback(void **state) {
  (void)state;
  expect_callback_setter_hostile(set_no_events);
}

static void hostile_zb_config_set_wakeup(void **state) {
  (void)state;
  expect_callback_setter_hostile(set_no_wakeup);
}

static void hostile_zb_config_set_wakeup_fd(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  int ends[2];
  assert_int_equal(pipe(ends), 0);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup_fd(NULL, ends[1], 0, &err));
  zb_config *cfg = tu_config(NULL);
  /* Not a descriptor, not open, open for reading only, blocking. */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup_fd(cfg, -2, 1, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup_fd(cfg, INT32_MAX, 0, &err));
  assert_int_equal(fcntl(ends[0], F_SETFL, O_NONBLOCK), 0);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup_fd(cfg, ends[0], 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup_fd(cfg, ends[1], 0, &err));
  assert_int_equal(fcntl(ends[1], F_SETFL, O_NONBLOCK), 0);
  TU_EXPECT(ZB_OK, err, zb_config_set_wakeup_fd(cfg, ends[1], 0, &err));
  TU_EXPECT(ZB_OK, err, zb_config_set_wakeup_fd(cfg, -1, 0, &err));
  zb_config_destroy(cfg);
  close(ends[1]);
  /* Given to the library, a blocking descriptor it refuses is closed at once: its reader sees
   * the end of the pipe. */
  int refused[2];
  assert_int_equal(pipe(refused), 0);
  cfg = tu_config(NULL);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup_fd(cfg, refused[1], 1, &err));
  char byte;
  assert_int_equal(read(refused[0], &byte, 1), 0);
  zb_config_destroy(cfg);
  close(refused[0]);
  close(ends[0]);
}

static void hostile_zb_config_set_log_callback(void **state) {
  (void)state;
  expect_callback_setter_hostile(set_no_log);
}

static void hostile_zb_config_set_stats_callback(void **state) {
  (void)state;
  expect_callback_setter_hostile(set_no_stats);
}

static void hostile_zb_config_set_token_federation(void **state) {
  (void)state;
  expect_callback_setter_hostile(set_no_federation);
}

static void hostile_zb_log_level_name(void **state) {
  (void)state;
  const zb_log_level unknown[] = {0, -1, ZB_LOG_DEBUG + 1, INT32_MIN, INT32_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; ++i) {
    assert_null(zb_log_level_name(unknown[i]));
  }
}

/* ---- Headers provider ----------------------------------------------------------------------- */

/* What zb_headers_add() returned for each hostile call inside the provider. */
typedef struct headers_codes {
  zb_status null_headers, null_name, null_value, bad_name, bad_value;
  int calls;
} headers_codes;

static zb_status hostile_headers(zb_headers *headers, void *user_data) {
  headers_codes *codes = user_data;
  ++codes->calls;
  codes->null_headers = zb_headers_add(NULL, "x-a", "b", NULL);
  codes->null_name = zb_headers_add(headers, NULL, "b", NULL);
  codes->null_value = zb_headers_add(headers, "x-a", NULL, NULL);
  codes->bad_value = zb_headers_add(headers, "x-a", "line\nbreak", NULL);
  codes->bad_name = zb_headers_add(headers, kBadUtf8, "b", NULL);
  return ZB_OK;
}

static void hostile_zb_headers_add(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_headers_add(NULL, "x-name", "value", &err));
  /* Inside a provider: each refused, and the connection attempt then fails naming the header. */
  headers_codes codes = {0, 0, 0, 0, 0, 0};
  zb_config *cfg = tu_config((const char *const[]){"recovery.retries", "0", NULL});
  TU_EXPECT(ZB_OK, err, zb_config_set_headers_provider(cfg, hostile_headers, &codes, NULL, &err));
  zb_error *refused = TU_OPEN_ERROR(ZB_ERR_AUTH, env->sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  zb_error_free(refused);
  zb_config_destroy(cfg);
  assert_true(codes.calls >= 1);
  assert_int_equal(codes.null_headers, ZB_ERR_INVALID_ARG);
  assert_int_equal(codes.null_name, ZB_ERR_INVALID_ARG);
  assert_int_equal(codes.null_value, ZB_ERR_INVALID_ARG);
  assert_int_equal(codes.bad_value, ZB_ERR_INVALID_ARG);
  assert_int_equal(codes.bad_name, ZB_ERR_INVALID_ARG);
}

/* ---- Token federation ----------------------------------------------------------------------- */

/* What zb_token_sink_set() returned for each hostile call inside the callback. */
typedef struct sink_codes {
  zb_status null_sink, null_token, bad_token;
  int calls;
} sink_codes;

static zb_status hostile_token(zb_token_sink *sink, void *user_data) {
  sink_codes *codes = user_data;
  ++codes->calls;
  codes->null_sink = zb_token_sink_set(NULL, "a.b.c", NULL);
  codes->null_token = zb_token_sink_set(sink, NULL, NULL);
  codes->bad_token = zb_token_sink_set(sink, "a.b\n.c", NULL);
  return ZB_OK;
}

static void hostile_zb_token_sink_set(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_token_sink_set(NULL, "a.b.c", &err));
  /* Inside the callback: each refused, and the attempt then fails as one without a token,
   * before any token request (the workspace is unreachable). */
  zb_config *sdk_cfg = tu_config((const char *const[]){
      "transport.plaintext", "true", "workspace.url", "http://127.0.0.1:1", NULL});
  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(env->server), sdk_cfg, &sdk, &err));
  zb_config_destroy(sdk_cfg);
  sink_codes codes = {0, 0, 0, 0};
  zb_config *cfg = tu_config((const char *const[]){"recovery.retries", "0", NULL});
  TU_EXPECT(ZB_OK, err, zb_config_set_token_federation(cfg, hostile_token, &codes, NULL, &err));
  zb_error *refused = TU_OPEN_ERROR(ZB_ERR_AUTH, sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  assert_non_null(strstr(zb_error_message(refused), "gave no subject token"));
  zb_error_free(refused);
  zb_config_destroy(cfg);
  zb_sdk_destroy(sdk);
  assert_true(codes.calls >= 1);
  assert_int_equal(codes.null_sink, ZB_ERR_INVALID_ARG);
  assert_int_equal(codes.null_token, ZB_ERR_INVALID_ARG);
  assert_int_equal(codes.bad_token, ZB_ERR_INVALID_ARG);
}

/* ---- SDK ------------------------------------------------------------------------------------ */

static void hostile_zb_sdk_new(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_sdk_new(NULL, NULL, &sdk, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_sdk_new("localhost:1", NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err, zb_sdk_new("", NULL, &sdk, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err, zb_sdk_new(kBadUtf8, NULL, &sdk, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err, zb_sdk_new("http://localhost:1", NULL, &sdk, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err, zb_sdk_new("localhost:99999999999", NULL, &sdk, &err));
  assert_null(sdk);
}

static void hostile_zb_sdk_destroy(void **state) {
  (void)state;
  zb_sdk_destroy(NULL);
}

static void hostile_zb_sdk_stats_json(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  char *json = NULL;
  size_t len = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_sdk_stats_json(NULL, &json, &len, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_sdk_stats_json(env->sdk, NULL, &len, &err));
  assert_null(json);
}

/* ---- Schemas -------------------------------------------------------------------------------- */

static void hostile_zb_schema_from_table_json(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = NULL;
  const char table[] = "{\"name\": \"t\"}";
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_table_json(NULL, 10, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_table_json(NULL, SIZE_MAX, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_schema_from_table_json(table, sizeof table - 1, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err, zb_schema_from_table_json(table, 0, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err,
            zb_schema_from_table_json(kBadUtf8, sizeof kBadUtf8 - 1, &schema, &err));
  /* A NUL inside the text, then garbage. */
  const char with_nul[] = "{\"name\": \"t\"}\0garbage";
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err,
            zb_schema_from_table_json(with_nul, sizeof with_nul - 1, &schema, &err));
  char *deep =
      nested("{\"name\": \"main.default.t\", \"columns\": ", "[", "", "]", "}", DEEP_LEVELS);
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err,
            zb_schema_from_table_json(deep, strlen(deep), &schema, &err));
  free(deep);
  assert_null(schema);
}

static void hostile_zb_schema_from_ddl(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_ddl(NULL, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_from_ddl(kDdl, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err, zb_schema_from_ddl("", &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err, zb_schema_from_ddl(kBadUtf8, &schema, &err));
  char *deep = nested("main.default.t (c ", "ARRAY<", "INT", ">", ")", DEEP_LEVELS);
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err, zb_schema_from_ddl(deep, &schema, &err));
  free(deep);
  deep = nested("main.default.t (c ", "STRUCT<f: ", "INT", ">", ")", DEEP_LEVELS);
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err, zb_schema_from_ddl(deep, &schema, &err));
  free(deep);
  assert_null(schema);
}

static void hostile_zb_schema_fetch(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_fetch(NULL, TU_TABLE, NULL, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_fetch(env->sdk, NULL, NULL, &schema, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_fetch(env->sdk, TU_TABLE, NULL, NULL, &err));
  /* An SDK without workspace.url has nowhere to fetch from. */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_fetch(env->sdk, TU_TABLE, NULL, &schema, &err));
  assert_null(schema);
}

static void hostile_zb_schema_destroy(void **state) {
  (void)state;
  zb_schema_destroy(NULL);
}

static void hostile_zb_schema_table_name(void **state) {
  (void)state;
  assert_null(zb_schema_table_name(NULL));
}

static void hostile_zb_schema_descriptor(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = ddl_schema();
  const void *data = NULL;
  size_t len = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_descriptor(NULL, &data, &len, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_descriptor(schema, NULL, &len, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_descriptor(schema, &data, NULL, &err));
  zb_schema_destroy(schema);
}

static void hostile_zb_schema_proto_source(void **state) {
  (void)state;
  assert_null(zb_schema_proto_source(NULL));
}

static void hostile_zb_schema_avro(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = ddl_schema();
  const char *text = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_avro(NULL, &text, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_avro(schema, NULL, &err));
  zb_schema_destroy(schema);
  /* A table with no Avro form: a MAP keyed by an integer. */
  zb_schema *keyed = NULL;
  TU_EXPECT(ZB_OK, err, zb_schema_from_ddl("main.default.t (m MAP<INT, STRING>)", &keyed, &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err, zb_schema_avro(keyed, &text, &err));
  zb_schema_destroy(keyed);
}

static void hostile_zb_schema_encode_json(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = ddl_schema();
  const char record[] = "{\"id\": 1}";
  uint8_t buf[64];
  size_t size = sizeof buf;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_schema_encode_json(NULL, record, sizeof record - 1, buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_schema_encode_json(schema, NULL, 10, buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_schema_encode_json(schema, NULL, SIZE_MAX, buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_schema_encode_json(schema, record, sizeof record - 1, buf, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_schema_encode_json(schema, kBadUtf8, sizeof kBadUtf8 - 1, buf, &size, &err));
  const char bad_string[] = "{\"id\": 1, \"payload\": \"\xff\xfe\"}";
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_schema_encode_json(schema, bad_string, sizeof bad_string - 1, buf, &size, &err));
  char *deep = nested("{\"id\": 1, \"payload\": ", "[", "", "]", "}", DEEP_LEVELS);
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_schema_encode_json(schema, deep, strlen(deep), buf, &size, &err));
  free(deep);
  deep = nested("", "{\"a\": ", "1", "}", "", DEEP_LEVELS);
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_schema_encode_json(schema, deep, strlen(deep), buf, &size, &err));
  free(deep);
  /* No buffer and the largest size: only the size is reported. */
  size = SIZE_MAX;
  TU_EXPECT(ZB_OK, err,
            zb_schema_encode_json(schema, record, sizeof record - 1, NULL, &size, &err));
  assert_true(size > 0 && size < sizeof buf);
  zb_schema_destroy(schema);
}

/* ---- Streams -------------------------------------------------------------------------------- */

static void hostile_zb_stream_new(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = NULL;
  const uint8_t *descriptor = NULL;
  size_t descriptor_len = 0;
  zbtest_descriptor(&descriptor, &descriptor_len);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(NULL, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, NULL, ZB_RECORD_PROTO, descriptor, descriptor_len, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len, NULL,
                          NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, 0, descriptor, descriptor_len, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, INT32_MIN, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_JSON, descriptor, descriptor_len, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_JSON, NULL, SIZE_MAX, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, NULL, descriptor_len, NULL, &stream,
                          &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, 0, NULL, &stream, &err));
  /* A descriptor longer than any message: refused before a byte of it is read. */
  zb_status too_long =
      zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, SIZE_MAX, NULL, &stream, &err);
  assert_int_equal(too_long, ZB_ERR_INVALID_ARG);
  tu_expect_message(err, "descriptor_len");
  /* Bytes that are no descriptor, a table name that is not UTF-8, one that is 1 MB long. */
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err,
            zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, kBadUtf8, sizeof kBadUtf8 - 1, NULL,
                          &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err,
            zb_stream_new(env->sdk, kBadUtf8, ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  char *long_name = nested("main.default.", "t", "", "", "", 1 << 20);
  zb_status too_long_name =
      zb_stream_new(env->sdk, long_name, ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err);
  assert_int_equal(too_long_name, ZB_ERR_INVALID_TARGET);
  assert_true(strlen(zb_error_message(err)) < 1024); /* the name is not echoed whole */
  tu_expect_message(err, "at most 255 characters");
  free(long_name);
  assert_null(stream);
}

static void hostile_zb_stream_new_from_schema(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = ddl_schema();
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_new_from_schema(NULL, schema, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_from_schema(env->sdk, NULL, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_new_from_schema(env->sdk, schema, NULL, NULL, &err));
  assert_null(stream);
  zb_schema_destroy(schema);
}

static void hostile_zb_stream_new_avro_from_schema(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = ddl_schema();
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_avro_from_schema(NULL, schema, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_avro_from_schema(env->sdk, NULL, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_avro_from_schema(env->sdk, schema, NULL, NULL, &err));
  zb_schema_destroy(schema);
  /* A table with no Avro form is refused before any connection. */
  zb_schema *keyed = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_schema_from_ddl("main.default.events (id BIGINT NOT NULL, m MAP<INT, INT>)", &keyed,
                               &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err,
            zb_stream_new_avro_from_schema(env->sdk, keyed, NULL, &stream, &err));
  assert_null(stream);
  zb_schema_destroy(keyed);
}

/* Asserts that the stream accepted nothing yet and still takes a good record, acknowledged. */
static void expect_untouched_and_working(zb_stream *stream) {
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  tu_ingest_and_flush(stream, 1, 1, "still works");
}

static void hostile_zb_stream_ingest_proto(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_stream *json_stream = tu_open_json(env->sdk, TU_JSON_TABLE, NULL);
  const huge_region region = huge_region_map();
  uint64_t offset = 77;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_proto(NULL, region.data, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_proto(stream, NULL, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_proto(stream, NULL, SIZE_MAX, &offset, &err));
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err,
            zb_stream_ingest_proto(stream, region.data, 0, &offset, &err));
  /* A record of SIZE_MAX bytes once wrapped around to a small framed size. */
  zb_status largest = zb_stream_ingest_proto(stream, region.data, SIZE_MAX, &offset, &err);
  assert_int_equal(largest, ZB_ERR_RECORD_TOO_LARGE);
  tu_expect_message(err, "18446744073709551615 bytes");
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto(stream, region.data, region.len, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto(stream, region.data, MAX_REQUEST_BYTES, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_proto(json_stream, region.data, 1, &offset, &err));
  assert_int_equal(offset, 77);
  expect_untouched_and_working(stream);
  huge_region_unmap(region);
  tu_close_and_destroy(json_stream);
  tu_close_and_destroy(stream);
}

/* kDdl's record {id: 1, payload: "x"} as an Avro datum of its writer schema: id 1 (zig-zag 2),
 * the union branch of a string (1, zig-zag 2), its length (1, zig-zag 2) and its byte. */
static const uint8_t kAvroDatum[] = {0x02, 0x02, 0x02, 'x'};

static void hostile_zb_stream_ingest_avro(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_schema *schema = ddl_schema();
  zb_stream *stream = open_avro_stream(env->sdk, schema);
  zb_stream *proto_stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  const huge_region region = huge_region_map();
  uint64_t offset = 77;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_avro(NULL, region.data, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_avro(stream, NULL, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err, zb_stream_ingest_avro(stream, region.data, 0, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_avro(stream, region.data, SIZE_MAX, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_avro(proto_stream, kAvroDatum, sizeof kAvroDatum, &offset, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_proto(stream, kAvroDatum, sizeof kAvroDatum, &offset, &err));
  assert_int_equal(offset, 77);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  /* Still working: a datum, and a JSON record it encodes to Avro, both acknowledged. */
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_avro(stream, kAvroDatum, sizeof kAvroDatum, &offset, &err));
  assert_int_equal(offset, 0);
  const char json[] = "{\"id\": 2, \"payload\": \"y\"}";
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_json(stream, json, sizeof json - 1, &offset, &err));
  assert_int_equal(offset, 1);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  huge_region_unmap(region);
  tu_close_and_destroy(proto_stream);
  tu_close_and_destroy(stream);
  zb_schema_destroy(schema);
}

static void hostile_zb_stream_ingest_json(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_json(env->sdk, TU_JSON_TABLE, NULL);
  zb_stream *proto_stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_schema *schema = ddl_schema();
  zb_stream *schema_stream = open_schema_stream(env->sdk, schema);
  const huge_region region = huge_region_map();
  const char record[] = "{\"id\": 1}";
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_json(NULL, record, 9, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_json(stream, NULL, 9, NULL, &err));
  TU_EXPECT(ZB_ERR_EMPTY_RECORD, err, zb_stream_ingest_json(stream, record, 0, NULL, &err));
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_json(stream, (const char *)region.data, SIZE_MAX, NULL, &err));
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_json(stream, (const char *)region.data, region.len, NULL, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err, zb_stream_ingest_json(proto_stream, record, 9, NULL, &err));
  /* A stream with a schema reads the JSON: it must be UTF-8 and not too deep. */
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_stream_ingest_json(schema_stream, kBadUtf8, sizeof kBadUtf8 - 1, NULL, &err));
  char *deep = nested("{\"id\": 1, \"payload\": ", "[", "", "]", "}", DEEP_LEVELS);
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_stream_ingest_json(schema_stream, deep, strlen(deep), NULL, &err));
  free(deep);
  assert_int_equal(tu_stream_info(schema_stream).records_accepted, 0);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  huge_region_unmap(region);
  tu_close_and_destroy(schema_stream);
  zb_schema_destroy(schema);
  tu_close_and_destroy(proto_stream);
  tu_close_and_destroy(stream);
}

/* The batch cases both ingest calls share; `records` is what the call takes. */
typedef zb_status (*batch_ingest)(zb_stream *stream, const void *const *records, const size_t *lens,
                                  size_t count, uint64_t *last_offset_out, zb_error **err);

static zb_status ingest_proto_batch(zb_stream *stream, const void *const *records,
                                    const size_t *lens, size_t count, uint64_t *last,
                                    zb_error **err) {
  return zb_stream_ingest_proto_batch(stream, records, lens, count, last, err);
}

static zb_status ingest_avro_batch(zb_stream *stream, const void *const *records,
                                   const size_t *lens, size_t count, uint64_t *last,
                                   zb_error **err) {
  return zb_stream_ingest_avro_batch(stream, records, lens, count, last, err);
}

static zb_status ingest_json_batch(zb_stream *stream, const void *const *records,
                                   const size_t *lens, size_t count, uint64_t *last,
                                   zb_error **err) {
  return zb_stream_ingest_json_batch(stream, (const char *const *)records, lens, count, last, err);
}

static void expect_batch_hostile(zb_stream *stream, batch_ingest ingest) {
  zb_error *err = TU_ERR_SENTINEL;
  const huge_region region = huge_region_map();
  const void *records[3] = {region.data, region.data, region.data};
  size_t lens[3] = {1, 1, 1};
  uint64_t last = 77;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, ingest(NULL, records, lens, 3, &last, &err));
  TU_EXPECT(ZB_ERR_EMPTY_BATCH, err, ingest(stream, records, lens, 0, &last, &err));
  TU_EXPECT(ZB_ERR_EMPTY_BATCH, err, ingest(stream, NULL, NULL, 0, &last, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, ingest(stream, NULL, lens, 3, &last, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, ingest(stream, records, NULL, 3, &last, &err));
  /* A count no two arrays can have: refused before either is read. */
  zb_status absurd = ingest(stream, records, lens, SIZE_MAX, &last, &err);
  assert_int_equal(absurd, ZB_ERR_INVALID_ARG);
  tu_expect_message(err, "count");
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, ingest(stream, records, lens, SIZE_MAX / 16, &last, &err));
  /* One NULL record, one empty record: named. */
  records[1] = NULL;
  zb_status null_record = ingest(stream, records, lens, 3, &last, &err);
  assert_int_equal(null_record, ZB_ERR_INVALID_ARG);
  tu_expect_message(err, "record 1 of the batch");
  records[1] = region.data;
  lens[2] = 0;
  zb_status empty = ingest(stream, records, lens, 3, &last, &err);
  assert_int_equal(empty, ZB_ERR_EMPTY_RECORD);
  tu_expect_message(err, "record 2 of the batch");
  /* SIZE_MAX in a batch; two lengths whose framed sizes wrap around to 2 bytes. */
  lens[2] = SIZE_MAX;
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err, ingest(stream, records, lens, 3, &last, &err));
  lens[0] = SIZE_MAX - 20;
  lens[1] = 10;
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err, ingest(stream, records, lens, 2, &last, &err));
  /* Records really as long as they say, together 2^64 + 12 bytes framed. */
  const wrapping_batch wrapping = wrapping_batch_new(region);
  zb_status wrapped = ingest(stream, wrapping.records, wrapping.lens, wrapping.count, &last, &err);
  assert_int_equal(wrapped, ZB_ERR_RECORD_TOO_LARGE);
  tu_expect_message(err, "is over the payload limit of 10420224 bytes");
  wrapping_batch_free(wrapping);
  assert_int_equal(last, 77);
  huge_region_unmap(region);
}

static void hostile_zb_stream_ingest_proto_batch(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  expect_batch_hostile(stream, ingest_proto_batch);
  expect_untouched_and_working(stream);
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_ingest_avro_batch(void **state) {
  tu_env *env = ENV(state);
  zb_schema *schema = ddl_schema();
  zb_stream *stream = open_avro_stream(env->sdk, schema);
  expect_batch_hostile(stream, ingest_avro_batch);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  tu_close_and_destroy(stream);
  zb_schema_destroy(schema);
}

static void hostile_zb_stream_ingest_json_batch(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_json(env->sdk, TU_JSON_TABLE, NULL);
  expect_batch_hostile(stream, ingest_json_batch);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  tu_close_and_destroy(stream);
  /* On a stream with a schema, a record that is not UTF-8 is named, and none is accepted. */
  zb_schema *schema = ddl_schema();
  zb_stream *schema_stream = open_schema_stream(env->sdk, schema);
  const char *records[2] = {"{\"id\": 1}", kBadUtf8};
  const size_t lens[2] = {strlen(records[0]), strlen(kBadUtf8)};
  zb_status invalid = zb_stream_ingest_json_batch(schema_stream, records, lens, 2, NULL, &err);
  assert_int_equal(invalid, ZB_ERR_INVALID_RECORD);
  tu_expect_message(err, "record 1 of the batch");
  assert_int_equal(tu_stream_info(schema_stream).records_accepted, 0);
  tu_close_and_destroy(schema_stream);
  zb_schema_destroy(schema);
}

static const int32_t kBadTimeouts[] = {-2, INT32_MIN};

/* ---- Arrow streams: a server with ZBTEST_ARROW_TABLE declared ------------------------------ */

static int arrow_setup(void **state) {
  zbtest_server_options options;
  memset(&options, 0, sizeof options);
  options.schema = ZBTEST_ARROW_DDL;
  return tu_setup_with(state, &options);
}

static zb_stream *open_arrow_stream(zb_sdk *sdk) {
  zb_error *err = TU_ERR_SENTINEL;
  struct ArrowSchema schema;
  zb_stream *stream = NULL;
  zbtest_arrow_schema(&schema);
  TU_EXPECT(ZB_OK, err, zb_stream_new_arrow(sdk, ZBTEST_ARROW_TABLE, &schema, NULL, &stream, &err));
  schema.release(&schema);
  return stream;
}

static void hostile_zb_stream_new_arrow(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = NULL;
  struct ArrowSchema schema;
  zbtest_arrow_schema(&schema);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow(NULL, ZBTEST_ARROW_TABLE, &schema, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow(env->sdk, NULL, &schema, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow(env->sdk, ZBTEST_ARROW_TABLE, NULL, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow(env->sdk, ZBTEST_ARROW_TABLE, &schema, NULL, NULL, &err));
  {
    const char *const lanes[] = {"stream.lanes", "2", NULL};
    zb_config *cfg = tu_config(lanes);
    TU_EXPECT(ZB_ERR_INVALID_ARG, err,
              zb_stream_new_arrow(env->sdk, ZBTEST_ARROW_TABLE, &schema, cfg, &stream, &err));
    zb_config_destroy(cfg);
  }
  /* Not a struct of columns; a column of a type no Delta column maps to. */
  schema.format = "l";
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err,
            zb_stream_new_arrow(env->sdk, ZBTEST_ARROW_TABLE, &schema, NULL, &stream, &err));
  schema.format = "+s";
  schema.children[0]->format = "tdm";
  tu_expect_message(TU_EXPECT_ERROR(ZB_ERR_INVALID_SCHEMA, err,
                                    zb_stream_new_arrow(env->sdk, ZBTEST_ARROW_TABLE, &schema, NULL,
                                                        &stream, &err)),
                    "id");
  schema.children[0]->format = "l";
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err,
            zb_stream_new_arrow(env->sdk, "no-such", &schema, NULL, &stream, &err));
  schema.release(&schema);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow(env->sdk, ZBTEST_ARROW_TABLE, &schema, NULL, &stream, &err));
  assert_null(stream);
}

static void hostile_zb_stream_new_arrow_ipc(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = NULL;
  static const uint8_t kGarbage[] = {0xff, 0xff, 0xff, 0xff, 0x40, 0, 0, 0, 1, 2, 3};
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow_ipc(NULL, ZBTEST_ARROW_TABLE, kGarbage, sizeof kGarbage, NULL,
                                    &stream, &err));
  TU_EXPECT(
      ZB_ERR_INVALID_ARG, err,
      zb_stream_new_arrow_ipc(env->sdk, NULL, kGarbage, sizeof kGarbage, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow_ipc(env->sdk, ZBTEST_ARROW_TABLE, NULL, 1, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow_ipc(env->sdk, ZBTEST_ARROW_TABLE, kGarbage, SIZE_MAX, NULL, &stream,
                                    &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_arrow_ipc(env->sdk, ZBTEST_ARROW_TABLE, kGarbage, sizeof kGarbage, NULL,
                                    NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_SCHEMA, err,
            zb_stream_new_arrow_ipc(env->sdk, ZBTEST_ARROW_TABLE, kGarbage, sizeof kGarbage, NULL,
                                    &stream, &err));
  TU_EXPECT(
      ZB_ERR_INVALID_SCHEMA, err,
      zb_stream_new_arrow_ipc(env->sdk, ZBTEST_ARROW_TABLE, kGarbage, 0, NULL, &stream, &err));
  assert_null(stream);
}

static void hostile_zb_stream_ingest_arrow(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = open_arrow_stream(env->sdk);
  zb_stream *proto_stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  struct ArrowArray batch;
  int released = 0;
  uint64_t offset = 77;
  zbtest_arrow_batch(&batch, 0, 10, 0, &released);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_arrow(NULL, &batch, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_arrow(stream, NULL, &offset, &err));
  assert_non_null(batch.release); /* ZB_ERR_INVALID_ARG leaves it the caller's */
  /* Every other error takes the batch and has released it on return. */
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err, zb_stream_ingest_arrow(proto_stream, &batch, &offset, &err));
  assert_null(batch.release);
  assert_int_equal(released, 1);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  zbtest_arrow_batch(&batch, 0, 0, 0, &released);
  TU_EXPECT(ZB_ERR_EMPTY_BATCH, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  assert_int_equal(released, 2);
  zbtest_arrow_batch(&batch, 0, 10, 0, &released);
  batch.length = -1;
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  assert_int_equal(released, 3);
  zbtest_arrow_batch(&batch, 0, 10, 0, &released);
  batch.children[1]->n_buffers = 2;
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  assert_int_equal(released, 4);
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err, zb_stream_ingest_json(stream, "{}", 2, &offset, &err));
  assert_int_equal(offset, 77);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  /* Still working. */
  zbtest_arrow_batch(&batch, 0, 10, 0, &released);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  assert_int_equal(offset, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  tu_close_and_destroy(stream);
  assert_int_equal(released, 5);
  tu_close_and_destroy(proto_stream);
}

static void hostile_zb_stream_ingest_arrow_stream(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = open_arrow_stream(env->sdk);
  zb_stream *proto_stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  struct ArrowArrayStream batches;
  int released = 0;
  uint64_t last = 77;
  size_t count = 77;
  zbtest_arrow_stream(&batches, 0, 2, 10, &released);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_arrow_stream(NULL, &batches, &last, &count, &err));
  assert_int_equal(count, 0);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_arrow_stream(stream, NULL, &last, &count, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_arrow_stream(proto_stream, &batches, &last, &count, &err));
  assert_null(batches.release);
  assert_int_equal(released, 1);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_arrow_stream(stream, &batches, &last, &count, &err));
  assert_int_equal(last, 77);
  zbtest_arrow_stream(&batches, 0, 2, 10, &released);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_arrow_stream(stream, &batches, &last, &count, &err));
  assert_int_equal(last, 1);
  assert_int_equal(count, 2);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  tu_close_and_destroy(stream);
  assert_int_equal(released, 4);
  tu_close_and_destroy(proto_stream);
}

static void hostile_zb_stream_ingest_arrow_ipc(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = open_arrow_stream(env->sdk);
  zb_stream *proto_stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  static const uint8_t kGarbage[] = {0xff, 0xff, 0xff, 0xff, 0x40, 0, 0, 0, 1, 2, 3};
  const huge_region region = huge_region_map();
  uint64_t last = 77;
  size_t count = 77;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_arrow_ipc(NULL, kGarbage, sizeof kGarbage, &last, &count, &err));
  assert_int_equal(count, 0);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_arrow_ipc(stream, NULL, 1, &last, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_arrow_ipc(stream, region.data, SIZE_MAX, &last, &count, &err));
  TU_EXPECT(
      ZB_ERR_RECORD_TYPE, err,
      zb_stream_ingest_arrow_ipc(proto_stream, kGarbage, sizeof kGarbage, &last, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_stream_ingest_arrow_ipc(stream, kGarbage, sizeof kGarbage, &last, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_RECORD, err,
            zb_stream_ingest_arrow_ipc(stream, kGarbage, 0, &last, &count, &err));
  assert_int_equal(last, 77);
  assert_int_equal(tu_stream_info(stream).records_accepted, 0);
  huge_region_unmap(region);
  tu_close_and_destroy(stream);
  tu_close_and_destroy(proto_stream);
}

static void hostile_zb_stream_wait_for_offset(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(NULL, 0, 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 0, 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, UINT64_MAX, 0, &err));
  for (size_t i = 0; i < sizeof kBadTimeouts / sizeof *kBadTimeouts; ++i) {
    TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, 0, kBadTimeouts[i], &err));
  }
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_flush(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_flush(NULL, 0, &err));
  for (size_t i = 0; i < sizeof kBadTimeouts / sizeof *kBadTimeouts; ++i) {
    TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_flush(stream, kBadTimeouts[i], &err));
  }
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_close(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_close(NULL, 0, &err));
  for (size_t i = 0; i < sizeof kBadTimeouts / sizeof *kBadTimeouts; ++i) {
    TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_close(stream, kBadTimeouts[i], &err));
  }
  /* A refused close closed nothing. */
  assert_int_equal(tu_stream_info(stream).state, ZB_STREAM_OPEN);
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_destroy(void **state) {
  (void)state;
  zb_stream_destroy(NULL);
}

static void hostile_zb_stream_state_name(void **state) {
  (void)state;
  const zb_stream_state unknown[] = {0, -1, ZB_STREAM_CLOSED + 1, INT32_MIN, INT32_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; ++i) {
    assert_null(zb_stream_state_name(unknown[i]));
  }
}

static void hostile_zb_stream_get_info(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_get_info(NULL, &info, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_get_info(stream, NULL, &err));
  info.struct_size = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_get_info(stream, &info, &err));
  info.struct_size = UINT32_MAX;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  assert_int_equal(info.struct_size, sizeof info);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_recreate(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_stream *fresh = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_recreate(NULL, &fresh, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_recreate(stream, NULL, &err));
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_recreate(stream, &fresh, &err));
  assert_null(fresh);
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_new_persistent(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_persistent(NULL, TU_TABLE, ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_persistent(env->sdk, NULL, ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(
      ZB_ERR_INVALID_ARG, err,
      zb_stream_new_persistent(env->sdk, TU_TABLE, ZB_RECORD_JSON, NULL, 0, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_persistent(env->sdk, TU_TABLE, 99, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_persistent(env->sdk, TU_TABLE, ZB_RECORD_PROTO, NULL, SIZE_MAX, NULL,
                                     &stream, &err));
  TU_EXPECT(
      ZB_ERR_INVALID_TARGET, err,
      zb_stream_new_persistent(env->sdk, "no-dots", ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  assert_null(stream);
}

static void hostile_zb_stream_resume(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume(NULL, TU_TABLE, "id", ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume(env->sdk, NULL, "id", ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(
      ZB_ERR_INVALID_ARG, err,
      zb_stream_resume(env->sdk, TU_TABLE, NULL, ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume(env->sdk, TU_TABLE, "", ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume(env->sdk, TU_TABLE, "id", ZB_RECORD_JSON, NULL, 0, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume(env->sdk, TU_TABLE, "id", ZB_RECORD_AVRO, NULL, SIZE_MAX, NULL,
                             &stream, &err));
  assert_null(stream);
}

static void hostile_zb_stream_persistent_id(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  char *id = NULL;
  size_t len = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_persistent_id(NULL, &id, &len, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_persistent_id(stream, NULL, &len, &err));
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_persistent_id(stream, &id, NULL, &err));
  assert_null(id);
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_resume_watermark(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  int32_t has_committed = 0;
  uint64_t last_committed = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume_watermark(NULL, &has_committed, &last_committed, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume_watermark(stream, NULL, &last_committed, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_resume_watermark(stream, &has_committed, NULL, &err));
  TU_EXPECT(ZB_ERR_STATE, err,
            zb_stream_resume_watermark(stream, &has_committed, &last_committed, &err));
  tu_close_and_destroy(stream);
}

static void hostile_zb_stream_retire(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_retire(NULL, TU_TABLE, "id", NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_retire(env->sdk, NULL, "id", NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_retire(env->sdk, TU_TABLE, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_retire(env->sdk, TU_TABLE, "", NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_TARGET, err, zb_stream_retire(env->sdk, "no-dots", "id", NULL, &err));
  /* An id the server never gave. */
  TU_EXPECT_TRANSPORT(TU_GRPC_NOT_FOUND, 0, err,
                      zb_stream_retire(env->sdk, TU_TABLE, "unknown", NULL, &err));
}

static void noop_event_cb(zb_stream *stream, const zb_event *event, void *user_data) {
  (void)stream;
  (void)event;
  (void)user_data;
}

static void hostile_zb_stream_poll(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_event events[2] = {ZB_EVENT_INIT, ZB_EVENT_INIT};
  size_t count = 77;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(NULL, events, sizeof *events, 2, 0, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(stream, events, sizeof *events, 2, 0, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(stream, NULL, sizeof *events, 1, 0, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_poll(stream, events, 0, 2, 0, &count, &err));
  for (size_t i = 0; i < sizeof kBadTimeouts / sizeof *kBadTimeouts; ++i) {
    TU_EXPECT(ZB_ERR_INVALID_ARG, err,
              zb_stream_poll(stream, events, sizeof *events, 2, kBadTimeouts[i], &count, &err));
  }
  /* Arrays larger than memory: event_size or capacity so large that their product wraps. */
  tu_ingest_and_flush(stream, 1, 2, "events"); /* an ack event is queued */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_poll(stream, events, SIZE_MAX, 2, 0, &count, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(stream, events, sizeof *events, SIZE_MAX, 0, &count, &err));
  /* Nothing was taken by the refused polls. */
  TU_EXPECT(ZB_OK, err, zb_stream_poll(stream, events, sizeof *events, 2, 0, &count, &err));
  assert_int_equal(count, 1);
  assert_int_equal(events[0].type, ZB_EVENT_ACK);
  tu_close_and_destroy(stream);
  /* A stream with an event callback cannot be polled. */
  zb_stream *with_cb = tu_open_proto_with_event_cb(env->sdk, TU_TABLE, noop_event_cb, NULL, NULL);
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_poll(with_cb, events, sizeof *events, 2, 0, &count, &err));
  tu_close_and_destroy(with_cb);
}

static void hostile_zb_stream_unacked(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zb_records *records = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_unacked(NULL, &records, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_unacked(stream, NULL, &err));
  assert_null(records);
  tu_close_and_destroy(stream);
}

static void hostile_zb_records_count(void **state) {
  (void)state;
  assert_int_equal(zb_records_count(NULL), 0);
}

static void hostile_zb_records_get(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 1, 1, "unacked");
  zb_records *records = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &records, &err));
  assert_int_equal(zb_records_count(records), 1);
  const void *data = NULL;
  size_t len = 0;
  uint64_t offset = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(NULL, 0, &data, &len, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(records, 0, NULL, &len, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(records, 0, &data, NULL, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(records, 1, &data, &len, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(records, SIZE_MAX, &data, &len, &offset, &err));
  TU_EXPECT(ZB_OK, err, zb_records_get(records, 0, &data, &len, NULL, &err));
  zb_records_free(records);
  zbtest_server_withhold_acks(env->server, false);
  tu_close_and_destroy(stream);
}

static void hostile_zb_records_free(void **state) {
  (void)state;
  zb_records_free(NULL);
}

static void hostile_zb_stream_stats_json(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, NULL);
  char *json = NULL;
  size_t len = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_stats_json(NULL, &json, &len, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_stats_json(stream, NULL, &len, &err));
  assert_null(json);
  tu_close_and_destroy(stream);
}

static void hostile_zb_string_free(void **state) {
  (void)state;
  zb_string_free(NULL);
}

/* ---- Use after close and after failure ------------------------------------------------------ */

/* Every call on `stream`, which failed for good or was closed: each returns `ingest_code` for
 * ingest, the documented code for the rest, and none crashes. */
static void expect_finished_stream(zb_stream *stream, zb_status ingest_code, zb_status end_code,
                                   zb_stream_state state) {
  zb_error *err = TU_ERR_SENTINEL;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(2, "late", record);
  const void *records[1] = {record};
  const char *json[1] = {"{}"};
  const size_t lens[1] = {len};
  const size_t json_lens[1] = {2};
  TU_EXPECT(ingest_code, err, zb_stream_ingest_proto(stream, record, len, NULL, &err));
  TU_EXPECT(ingest_code, err, zb_stream_ingest_proto_batch(stream, records, lens, 1, NULL, &err));
  /* Type before state: a JSON record on a protobuf stream is refused for its type. */
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err, zb_stream_ingest_json(stream, "{}", 2, NULL, &err));
  TU_EXPECT(ZB_ERR_RECORD_TYPE, err,
            zb_stream_ingest_json_batch(stream, json, json_lens, 1, NULL, &err));
  /* The hostile arguments still get their own answers. */
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_proto(stream, NULL, len, NULL, &err));
  TU_EXPECT(ZB_ERR_RECORD_TOO_LARGE, err,
            zb_stream_ingest_proto(stream, record, SIZE_MAX, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(stream, UINT64_MAX, 0, &err));
  TU_EXPECT(end_code, err, zb_stream_flush(stream, 0, &err));
  TU_EXPECT(end_code, err, zb_stream_close(stream, 0, &err));
  TU_EXPECT(end_code, err, zb_stream_close(stream, ZB_TIMEOUT_INFINITE, &err));
  assert_int_equal(tu_stream_info(stream).state, state);
  zb_event event = ZB_EVENT_INIT;
  size_t count = 0;
  do {
    TU_EXPECT(ZB_OK, err, zb_stream_poll(stream, &event, sizeof event, 1, 0, &count, &err));
    zb_error_free(event.error);
    event.error = NULL;
  } while (count > 0);
  zb_records *unacked = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &unacked, &err));
  zb_records_free(unacked);
  char *stats = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_stats_json(stream, &stats, NULL, &err));
  zb_string_free(stats);
}

static void hostile_closed_and_failed_streams(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = TU_ERR_SENTINEL;
  zb_stream *closed = open_closed_stream(env);
  expect_finished_stream(closed, ZB_ERR_CLOSED, ZB_OK, ZB_STREAM_CLOSED);
  TU_EXPECT(ZB_OK, err, zb_stream_wait_for_offset(closed, 0, 0, &err));
  zb_stream *again = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(closed, &again, &err));
  tu_close_and_destroy(again);
  zb_stream_destroy(closed);

  zb_stream *failed = open_failed_stream(env);
  expect_finished_stream(failed, ZB_ERR_TRANSPORT, ZB_ERR_TRANSPORT, ZB_STREAM_FAILED);
  TU_EXPECT(ZB_ERR_TRANSPORT, err, zb_stream_wait_for_offset(failed, 0, 0, &err));
  zb_stream_destroy(failed);
}

/* ---- Coverage ------------------------------------------------------------------------------- */

static void every_public_function_has_a_case(void **state);

#define HOSTILE(function) cmocka_unit_test(hostile_##function)
#define HOSTILE_LIVE(function) TU_TEST(hostile_##function)
#define HOSTILE_ARROW(function) \
  cmocka_unit_test_setup_teardown(hostile_##function, arrow_setup, tu_teardown)

static const struct CMUnitTest kTests[] = {
    cmocka_unit_test(every_public_function_has_a_case),
    HOSTILE(zb_version),
    HOSTILE(zb_version_str),
    HOSTILE(zb_status_name),
    HOSTILE(zb_status_describe),
    HOSTILE(zb_error_code),
    HOSTILE(zb_error_name),
    HOSTILE(zb_error_message),
    HOSTILE(zb_error_is_retryable),
    HOSTILE(zb_error_grpc_status),
    HOSTILE(zb_error_new),
    HOSTILE(zb_error_dup),
    HOSTILE(zb_error_free),
    HOSTILE(zb_config_new),
    HOSTILE(zb_config_dup),
    HOSTILE(zb_config_destroy),
    HOSTILE(zb_config_set),
    HOSTILE(zb_config_get),
    HOSTILE(zb_config_describe),
    HOSTILE(zb_config_set_headers_provider),
    HOSTILE(zb_config_set_event_callback),
    HOSTILE(zb_config_set_wakeup),
    HOSTILE(zb_config_set_wakeup_fd),
    HOSTILE(zb_config_set_log_callback),
    HOSTILE(zb_config_set_stats_callback),
    HOSTILE(zb_config_set_token_federation),
    HOSTILE(zb_log_level_name),
    HOSTILE_LIVE(zb_headers_add),
    HOSTILE_LIVE(zb_token_sink_set),
    HOSTILE(zb_sdk_new),
    HOSTILE(zb_sdk_destroy),
    HOSTILE_LIVE(zb_sdk_stats_json),
    HOSTILE(zb_schema_from_table_json),
    HOSTILE(zb_schema_from_ddl),
    HOSTILE_LIVE(zb_schema_fetch),
    HOSTILE(zb_schema_destroy),
    HOSTILE(zb_schema_table_name),
    HOSTILE(zb_schema_descriptor),
    HOSTILE(zb_schema_proto_source),
    HOSTILE(zb_schema_avro),
    HOSTILE(zb_schema_encode_json),
    HOSTILE_LIVE(zb_stream_new),
    HOSTILE_LIVE(zb_stream_new_from_schema),
    HOSTILE_LIVE(zb_stream_new_avro_from_schema),
    HOSTILE_LIVE(zb_stream_ingest_proto),
    HOSTILE_LIVE(zb_stream_ingest_json),
    HOSTILE_LIVE(zb_stream_ingest_avro),
    HOSTILE_LIVE(zb_stream_ingest_proto_batch),
    HOSTILE_LIVE(zb_stream_ingest_json_batch),
    HOSTILE_LIVE(zb_stream_ingest_avro_batch),
    HOSTILE_ARROW(zb_stream_new_arrow),
    HOSTILE_ARROW(zb_stream_new_arrow_ipc),
    HOSTILE_ARROW(zb_stream_ingest_arrow),
    HOSTILE_ARROW(zb_stream_ingest_arrow_stream),
    HOSTILE_ARROW(zb_stream_ingest_arrow_ipc),
    HOSTILE_LIVE(zb_stream_wait_for_offset),
    HOSTILE_LIVE(zb_stream_flush),
    HOSTILE_LIVE(zb_stream_close),
    HOSTILE(zb_stream_destroy),
    HOSTILE(zb_stream_state_name),
    HOSTILE_LIVE(zb_stream_get_info),
    HOSTILE_LIVE(zb_stream_recreate),
    HOSTILE_LIVE(zb_stream_new_persistent),
    HOSTILE_LIVE(zb_stream_resume),
    HOSTILE_LIVE(zb_stream_persistent_id),
    HOSTILE_LIVE(zb_stream_resume_watermark),
    HOSTILE_LIVE(zb_stream_retire),
    HOSTILE_LIVE(zb_stream_poll),
    HOSTILE_LIVE(zb_stream_unacked),
    HOSTILE(zb_records_count),
    HOSTILE_LIVE(zb_records_get),
    HOSTILE(zb_records_free),
    HOSTILE_LIVE(zb_stream_stats_json),
    HOSTILE(zb_string_free),
    HOSTILE_LIVE(closed_and_failed_streams),
};

/* Whether kTests has a test named `name`. */
static bool has_test(const char *name) {
  for (size_t i = 0; i < sizeof kTests / sizeof *kTests; ++i) {
    if (strcmp(kTests[i].name, name) == 0) return true;
  }
  return false;
}

/* Every symbol of abi/symbols.txt ("name node" lines) has its hostile_<name> test, and every
 * hostile_zb_* test names an exported symbol. */
static void every_public_function_has_a_case(void **state) {
  (void)state;
  FILE *symbols = fopen(ZB_ABI_SYMBOLS_FILE, "r");
  assert_non_null(symbols);
  char line[256];
  char test[300];
  char listed[4096] = " ";
  int functions = 0, missing = 0;
  while (fgets(line, sizeof line, symbols)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    line[strcspn(line, " \n")] = '\0';
    ++functions;
    assert_true(strlen(listed) + strlen(line) + 2 < sizeof listed);
    strcat(listed, line);
    strcat(listed, " ");
    snprintf(test, sizeof test, "hostile_%s", line);
    if (!has_test(test)) {
      print_error("%s is exported but has no test %s here\n", line, test);
      ++missing;
    }
  }
  fclose(symbols);
  for (size_t i = 0; i < sizeof kTests / sizeof *kTests; ++i) {
    const char *name = kTests[i].name;
    if (strncmp(name, "hostile_zb_", 11) != 0) continue;
    snprintf(test, sizeof test, " %s ", name + strlen("hostile_"));
    if (!strstr(listed, test)) {
      print_error("%s tests a function that abi/symbols.txt does not list\n", name);
      ++missing;
    }
  }
  assert_true(functions >= 55);
  assert_int_equal(missing, 0);
}

int main(void) {
  return cmocka_run_group_tests(kTests, NULL, NULL);
}
