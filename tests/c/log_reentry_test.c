/* A log callback or a headers provider that closes or destroys its own stream is refused, as
 * zerobus.h says (zb_stream_close() returns ZB_ERR_STATE, zb_stream_destroy() does nothing and
 * the stream stays valid): on the SDK's supervision thread, where destroying it would free the
 * stream under the reconnection that runs the callback, and on the caller's thread inside
 * zb_stream_close(). */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

/* The callback's one attempt at closing and destroying `stream`, on the first message that
 * contains `trigger`. */
typedef struct reentry {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  const char *trigger;
  zb_stream *stream; /* set once the stream is open */
  pthread_t test_thread;
  bool done;
  bool on_test_thread;
  zb_status close_status;
  char close_message[256];
  zb_status info_status; /* of zb_stream_get_info() right after the refused destroy */
} reentry;

static void reentry_init(reentry *r, const char *trigger) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  r->trigger = trigger;
  r->test_thread = pthread_self();
}

static void reentry_fini(reentry *r) {
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
}

/* The callback's attempt: close and destroy `stream`, then see that it is still valid. */
static void try_close_and_destroy(reentry *r, zb_stream *stream) {
  zb_error *err = NULL;
  const zb_status closed = zb_stream_close(stream, 1000, &err);
  zb_stream_destroy(stream);
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  const zb_status info_status = zb_stream_get_info(stream, &info, NULL);
  pthread_mutex_lock(&r->mu);
  r->done = true;
  r->on_test_thread = pthread_equal(pthread_self(), r->test_thread);
  r->close_status = closed;
  snprintf(r->close_message, sizeof r->close_message, "%s", zb_error_message(err));
  r->info_status = info_status;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  zb_error_free(err);
}

static void reentering_log(zb_log_level level, const char *component, const char *message,
                           void *user_data) {
  (void)level;
  (void)component;
  reentry *r = user_data;
  pthread_mutex_lock(&r->mu);
  zb_stream *stream = r->done ? NULL : r->stream;
  pthread_mutex_unlock(&r->mu);
  if (!stream || !tu_contains(message, r->trigger)) return;
  try_close_and_destroy(r, stream);
}

/* The same attempt, from the headers provider of every reconnection (calls after the first). */
static zb_status reentering_headers(zb_headers *headers, void *user_data) {
  (void)headers;
  reentry *r = user_data;
  pthread_mutex_lock(&r->mu);
  zb_stream *stream = r->done ? NULL : r->stream;
  pthread_mutex_unlock(&r->mu);
  if (!stream) return ZB_OK;
  try_close_and_destroy(r, stream);
  return ZB_OK;
}

static zb_sdk *reentering_sdk(tu_env *env, reentry *r) {
  zb_config *cfg =
      tu_config((const char *const[]){"transport.plaintext", "true", "log.level", "info", NULL});
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_set_log_callback(cfg, reentering_log, r, NULL, &err));
  zb_sdk *sdk = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(env->server), cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
}

static zb_stream *open_watched(zb_sdk *sdk, reentry *r) {
  zb_stream *stream = tu_open_proto_configured(
      sdk, TU_TABLE, (const char *const[]){"recovery.backoff.ms", "1", NULL});
  pthread_mutex_lock(&r->mu);
  r->stream = stream;
  pthread_mutex_unlock(&r->mu);
  return stream;
}

static void expect_refused(reentry *r, bool on_test_thread) {
  pthread_mutex_lock(&r->mu);
  TU_WAIT_UNTIL(&r->cv, &r->mu, r->done, 30000);
  assert_true(r->done);
  assert_int_equal(r->on_test_thread, on_test_thread);
  assert_int_equal(r->close_status, ZB_ERR_STATE);
  assert_true(tu_contains(r->close_message, "a log callback or a headers provider"));
  assert_int_equal(r->info_status, ZB_OK);
  pthread_mutex_unlock(&r->mu);
}

/* Has the server end the stream with UNAVAILABLE after its first 10 records. */
static void break_after_ten_records(tu_env *env) {
  assert_true(
      zbtest_server_set_fault_plan(env->server, TU_TABLE,
                                   "{\"fail_after_records\": 10, \"fail_status\": \"UNAVAILABLE\", "
                                   "\"fail_message\": \"broken by the test\"}"));
}

/* Ingests 10 records, which the server answers by ending the stream, then 10 more: a callback
 * of the reconnection tried to close and destroy the stream, and was refused; the stream lived
 * on through it, recovered once and closes with all 20 records stored. Frees the stream, `sdk`
 * and `r`. */
static void ingest_through_the_break(tu_env *env, reentry *r, zb_sdk *sdk, zb_stream *stream) {
  tu_ingest_and_flush(stream, 0, 10, "before");
  tu_ingest_and_flush(stream, 10, 10, "after");
  expect_refused(r, false);
  assert_int_equal(tu_stream_info(stream).recoveries, 1);
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 20);
  reentry_fini(r);
}

static void test_refused_on_a_supervision_thread(void **state) {
  tu_env *env = ENV(state);
  reentry r;
  reentry_init(&r, "broken by the test");
  break_after_ten_records(env);
  zb_sdk *sdk = reentering_sdk(env, &r);
  zb_stream *stream = open_watched(sdk, &r);
  /* The break is logged on a supervision thread, whose callback tries to close and destroy. */
  ingest_through_the_break(env, &r, sdk, stream);
}

static void test_refused_in_a_headers_provider(void **state) {
  tu_env *env = ENV(state);
  reentry r;
  reentry_init(&r, NULL);
  break_after_ten_records(env);
  zb_sdk *sdk = tu_plaintext_sdk(zbtest_server_endpoint(env->server));
  zb_config *cfg = tu_config((const char *const[]){"recovery.backoff.ms", "1", NULL});
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_set_headers_provider(cfg, reentering_headers, &r, NULL, &err));
  const uint8_t *descriptor = NULL;
  size_t descriptor_len = 0;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  /* The first attempt's provider finds no stream yet; the reconnection's tries to close it. */
  TU_EXPECT(ZB_OK, err,
            zb_stream_new(sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len, cfg, &stream,
                          &err));
  zb_config_destroy(cfg);
  pthread_mutex_lock(&r.mu);
  r.stream = stream;
  pthread_mutex_unlock(&r.mu);
  ingest_through_the_break(env, &r, sdk, stream);
}

static void test_refused_inside_close(void **state) {
  tu_env *env = ENV(state);
  reentry r;
  reentry_init(&r, "stream closed");
  zb_sdk *sdk = reentering_sdk(env, &r);
  zb_stream *stream = open_watched(sdk, &r);
  tu_ingest_and_flush(stream, 0, 3, "closing");
  /* zb_stream_close() logs on its caller's thread; its callback's close and destroy are
   * refused, and this close still succeeds. */
  tu_close_and_destroy(stream);
  expect_refused(&r, true);
  zb_sdk_destroy(sdk);
  reentry_fini(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_refused_on_a_supervision_thread),
      TU_TEST(test_refused_in_a_headers_provider),
      TU_TEST(test_refused_inside_close),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
