/* How the library names itself to the server (user-agent: libzerobus/<version>, then
 * sdk.application.name, then the HTTP/2 stack's own name), as the local server saw it; and the
 * warning that 100 streams of one table within a minute are most likely a stream per record, logged
 * once per table and silenced by sdk.warnings.enable=false or
 * ZEROBUS_SDK_WARNINGS_ENABLED=false. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

/* The one user-agent the server saw on `table`, asserting that there was exactly one and that
 * `streams` streams carried it. */
static const char *only_user_agent(zbtest_server *server, const char *table, int64_t streams) {
  const char *agent = NULL;
  int64_t count = 0;
  assert_true(zbtest_server_user_agent(server, table, 0, &agent, &count));
  assert_int_equal(count, streams);
  const char *other = NULL;
  assert_false(zbtest_server_user_agent(server, table, 1, &other, &count));
  return agent;
}

/* Asserts that `agent` is `expected` followed by the HTTP/2 stack's own name: gRPC C++'s, or
 * nghttp2's under the library's own client (transport.engine=http2). */
static void assert_user_agent(const char *agent, const char *expected) {
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s %s", expected,
           strcmp(tu_engine(), "http2") == 0 ? "nghttp2/" : "grpc-c++/");
  if (strncmp(agent, prefix, strlen(prefix)) != 0) {
    fail_msg("user-agent '%s' does not begin with '%s'", agent, prefix);
  }
}

static zb_sdk *sdk_with(tu_env *env, const char *const *pairs) {
  zb_config *cfg = tu_config(pairs);
  tu_config_set(cfg, "transport.plaintext", "true");
  tu_config_set(cfg, "transport.engine", tu_engine());
  zb_error *err = TU_ERR_SENTINEL;
  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(env->server), cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
}

static void test_the_server_sees_the_library_then_the_application(void **state) {
  tu_env *env = ENV(state);
  char expected[128];
  /* tu_setup()'s SDK names no application. */
  tu_close_and_destroy(tu_open_proto(env->sdk, TU_TABLE, NULL));
  snprintf(expected, sizeof expected, "libzerobus/%s", zb_version_str());
  assert_user_agent(only_user_agent(env->server, TU_TABLE, 1), expected);

  zb_sdk *named = sdk_with(env, (const char *const[]){"sdk.application.name", "c-test/1.0", NULL});
  tu_close_and_destroy(tu_open_proto(named, TU_JSON_TABLE, NULL));
  tu_close_and_destroy(tu_open_proto(named, TU_JSON_TABLE, NULL));
  zb_sdk_destroy(named);
  snprintf(expected, sizeof expected, "libzerobus/%s c-test/1.0", zb_version_str());
  assert_user_agent(only_user_agent(env->server, TU_JSON_TABLE, 2), expected);
}

static void test_an_application_name_that_is_no_header_value_is_refused(void **state) {
  (void)state;
  zb_config *cfg = tu_config((const char *const[]){NULL});
  const char *const bad[] = {"two\nlines", " leading-space", "trailing-space ", "caf\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    zb_error *err = TU_ERR_SENTINEL;
    zb_error *refused = TU_EXPECT_ERROR(ZB_ERR_INVALID_VALUE, err,
                                        zb_config_set(cfg, "sdk.application.name", bad[i], &err));
    assert_true(tu_contains(zb_error_message(refused), "sdk.application.name"));
    zb_error_free(refused);
  }
  char value[16];
  size_t size = sizeof value;
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "sdk.application.name", value, &size, &err));
  assert_string_equal(value, "");
  zb_config_destroy(cfg);
}

/* Counts the warnings about a stream per record. */
typedef struct warning_count {
  pthread_mutex_t mu;
  int warnings;
  char last[1024];
} warning_count;

static void count_warning(zb_log_level level, const char *component, const char *message,
                          void *user_data) {
  warning_count *count = user_data;
  if (level != ZB_LOG_WARN || strcmp(component, "sdk") != 0 ||
      !tu_contains(message, "stream per record")) {
    return;
  }
  pthread_mutex_lock(&count->mu);
  count->warnings++;
  snprintf(count->last, sizeof count->last, "%s", message);
  pthread_mutex_unlock(&count->mu);
}

static int warnings(warning_count *count) {
  pthread_mutex_lock(&count->mu);
  const int seen = count->warnings;
  pthread_mutex_unlock(&count->mu);
  return seen;
}

/* An SDK logging into `count`, with `pairs` set too. */
static zb_sdk *counting_sdk(tu_env *env, warning_count *count, const char *const *pairs) {
  zb_config *cfg = tu_config(pairs);
  tu_config_set(cfg, "transport.plaintext", "true");
  tu_config_set(cfg, "transport.engine", tu_engine());
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_set_log_callback(cfg, count_warning, count, NULL, &err));
  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(env->server), cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
}

/* Opens and closes `count` streams of `table` one after the other, as a stream per record does;
 * the warning is logged (or not) by the time each open returns. */
static void open_one_after_another(zb_sdk *sdk, const char *table, int count) {
  for (int i = 0; i < count; ++i) tu_close_and_destroy(tu_open_proto(sdk, table, NULL));
}

static void test_a_stream_per_record_is_warned_about_once(void **state) {
  tu_env *env = ENV(state);
  warning_count count = {.mu = PTHREAD_MUTEX_INITIALIZER};
  zb_sdk *sdk = counting_sdk(env, &count, (const char *const[]){NULL});
  open_one_after_another(sdk, TU_TABLE, 99);
  assert_int_equal(warnings(&count), 0);
  open_one_after_another(sdk, TU_TABLE, 1);
  assert_int_equal(warnings(&count), 1);
  assert_true(tu_contains(count.last, TU_TABLE));
  assert_true(tu_contains(count.last, "ZEROBUS_SDK_WARNINGS_ENABLED=false"));
  /* Not again for the same table, nor for a few streams of another. */
  open_one_after_another(sdk, TU_TABLE, 50);
  open_one_after_another(sdk, TU_JSON_TABLE, 10);
  assert_int_equal(warnings(&count), 1);
  zb_sdk_destroy(sdk);
  pthread_mutex_destroy(&count.mu);
}

static void test_the_option_silences_the_warning(void **state) {
  tu_env *env = ENV(state);
  warning_count count = {.mu = PTHREAD_MUTEX_INITIALIZER};
  zb_sdk *sdk =
      counting_sdk(env, &count, (const char *const[]){"sdk.warnings.enable", "false", NULL});
  open_one_after_another(sdk, TU_TABLE, 120);
  assert_int_equal(warnings(&count), 0);
  zb_sdk_destroy(sdk);
  pthread_mutex_destroy(&count.mu);
}

static void test_the_environment_silences_the_warning(void **state) {
  tu_env *env = ENV(state);
  warning_count count = {.mu = PTHREAD_MUTEX_INITIALIZER};
  /* Read by zb_sdk_new(); no other thread of this process reads the environment meanwhile. */
  assert_int_equal(setenv("ZEROBUS_SDK_WARNINGS_ENABLED", "false", 1), 0);
  zb_sdk *sdk = counting_sdk(env, &count, (const char *const[]){NULL});
  assert_int_equal(unsetenv("ZEROBUS_SDK_WARNINGS_ENABLED"), 0);
  open_one_after_another(sdk, TU_TABLE, 120);
  assert_int_equal(warnings(&count), 0);
  zb_sdk_destroy(sdk);
  pthread_mutex_destroy(&count.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_the_server_sees_the_library_then_the_application),
      TU_TEST(test_an_application_name_that_is_no_header_value_is_refused),
      TU_TEST(test_a_stream_per_record_is_warned_about_once),
      TU_TEST(test_the_option_silences_the_warning),
      TU_TEST(test_the_environment_silences_the_warning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
