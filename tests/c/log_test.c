/* Logging through the callback: what a production user sees of a stream's life (opened, a
 * broken connection, the recovery, the close, a close signal), filtered by log.level, never a
 * secret, never after the last destroy, and nothing at all without a callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

#define LOG_MAX 512
#define LOG_MESSAGE_CAP 512

typedef struct log_entry {
  zb_log_level level;
  char component[32];
  char message[LOG_MESSAGE_CAP];
} log_entry;

/* Every message the callback received, checked as it arrives. */
typedef struct log_capture {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  log_entry entries[LOG_MAX];
  int count;     /* messages received, kept or not */
  int malformed; /* unknown level, NULL or empty component or message, a trailing newline */
  int after_end; /* messages after `ended` was set */
  bool ended;    /* set by the test once the last destroy returned */
  int freed;     /* free_user_data calls */
} log_capture;

static void capture_init(log_capture *capture) {
  memset(capture, 0, sizeof *capture);
  pthread_mutex_init(&capture->mu, NULL);
  pthread_cond_init(&capture->cv, NULL);
}

static void capture_fini(log_capture *capture) {
  pthread_cond_destroy(&capture->cv);
  pthread_mutex_destroy(&capture->mu);
}

static void capture_log(zb_log_level level, const char *component, const char *message,
                        void *user_data) {
  log_capture *capture = user_data;
  pthread_mutex_lock(&capture->mu);
  const size_t len = message ? strlen(message) : 0;
  if (!zb_log_level_name(level) || !component || !component[0] || len == 0 ||
      message[len - 1] == '\n') {
    capture->malformed++;
  }
  if (capture->ended) capture->after_end++;
  if (capture->count < LOG_MAX && component && message) {
    log_entry *entry = &capture->entries[capture->count];
    entry->level = level;
    snprintf(entry->component, sizeof entry->component, "%s", component);
    snprintf(entry->message, sizeof entry->message, "%s", message);
  }
  capture->count++;
  pthread_cond_broadcast(&capture->cv);
  pthread_mutex_unlock(&capture->mu);
}

static void capture_free(void *user_data) {
  log_capture *capture = user_data;
  pthread_mutex_lock(&capture->mu);
  capture->freed++;
  pthread_mutex_unlock(&capture->mu);
}

/* The first message of `component` at `level` containing `text`, or NULL. With the lock held. */
static const log_entry *find_locked(const log_capture *capture, zb_log_level level,
                                    const char *component, const char *text) {
  const int kept = capture->count < LOG_MAX ? capture->count : LOG_MAX;
  for (int i = 0; i < kept; ++i) {
    const log_entry *entry = &capture->entries[i];
    if (entry->level == level && strcmp(entry->component, component) == 0 &&
        tu_contains(entry->message, text)) {
      return entry;
    }
  }
  return NULL;
}

/* Prints every message kept, for a failing test's output. */
static void dump(log_capture *capture) {
  pthread_mutex_lock(&capture->mu);
  const int kept = capture->count < LOG_MAX ? capture->count : LOG_MAX;
  for (int i = 0; i < kept; ++i) {
    fprintf(stderr, "  [%s] %s: %s\n", zb_log_level_name(capture->entries[i].level),
            capture->entries[i].component, capture->entries[i].message);
  }
  pthread_mutex_unlock(&capture->mu);
}

/* Waits (bounded) for a message as find_locked() matches it; fails the test when none comes. */
static void wait_for_message(log_capture *capture, zb_log_level level, const char *component,
                             const char *text) {
  pthread_mutex_lock(&capture->mu);
  TU_WAIT_UNTIL(&capture->cv, &capture->mu, find_locked(capture, level, component, text), 30000);
  const bool found = find_locked(capture, level, component, text) != NULL;
  pthread_mutex_unlock(&capture->mu);
  if (!found) dump(capture);
  if (!found)
    fail_msg("no %s message from '%s' containing '%s'", zb_log_level_name(level), component, text);
}

static bool has_message(log_capture *capture, zb_log_level level, const char *component,
                        const char *text) {
  pthread_mutex_lock(&capture->mu);
  const bool found = find_locked(capture, level, component, text) != NULL;
  pthread_mutex_unlock(&capture->mu);
  return found;
}

/* An SDK for the test's server logging into `capture` at `level` (NULL: the default). */
static zb_sdk *logging_sdk(tu_env *env, log_capture *capture, const char *level) {
  zb_config *cfg = tu_config((const char *const[]){"transport.plaintext", "true", NULL});
  if (level) tu_config_set(cfg, "log.level", level);
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_set_log_callback(cfg, capture_log, capture, capture_free, &err));
  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(env->server), cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
}

/* Opens a stream, has the server break its call after 10 records, ingests 20 and flushes
 * them (through the recovery), then closes and destroys the stream. */
static void stream_through_a_break(tu_env *env, zb_sdk *sdk, const char *const *extra_pairs) {
  assert_true(
      zbtest_server_set_fault_plan(env->server, TU_TABLE,
                                   "{\"fail_after_records\": 10, \"fail_status\": \"UNAVAILABLE\", "
                                   "\"fail_message\": \"broken by the test\"}"));
  zb_config *cfg = tu_config((const char *const[]){"recovery.backoff.ms", "1", NULL});
  for (const char *const *pair = extra_pairs; pair && *pair; pair += 2) {
    tu_config_set(cfg, pair[0], pair[1]);
  }
  zb_stream *stream = tu_open_proto(sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  tu_ingest_and_flush(stream, 0, 10, "before");
  tu_ingest_and_flush(stream, 10, 10, "after");
  assert_int_equal(tu_stream_info(stream).recoveries, 1);
  tu_close_and_destroy(stream);
}

static void test_a_streams_life_is_logged(void **state) {
  tu_env *env = ENV(state);
  log_capture capture;
  capture_init(&capture);
  zb_sdk *sdk = logging_sdk(env, &capture, NULL);
  stream_through_a_break(env, sdk, NULL);
  zb_sdk_destroy(sdk);

  wait_for_message(&capture, ZB_LOG_INFO, "sdk", "in plaintext");
  wait_for_message(&capture, ZB_LOG_INFO, "stream", TU_TABLE ": stream of protobuf records opened");
  /* The broken call, with its gRPC status and the server's message. */
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "gRPC status 14");
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "broken by the test");
  wait_for_message(&capture, ZB_LOG_INFO, "recovery", "recovered on a new connection");
  wait_for_message(&capture, ZB_LOG_INFO, "stream", "stream closed with all of its 20 records");
  pthread_mutex_lock(&capture.mu);
  const int malformed = capture.malformed;
  bool prefixed = true, debug = false;
  for (int i = 0; i < capture.count && i < LOG_MAX; ++i) {
    const log_entry *entry = &capture.entries[i];
    if (strcmp(entry->component, "sdk") != 0 &&
        strncmp(entry->message, TU_TABLE ": ", strlen(TU_TABLE ": ")) != 0) {
      prefixed = false;
    }
    if (entry->level == ZB_LOG_DEBUG) debug = true;
  }
  pthread_mutex_unlock(&capture.mu);
  if (malformed || !prefixed || debug) dump(&capture);
  assert_int_equal(malformed, 0);
  /* Every stream's message names its table; the default level, info, holds debug back. */
  assert_true(prefixed);
  assert_false(debug);
  assert_int_equal(capture.freed, 1);
  capture_fini(&capture);
}

static void test_the_level_filters_messages(void **state) {
  tu_env *env = ENV(state);
  log_capture capture;
  capture_init(&capture);
  zb_sdk *sdk = logging_sdk(env, &capture, "warn");
  stream_through_a_break(env, sdk, NULL);
  zb_sdk_destroy(sdk);
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "gRPC status 14");
  pthread_mutex_lock(&capture.mu);
  for (int i = 0; i < capture.count && i < LOG_MAX; ++i) {
    assert_in_range(capture.entries[i].level, ZB_LOG_ERROR, ZB_LOG_WARN);
  }
  pthread_mutex_unlock(&capture.mu);
  assert_false(has_message(&capture, ZB_LOG_INFO, "stream", "opened"));
  capture_fini(&capture);

  /* Debug adds each connection attempt. */
  capture_init(&capture);
  sdk = logging_sdk(env, &capture, "debug");
  stream_through_a_break(env, sdk, NULL);
  zb_sdk_destroy(sdk);
  wait_for_message(&capture, ZB_LOG_DEBUG, "connection", "connecting to 127.0.0.1:");
  wait_for_message(&capture, ZB_LOG_INFO, "stream", "opened");
  capture_fini(&capture);
}

static void test_a_close_signal_is_logged(void **state) {
  tu_env *env = ENV(state);
  log_capture capture;
  capture_init(&capture);
  zb_sdk *sdk = logging_sdk(env, &capture, NULL);
  assert_true(zbtest_server_set_fault_plan(
      env->server, TU_TABLE, "{\"close_after_records\": 5, \"close_signal_ms\": 200}"));
  zb_stream *stream = tu_open_proto_configured(
      sdk, TU_TABLE, (const char *const[]){"recovery.backoff.ms", "1", NULL});
  tu_ingest_and_flush(stream, 0, 5, "before");
  wait_for_message(&capture, ZB_LOG_INFO, "recovery", "(close signal)");
  wait_for_message(&capture, ZB_LOG_INFO, "recovery", "recovered on a new connection");
  /* The planned end of the call is no warning. */
  assert_true(has_message(&capture, ZB_LOG_INFO, "connection", "after the server's close signal"));
  assert_false(has_message(&capture, ZB_LOG_WARN, "connection", ""));
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);
  capture_fini(&capture);
}

static void test_a_failure_is_logged_as_an_error(void **state) {
  tu_env *env = ENV(state);
  log_capture capture;
  capture_init(&capture);
  zb_sdk *sdk = logging_sdk(env, &capture, NULL);
  zb_stream *stream = tu_open_proto(sdk, TU_TABLE, NULL);
  zbtest_server_fail_after(env->server, 0, TU_GRPC_PERMISSION_DENIED, "no writes for you");
  /* One batch: ingested one by one, the later records could meet the stream already failed. */
  tu_batch refused;
  tu_batch_fill(&refused, 3, 0, "refused");
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, refused.pointers, refused.lens, refused.count,
                                         NULL, &err));
  wait_for_message(&capture, ZB_LOG_ERROR, "stream", "the stream failed");
  wait_for_message(&capture, ZB_LOG_ERROR, "stream", "3 records not acknowledged (offsets 0..2)");
  assert_true(has_message(&capture, ZB_LOG_ERROR, "stream", "no writes for you"));
  zb_stream_destroy(stream);
  wait_for_message(&capture, ZB_LOG_WARN, "stream", "destroyed without zb_stream_close()");

  /* A stream the server refuses: every attempt, then the failure to open. */
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "not now", -1);
  zb_config *cfg =
      tu_config((const char *const[]){"recovery.retries", "1", "recovery.backoff.ms", "1", NULL});
  err = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  zb_error_free(err);
  zb_config_destroy(cfg);
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "connection attempt 1 of 2 failed");
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "next attempt in");
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "connection attempt 2 of 2 failed");
  wait_for_message(&capture, ZB_LOG_ERROR, "stream", "opening the stream failed");
  zb_sdk_destroy(sdk);
  capture_fini(&capture);
}

static void test_no_message_after_the_last_destroy(void **state) {
  tu_env *env = ENV(state);
  log_capture capture;
  capture_init(&capture);
  zb_sdk *sdk = logging_sdk(env, &capture, "debug");
  /* A stream destroyed in the middle of its recovery: the server refuses every reconnection,
   * and the stream retries every few milliseconds, logging each attempt. */
  zb_stream *stream = tu_open_proto_configured(
      sdk, TU_TABLE,
      (const char *const[]){"recovery.backoff.ms", "5", "recovery.backoff.max.ms", "5",
                            "recovery.retries", "100000", NULL});
  tu_ingest_and_flush(stream, 0, 3, "kept");
  zbtest_server_refuse_streams(env->server, TU_GRPC_UNAVAILABLE, "down", -1);
  zbtest_server_fail_after(env->server, 0, TU_GRPC_UNAVAILABLE, "broken");
  tu_ingest_events(stream, 3, 1, "pending");
  wait_for_message(&capture, ZB_LOG_WARN, "connection", "connection attempt 2 of 100001 failed");
  /* The SDK's handle goes first: the stream still holds the callback. */
  zb_sdk_destroy(sdk);
  zb_stream_destroy(stream);
  pthread_mutex_lock(&capture.mu);
  capture.ended = true;
  const int freed = capture.freed;
  pthread_mutex_unlock(&capture.mu);
  assert_int_equal(freed, 1);
  /* Would a retry still be scheduled, it would have logged within this time. */
  tu_sleep_ms(100);
  pthread_mutex_lock(&capture.mu);
  assert_int_equal(capture.after_end, 0);
  assert_int_equal(capture.freed, 1);
  pthread_mutex_unlock(&capture.mu);
  capture_fini(&capture);
}

static void test_secrets_are_never_logged(void **state) {
  tu_env *env = ENV(state);
  static const char kToken[] = "tok-very-secret-4711";
  log_capture capture;
  capture_init(&capture);
  zb_sdk *sdk = logging_sdk(env, &capture, "debug");
  /* The local server takes any token: the stream opens, breaks and recovers with it. */
  stream_through_a_break(env, sdk, (const char *const[]){"auth.token", kToken, NULL});
  zb_sdk_destroy(sdk);
  pthread_mutex_lock(&capture.mu);
  const int count = capture.count;
  int leaks = 0;
  for (int i = 0; i < count && i < LOG_MAX; ++i) {
    if (tu_contains(capture.entries[i].message, "very-secret")) leaks++;
  }
  pthread_mutex_unlock(&capture.mu);
  assert_true(count > 3);
  assert_int_equal(leaks, 0);
  capture_fini(&capture);
}

/* Runs `body` with stdout and stderr going to a temporary file, and returns how many bytes were
 * written to them meanwhile. */
static long bytes_printed_by(void (*body)(tu_env *), tu_env *env) {
  char path[] = "/tmp/zb_log_test_XXXXXX";
  const int file = mkstemp(path);
  assert_true(file >= 0);
  unlink(path);
  fflush(stdout);
  fflush(stderr);
  const int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
  assert_true(saved_out >= 0 && saved_err >= 0);
  assert_true(dup2(file, STDOUT_FILENO) >= 0 && dup2(file, STDERR_FILENO) >= 0);
  body(env);
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  close(saved_out);
  close(saved_err);
  const long printed = (long)lseek(file, 0, SEEK_END);
  close(file);
  return printed;
}

static void silent_stream_through_a_break(tu_env *env) {
  zb_sdk *sdk = tu_plaintext_sdk(zbtest_server_endpoint(env->server));
  stream_through_a_break(env, sdk, NULL);
  zb_sdk_destroy(sdk);
}

static void test_without_a_callback_nothing_is_printed(void **state) {
  assert_int_equal(bytes_printed_by(silent_stream_through_a_break, ENV(state)), 0);
}

static void free_counter(void *user_data) {
  ++*(int *)user_data;
}

static void test_bad_arguments(void **state) {
  (void)state;
  zb_error *err = TU_ERR_SENTINEL;
  int freed = 0;
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_config_set_log_callback(NULL, capture_log, NULL, NULL, &err));
  zb_config *cfg = tu_config(NULL);
  /* Removing the callback releases a user_data given with it at once. */
  TU_EXPECT(ZB_OK, err, zb_config_set_log_callback(cfg, NULL, &freed, free_counter, &err));
  assert_int_equal(freed, 1);
  TU_EXPECT(ZB_OK, err, zb_config_set_log_callback(cfg, capture_log, &freed, free_counter, &err));
  TU_EXPECT(ZB_OK, err, zb_config_set_log_callback(cfg, capture_log, &freed, free_counter, &err));
  assert_int_equal(freed, 2); /* the replaced registration */
  zb_config_destroy(cfg);
  assert_int_equal(freed, 3);

  cfg = tu_config(NULL);
  char value[16];
  size_t size = sizeof value;
  TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "log.level", value, &size, &err));
  assert_string_equal(value, "info");
  const char *const bad_levels[] = {"verbose", "", "WARN", "3", "info "};
  for (size_t i = 0; i < sizeof bad_levels / sizeof bad_levels[0]; ++i) {
    zb_error *bad = TU_EXPECT_ERROR(ZB_ERR_INVALID_VALUE, err,
                                    zb_config_set(cfg, "log.level", bad_levels[i], &err));
    assert_true(tu_contains(zb_error_message(bad), "error, warn, info, debug"));
    zb_error_free(bad);
  }
  for (zb_log_level level = ZB_LOG_ERROR; level <= ZB_LOG_DEBUG; ++level) {
    TU_EXPECT(ZB_OK, err, zb_config_set(cfg, "log.level", zb_log_level_name(level), &err));
    size = sizeof value;
    TU_EXPECT(ZB_OK, err, zb_config_get(cfg, "log.level", value, &size, &err));
    assert_string_equal(value, zb_log_level_name(level));
  }
  zb_config_destroy(cfg);

  assert_string_equal(zb_log_level_name(ZB_LOG_ERROR), "error");
  assert_string_equal(zb_log_level_name(ZB_LOG_WARN), "warn");
  assert_string_equal(zb_log_level_name(ZB_LOG_INFO), "info");
  assert_string_equal(zb_log_level_name(ZB_LOG_DEBUG), "debug");
  assert_null(zb_log_level_name(0));
  assert_null(zb_log_level_name(ZB_LOG_DEBUG + 1));
  assert_null(zb_log_level_name(-1));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_a_streams_life_is_logged),
      TU_TEST(test_the_level_filters_messages),
      TU_TEST(test_a_close_signal_is_logged),
      TU_TEST(test_a_failure_is_logged_as_an_error),
      TU_TEST(test_no_message_after_the_last_destroy),
      TU_TEST(test_secrets_are_never_logged),
      TU_TEST(test_without_a_callback_nothing_is_printed),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
