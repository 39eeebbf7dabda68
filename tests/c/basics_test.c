/* Versions, status codes, error objects, configuration, SDK endpoints and argument checking:
 * everything of the C API that needs no server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static void test_version(void **state) {
  (void)state;
  assert_int_equal(zb_version(), ZB_VERSION_NUM);
  assert_int_equal(zb_version() >> 16, ZB_VERSION_MAJOR);
  assert_int_equal((zb_version() >> 8) & 0xff, ZB_VERSION_MINOR);
  assert_int_equal(zb_version() & 0xff, ZB_VERSION_PATCH);
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", ZB_VERSION_MAJOR, ZB_VERSION_MINOR,
           ZB_VERSION_PATCH);
  assert_non_null(zb_version_str());
  assert_string_equal(zb_version_str(), expected);
  /* A static string: the same on every call. */
  assert_ptr_equal(zb_version_str(), zb_version_str());
}

static void test_status_names_and_descriptions(void **state) {
  (void)state;
  zb_status code = 0;
  for (; zb_status_name(code) != NULL; ++code) {
    const char *name = zb_status_name(code);
    assert_true(strncmp(name, "ZB_", 3) == 0);
    assert_true(strlen(name) > 3);
    const char *description = zb_status_describe(code);
    assert_non_null(description);
    assert_true(strlen(description) > 0);
    /* Names are unique. */
    for (zb_status earlier = 0; earlier < code; ++earlier) {
      assert_string_not_equal(zb_status_name(earlier), name);
    }
    assert_true(code < 1000);
  }
  /* Contiguous: nothing known past the first gap, and every code the header defines is named. */
  assert_null(zb_status_describe(code));
  for (zb_status beyond = code; beyond < code + 64; ++beyond) {
    assert_null(zb_status_name(beyond));
    assert_null(zb_status_describe(beyond));
  }
  assert_null(zb_status_name(-1));
  assert_null(zb_status_describe(-1));
  assert_null(zb_status_name(INT32_MIN));
  assert_true(code > ZB_ERR_INTERNAL);

  static const struct {
    zb_status code;
    const char *name;
  } known[] = {
#define KNOWN(c) {c, #c}
      KNOWN(ZB_OK),
      KNOWN(ZB_ERR_INVALID_ARG),
      KNOWN(ZB_ERR_UNKNOWN_KEY),
      KNOWN(ZB_ERR_INVALID_VALUE),
      KNOWN(ZB_ERR_QUEUE_FULL),
      KNOWN(ZB_ERR_TIMEOUT),
      KNOWN(ZB_ERR_CLOSED),
      KNOWN(ZB_ERR_EMPTY_RECORD),
      KNOWN(ZB_ERR_RECORD_TOO_LARGE),
      KNOWN(ZB_ERR_EMPTY_BATCH),
      KNOWN(ZB_ERR_RECORD_TYPE),
      KNOWN(ZB_ERR_INVALID_TARGET),
      KNOWN(ZB_ERR_TRANSPORT),
      KNOWN(ZB_ERR_PROTOCOL),
      KNOWN(ZB_ERR_AUTH),
      KNOWN(ZB_ERR_STATE),
      KNOWN(ZB_ERR_NO_MEMORY),
      KNOWN(ZB_ERR_INTERNAL),
#undef KNOWN
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i) {
    assert_non_null(zb_status_name(known[i].code));
    assert_string_equal(zb_status_name(known[i].code), known[i].name);
  }
}

/* The names are the statistics' own spelling, and the states run from ZB_STREAM_OPEN without a
 * gap, so that a binding can enumerate them up to the first NULL. */
static void test_stream_state_names(void **state) {
  (void)state;
  const char *const expected[] = {"open", "recovering", "paused", "failed", "closed"};
  assert_int_equal(ZB_STREAM_CLOSED - ZB_STREAM_OPEN + 1, sizeof expected / sizeof expected[0]);
  for (zb_stream_state s = ZB_STREAM_OPEN; s <= ZB_STREAM_CLOSED; ++s) {
    assert_string_equal(zb_stream_state_name(s), expected[s - ZB_STREAM_OPEN]);
  }
  assert_null(zb_stream_state_name(ZB_STREAM_OPEN - 1));
  assert_null(zb_stream_state_name(ZB_STREAM_CLOSED + 1));
  assert_null(zb_stream_state_name(-1));
}

static void test_error_objects(void **state) {
  (void)state;
  zb_error *err = zb_error_new(ZB_ERR_TIMEOUT, "took too long", 1);
  assert_non_null(err);
  assert_int_equal(zb_error_code(err), ZB_ERR_TIMEOUT);
  assert_string_equal(zb_error_message(err), "took too long");
  assert_int_equal(zb_error_is_retryable(err), 1);
  assert_int_equal(zb_error_grpc_status(err), -1);

  zb_error *copy = zb_error_dup(err);
  assert_non_null(copy);
  assert_ptr_not_equal(copy, err);
  zb_error_free(err);
  /* The copy owns its own message. */
  assert_int_equal(zb_error_code(copy), ZB_ERR_TIMEOUT);
  assert_string_equal(zb_error_message(copy), "took too long");
  assert_int_equal(zb_error_is_retryable(copy), 1);
  assert_int_equal(zb_error_grpc_status(copy), -1);
  zb_error_free(copy);

  /* The message is copied, and NULL means "". */
  char message[] = "mutable";
  err = zb_error_new(ZB_ERR_STATE, message, 0);
  message[0] = 'X';
  assert_string_equal(zb_error_message(err), "mutable");
  assert_int_equal(zb_error_is_retryable(err), 0);
  zb_error_free(err);
  err = zb_error_new(ZB_ERR_INTERNAL, NULL, 0);
  assert_non_null(err);
  assert_non_null(zb_error_message(err));
  assert_string_equal(zb_error_message(err), "");
  assert_int_equal(zb_error_code(err), ZB_ERR_INTERNAL);
  zb_error_free(err);

  /* Accessors on NULL. */
  assert_int_equal(zb_error_code(NULL), ZB_ERR_NO_MEMORY);
  assert_non_null(zb_error_message(NULL));
  assert_string_equal(zb_error_message(NULL), "");
  assert_int_equal(zb_error_is_retryable(NULL), 0);
  assert_int_equal(zb_error_grpc_status(NULL), -1);
  assert_null(zb_error_dup(NULL));
  zb_error_free(NULL);
}

/* Asserts that `key` reads back from `cfg` as `expected` (into a large enough buffer); returns
 * the size zb_config_get() reported. */
static size_t expect_config_reads(const zb_config *cfg, const char *key, const char *expected) {
  char buf[256];
  size_t size = sizeof buf;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, key, buf, &size, &err));
  assert_string_equal(buf, expected);
  return size;
}

static void test_config_set_get_and_size_protocol(void **state) {
  (void)state;
  zb_config *cfg = NULL;
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_new(&cfg, &err));
  assert_non_null(cfg);

  /* NULL buf asks for the size, NUL included. */
  size_t size = 0;
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "recovery.retries", NULL, &size, &err));
  assert_int_equal(size, 2); /* "4" */
  size = 12345;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "recovery.retries", NULL, &size, &err));
  assert_int_equal(size, 2);

  /* Too small a buffer: OK, nothing written, the size needed reported. */
  char buf[64];
  memset(buf, '#', sizeof buf);
  size = 1;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "recovery.retries", buf, &size, &err));
  assert_int_equal(size, 2);
  assert_int_equal(buf[0], '#');
  assert_int_equal(buf[1], '#');

  assert_int_equal(expect_config_reads(cfg, "recovery.retries", "4"), 2);

  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_set(cfg, "recovery.retries", "17", &err));
  assert_int_equal(expect_config_reads(cfg, "recovery.retries", "17"), 3);

  /* Exactly the size needed is enough. */
  memset(buf, '#', sizeof buf);
  size = 3;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "recovery.retries", buf, &size, &err));
  assert_string_equal(buf, "17");

  TU_EXPECT(ZB_OK, err, zb_config_set(cfg, "recovery.enable", "false", &err));
  expect_config_reads(cfg, "recovery.enable", "false");
  TU_EXPECT(ZB_OK, err, zb_config_set(cfg, "stream.ingest.timeout.ms", "-1", &err));
  expect_config_reads(cfg, "stream.ingest.timeout.ms", "-1");

  /* The value is copied. */
  char value[] = "250";
  TU_EXPECT(ZB_OK, err, zb_config_set(cfg, "recovery.backoff.ms", value, &err));
  value[0] = '9';
  expect_config_reads(cfg, "recovery.backoff.ms", "250");
  zb_config_destroy(cfg);
}

static void test_config_unknown_key_and_invalid_value(void **state) {
  (void)state;
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_set(cfg, "no.such.key", "1", &err));
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_set(cfg, "", "1", &err));
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_set(cfg, "RECOVERY.RETRIES", "1", &err));
  size_t size = 0;
  TU_EXPECT(ZB_ERR_UNKNOWN_KEY, err, zb_config_get(cfg, "no.such.key", NULL, &size, &err));

  static const char *const bad[][2] = {
      {"recovery.retries", "abc"},          {"recovery.retries", ""},
      {"recovery.retries", "-1"},           {"recovery.retries", "4x"},
      {"recovery.retries", " 4"},           {"recovery.retries", "99999999999999999999999"},
      {"recovery.enable", "maybe"},         {"recovery.enable", ""},
      {"stream.max.request.bytes", "1023"}, {"stream.max.request.bytes", "10485761"},
      {"stream.max.inflight.records", "0"}, {"stream.ingest.timeout.ms", "-2"},
      {"stream.ack.timeout.ms", "0"},       {"auth.token", "line\nbreak"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    zb_error *bad_err = NULL;
    const zb_status rc = zb_config_set(cfg, bad[i][0], bad[i][1], &bad_err);
    if (rc != ZB_ERR_INVALID_VALUE) {
      print_error("zb_config_set(%s, \"%s\") returned %d\n", bad[i][0], bad[i][1], (int)rc);
    }
    TU_EXPECT(ZB_ERR_INVALID_VALUE, bad_err, rc);
  }

  /* The config is unchanged by a rejected value. */
  expect_config_reads(cfg, "recovery.retries", "4");
  expect_config_reads(cfg, "stream.max.request.bytes", "10485760");

  /* The message of a bad value says what is accepted. */
  zb_error *kept = TU_EXPECT_ERROR(ZB_ERR_INVALID_VALUE, err,
                                   zb_config_set(cfg, "recovery.enable", "yes please", &err));
  assert_true(tu_contains(zb_error_message(kept), "recovery.enable"));
  zb_error_free(kept);
  kept = TU_EXPECT_ERROR(ZB_ERR_UNKNOWN_KEY, err, zb_config_set(cfg, "bogus.key", "1", &err));
  assert_true(tu_contains(zb_error_message(kept), "bogus.key"));
  zb_error_free(kept);

  /* Without an error object the code still comes back. */
  assert_int_equal(zb_config_set(cfg, "no.such.key", "1", NULL), ZB_ERR_UNKNOWN_KEY);
  assert_int_equal(zb_config_set(cfg, "recovery.retries", "x", NULL), ZB_ERR_INVALID_VALUE);
  assert_int_equal(zb_config_set(cfg, "recovery.retries", "3", NULL), ZB_OK);
  zb_config_destroy(cfg);
}

static void test_config_secret_reads_hidden(void **state) {
  (void)state;
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  tu_config_set(cfg, "auth.token", "s3cr3t-token");
  assert_int_equal(expect_config_reads(cfg, "auth.token", "[hidden]"), strlen("[hidden]") + 1);
  size_t size = 0;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "auth.token", NULL, &size, &err));
  assert_int_equal(size, strlen("[hidden]") + 1);

  /* A copy keeps the secret hidden too. */
  zb_config *copy = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_dup(cfg, &copy, &err));
  expect_config_reads(copy, "auth.token", "[hidden]");
  zb_config_destroy(copy);
  zb_config_destroy(cfg);
}

static void test_config_dup_and_destroy(void **state) {
  (void)state;
  static const char *const pairs[] = {"recovery.retries", "9", "stream.ack.timeout.ms", "1234",
                                      NULL};
  zb_config *cfg = tu_config(pairs);
  zb_config *copy = NULL;
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_dup(cfg, &copy, &err));
  assert_non_null(copy);
  assert_ptr_not_equal(copy, cfg);

  /* Independent after the copy. */
  tu_config_set(cfg, "recovery.retries", "1");
  expect_config_reads(copy, "recovery.retries", "9");
  expect_config_reads(copy, "stream.ack.timeout.ms", "1234");
  zb_config_destroy(cfg);
  expect_config_reads(copy, "recovery.retries", "9");
  zb_config_destroy(copy);
  zb_config_destroy(NULL);
}

static void test_config_describe_every_key(void **state) {
  (void)state;
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  size_t index = 0;
  const char *names[128];
  for (;; ++index) {
    zb_config_property property = ZB_CONFIG_PROPERTY_INIT;
    const zb_status rc = zb_config_describe(index, &property, &err);
    if (rc == ZB_ERR_INVALID_ARG) {
      TU_EXPECT(ZB_ERR_INVALID_ARG, err, rc);
      break;
    }
    TU_EXPECT(ZB_OK, err, rc);
    assert_true(index < 128);
    assert_int_equal(property.struct_size, sizeof property);
    assert_non_null(property.name);
    assert_non_null(property.type);
    assert_non_null(property.default_value);
    assert_non_null(property.range);
    assert_non_null(property.scope);
    assert_non_null(property.description);
    assert_true(strlen(property.name) > 0);
    assert_true(strlen(property.range) > 0);
    assert_true(strlen(property.description) > 0);
    assert_true(strcmp(property.type, "bool") == 0 || strcmp(property.type, "int") == 0 ||
                strcmp(property.type, "string") == 0);
    assert_true(strcmp(property.scope, "sdk") == 0 || strcmp(property.scope, "stream") == 0);
    for (size_t i = 0; i < index; ++i) assert_string_not_equal(names[i], property.name);
    names[index] = property.name;

    /* Every described key reads back with its default... */
    char buf[256];
    size_t size = sizeof buf;
    zb_error *get_err = NULL;
    TU_EXPECT(ZB_OK, get_err, zb_config_get(cfg, property.name, buf, &size, &get_err));
    assert_true(size <= sizeof buf);
    if (strcmp(buf, property.default_value) != 0) {
      print_error("%s reads \"%s\", described default \"%s\"\n", property.name, buf,
                  property.default_value);
      fail();
    }
    /* ...and accepts its default as a value. */
    zb_error *set_err = NULL;
    TU_EXPECT(ZB_OK, set_err, zb_config_set(cfg, property.name, property.default_value, &set_err));

    /* Stable: the same description the second time. */
    zb_config_property again = ZB_CONFIG_PROPERTY_INIT;
    TU_EXPECT(ZB_OK, err, zb_config_describe(index, &again, &err));
    assert_string_equal(again.name, property.name);
    assert_string_equal(again.default_value, property.default_value);
  }
  /* The keys the header and the tests rely on are among them. */
  assert_true(index >= 10);
  static const char *const expected[] = {"stream.max.inflight.records",
                                         "stream.max.inflight.bytes",
                                         "stream.max.request.bytes",
                                         "stream.ingest.timeout.ms",
                                         "stream.ack.timeout.ms",
                                         "recovery.enable",
                                         "recovery.timeout.ms",
                                         "recovery.backoff.ms",
                                         "recovery.retries",
                                         "auth.token"};
  for (size_t e = 0; e < sizeof expected / sizeof expected[0]; ++e) {
    bool found = false;
    for (size_t i = 0; i < index; ++i) found = found || strcmp(names[i], expected[e]) == 0;
    if (!found) print_error("%s is not described\n", expected[e]);
    assert_true(found);
  }
  /* Past the end, again and far. */
  zb_config_property past = ZB_CONFIG_PROPERTY_INIT;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(index + 1, &past, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(SIZE_MAX, &past, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(0, NULL, &err));

  /* An older caller's smaller struct: only the fields it has are written. */
  zb_config_property small = ZB_CONFIG_PROPERTY_INIT;
  small.struct_size = (uint32_t)offsetof(zb_config_property, type);
  small.type = "untouched";
  TU_EXPECT(ZB_OK, err, zb_config_describe(0, &small, &err));
  assert_non_null(small.name);
  assert_string_equal(small.name, names[0]);
  assert_string_equal(small.type, "untouched");
  /* Too small even for the name. */
  zb_config_property tiny = ZB_CONFIG_PROPERTY_INIT;
  tiny.struct_size = 4;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(0, &tiny, &err));
  zb_config_destroy(cfg);
}

static void test_sdk_endpoints(void **state) {
  (void)state;
  static const char *const malformed[] = {
      "",
      "http://",
      "https://",
      "host:",
      "host:0",
      "host:65536",
      "host:port",
      "host:-1",
      "http://host:443/path",
      "https://host/zerobus",
      "host?query=1",
      "user@host:443",
      "ho st:443",
      "[::1",
      "[::1]junk",
      "[]:443",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; ++i) {
    zb_sdk *sdk = NULL;
    zb_error *err = NULL;
    const zb_status rc = zb_sdk_new(malformed[i], NULL, &sdk, &err);
    if (rc != ZB_ERR_INVALID_TARGET) print_error("endpoint \"%s\"\n", malformed[i]);
    TU_EXPECT(ZB_ERR_INVALID_TARGET, err, rc);
    assert_null(sdk);
  }
  static const char *const valid[] = {"localhost", "localhost:443",
                                      "https://example.cloud.databricks.com", "[::1]:50051",
                                      "https://h:65535/"};
  zb_config *cfg = tu_config(NULL);
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; ++i) {
    zb_sdk *sdk = NULL;
    zb_error *err = TU_ERR_SENTINEL;
    const zb_status rc = zb_sdk_new(valid[i], i % 2 ? cfg : NULL, &sdk, &err);
    if (rc != ZB_OK) print_error("endpoint \"%s\"\n", valid[i]);
    TU_EXPECT(ZB_OK, err, rc);
    assert_non_null(sdk);
    zb_sdk_destroy(sdk);
  }
  zb_config_destroy(cfg);
  zb_sdk_destroy(NULL);

  /* Plaintext is spoken only when asked for: http:// needs transport.plaintext=true, which
   * https:// contradicts and a host alone follows. */
  static const char *const plaintext_pairs[] = {"transport.plaintext", "true", NULL};
  zb_config *plaintext = tu_config(plaintext_pairs);
  static const struct {
    const char *endpoint;
    bool plaintext;
    zb_status expected;
  } cases[] = {
      {"http://127.0.0.1:1", false, ZB_ERR_INVALID_TARGET},
      {"http://127.0.0.1:1", true, ZB_OK},
      {"127.0.0.1:1", true, ZB_OK},
      {"https://127.0.0.1:1", true, ZB_ERR_INVALID_TARGET},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    zb_sdk *sdk = NULL;
    zb_error *err = NULL;
    const zb_status rc =
        zb_sdk_new(cases[i].endpoint, cases[i].plaintext ? plaintext : NULL, &sdk, &err);
    if (rc != cases[i].expected) print_error("endpoint \"%s\"\n", cases[i].endpoint);
    if (rc == ZB_ERR_INVALID_TARGET) {
      assert_true(tu_contains(zb_error_message(err), "transport.plaintext"));
    }
    TU_EXPECT(cases[i].expected, err, rc);
    zb_sdk_destroy(sdk);
  }
  zb_config_destroy(plaintext);
}

static zb_status noop_headers(zb_headers *headers, void *user_data) {
  (void)headers;
  (void)user_data;
  return ZB_OK;
}

static void noop_event(zb_stream *stream, const zb_event *event, void *user_data) {
  (void)stream;
  (void)event;
  (void)user_data;
}

static void noop_wakeup(void *user_data) {
  (void)user_data;
}

static void test_null_arguments(void **state) {
  (void)state;
  zb_error *err = NULL;
  zb_config *cfg = tu_config(NULL);
  zb_config *out_cfg = NULL;
  char buf[16];
  size_t size = sizeof buf;

  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_new(NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_dup(NULL, &out_cfg, &err));
  assert_null(out_cfg);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_dup(cfg, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set(NULL, "recovery.retries", "1", &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set(cfg, NULL, "1", &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set(cfg, "recovery.retries", NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_get(NULL, "recovery.retries", buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_get(cfg, NULL, buf, &size, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_get(cfg, "recovery.retries", buf, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_describe(0, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_config_set_headers_provider(NULL, noop_headers, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_config_set_event_callback(NULL, noop_event, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_config_set_wakeup(NULL, noop_wakeup, NULL, NULL, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_headers_add(NULL, "x-name", "value", &err));

  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_sdk_new(NULL, NULL, &sdk, &err));
  assert_null(sdk);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_sdk_new("localhost:443", NULL, NULL, &err));

  /* Stream functions reject a NULL stream before anything else. */
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(1, "x", record);
  const void *records[1] = {record};
  const size_t lens[1] = {len};
  const char *json_records[1] = {"{}"};
  const size_t json_lens[1] = {2};
  uint64_t offset = 77;
  zb_stream *stream = NULL;
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new(NULL, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len, NULL,
                          &stream, &err));
  assert_null(stream);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_proto(NULL, record, len, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_ingest_json(NULL, "{}", 2, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_proto_batch(NULL, records, lens, 1, &offset, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_ingest_json_batch(NULL, json_records, json_lens, 1, &offset, &err));
  assert_int_equal(offset, 77);
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_wait_for_offset(NULL, 0, 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_flush(NULL, 0, &err));
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_close(NULL, 0, &err));
  zb_event events[1];
  size_t count = 5;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_poll(NULL, events, sizeof events[0], 1, 0, &count, &err));
  zb_records *unacked = NULL;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_stream_unacked(NULL, &unacked, &err));
  assert_null(unacked);

  /* Record lists. */
  const void *data = NULL;
  size_t data_len = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err, zb_records_get(NULL, 0, &data, &data_len, &offset, &err));
  assert_int_equal(zb_records_count(NULL), 0);

  /* Without an error object. */
  assert_int_equal(zb_config_new(NULL, NULL), ZB_ERR_INVALID_ARG);
  assert_int_equal(zb_stream_flush(NULL, 0, NULL), ZB_ERR_INVALID_ARG);

  /* Every destroy / free accepts NULL. */
  zb_config_destroy(NULL);
  zb_sdk_destroy(NULL);
  zb_stream_destroy(NULL);
  zb_records_free(NULL);
  zb_error_free(NULL);
  zb_config_destroy(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_status_names_and_descriptions),
      cmocka_unit_test(test_stream_state_names),
      cmocka_unit_test(test_error_objects),
      cmocka_unit_test(test_config_set_get_and_size_protocol),
      cmocka_unit_test(test_config_unknown_key_and_invalid_value),
      cmocka_unit_test(test_config_secret_reads_hidden),
      cmocka_unit_test(test_config_dup_and_destroy),
      cmocka_unit_test(test_config_describe_every_key),
      cmocka_unit_test(test_sdk_endpoints),
      cmocka_unit_test(test_null_arguments),
  };
  return cmocka_run_group_tests_name("basics", tests, NULL, NULL);
}
