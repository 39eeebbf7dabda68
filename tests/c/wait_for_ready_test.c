/* A stream waits for a server that refuses connections for a while, as gRPC's channel waits for
 * ready, on both engines (c.wait_for_ready_test on the library's own HTTP/2 client, the default;
 * c.grpc.wait_for_ready_test on gRPC C++): the first attempt after the connection is lost fails
 * at once with the refusal, and the next one keeps dialling until the server listens again,
 * instead of spending an attempt of recovery.retries on each refusal. An attempt whose server
 * never comes back ends after recovery.timeout.ms, with an error that names the refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

enum { kRefusingMs = 5000, kBefore = 5, kDuring = 5 };

/* errors.count of the stream's statistics: its failed connection attempts, and its connections
 * that ended in error. */
static long long stream_errors(zb_stream *stream) {
  char *json = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_stats_json(stream, &json, NULL, &err));
  const char *count = strstr(json, "\"errors\":{\"count\":");
  assert_non_null(count);
  const long long errors = atoll(count + strlen("\"errors\":{\"count\":"));
  zb_string_free(json);
  return errors;
}

/* Stops the server under a stream opened with `pairs` (the default recovery settings: 4 retries,
 * the first after 1 to 2 s, the next after 2 to 4), restarts it kRefusingMs later, and checks
 * that the stream got there with one refusal per call it had: `calls`. */
static void refuse_for_a_while(const char *const *pairs, int calls) {
  char data_dir[] = "/tmp/zb_wait_for_ready_test.XXXXXX";
  zbtest_server_options options;
  zbtest_server *server = tu_start_restartable_server(data_dir, &options);
  zb_sdk *sdk = tu_plaintext_sdk(zbtest_server_endpoint(server));
  zb_stream *stream = tu_open_proto_configured(sdk, TU_TABLE, pairs);
  tu_ingest_and_flush(stream, 0, kBefore, "before");
  assert_int_equal(stream_errors(stream), 0);

  zbtest_server_stop(server);
  const int64_t stopped_at = tu_now_ms();
  tu_ingest_events(stream, kBefore, kDuring, "during");
  /* The port refuses for this long: the stream is left alone to recover. Without the wait, the
   * attempt 1 to 2 s after the first refusal is refused too, and another after it. */
  tu_sleep_ms(kRefusingMs);
  server = zbtest_server_start(&options);
  assert_non_null(server);

  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  const int64_t flushed_after = tu_now_ms() - stopped_at;
  const zb_stream_info info = tu_stream_info(stream);
  const long long errors = stream_errors(stream);
  print_message("%s: flushed %lld ms after the stop; %lld errors; %llu recoveries\n", tu_engine(),
                (long long)flushed_after, errors, (unsigned long long)info.recoveries);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_acked, kBefore + kDuring);
  assert_int_equal(info.recoveries, calls);
  /* For each call, the lost connection and the one attempt refused at once; the next waited. */
  assert_true(errors <= 2 * calls);
  /* Reached soon after the server listens again: redials start about 1 s apart (gRPC's
   * connection backoff), so the second comes within about 1.2 s of the first. */
  assert_true(flushed_after < kRefusingMs + 4000);
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);

  /* Each record stored once (lanes store theirs in their own order). */
  assert_int_equal(zbtest_server_record_count(server, TU_TABLE), kBefore + kDuring);
  bool stored[kBefore + kDuring] = {false};
  for (int64_t i = 0; i < kBefore + kDuring; ++i) {
    const uint8_t *data;
    size_t len;
    const int64_t id = tu_stored_event_id(server, TU_TABLE, i, &data, &len);
    assert_in_range(id, 0, kBefore + kDuring - 1);
    assert_false(stored[id]);
    stored[id] = true;
  }
  zbtest_server_stop(server);
  tu_remove_directory(data_dir);
}

/* Calls that share the SDK's connection (the default): the wait dials it again for them. */
static void test_a_server_that_refuses_for_a_while_is_waited_for(void **state) {
  (void)state;
  refuse_for_a_while(NULL, 1);
}

/* Two lanes, each with a connection of its own, wait at once. */
static void test_lanes_with_their_own_connections_wait_too(void **state) {
  (void)state;
  const char *const own[] = {"stream.own.connection", "true", "stream.lanes", "2", NULL};
  refuse_for_a_while(own, 2);
}

enum { kAttemptTimeoutMs = 3000 };

static void test_a_server_that_never_listens_ends_the_wait_at_the_deadline(void **state) {
  (void)state;
  /* A port that refuses: a server's, once it stopped. */
  zbtest_server *server = zbtest_server_start(NULL);
  assert_non_null(server);
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "%s", zbtest_server_endpoint(server));
  zbtest_server_stop(server);
  zb_sdk *sdk = tu_plaintext_sdk(endpoint);
  /* The first attempt is refused at once; the second waits for its recovery.timeout.ms. */
  const char *const budget[] = {
      "recovery.retries", "1", "recovery.timeout.ms", "3000", "recovery.backoff.ms", "100", NULL};
  zb_config *cfg = tu_config(budget);
  const int64_t started = tu_now_ms();
  zb_error *err = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, sdk, TU_TABLE, ZB_RECORD_PROTO, cfg);
  const int64_t elapsed = tu_now_ms() - started;
  const char *message = zb_error_message(err);
  print_message("%s: failed after %lld ms: %s\n", tu_engine(), (long long)elapsed, message);
  assert_int_equal(zb_error_grpc_status(err), 14 /* UNAVAILABLE */);
  assert_non_null(strstr(message, "within 3000 ms (recovery.timeout.ms)"));
  assert_non_null(strstr(message, "Connection refused"));
  assert_true(elapsed >= kAttemptTimeoutMs);
  assert_true(elapsed < kAttemptTimeoutMs + 3000);
  zb_error_free(err);
  zb_config_destroy(cfg);
  zb_sdk_destroy(sdk);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_server_that_refuses_for_a_while_is_waited_for),
      cmocka_unit_test(test_lanes_with_their_own_connections_wait_too),
      cmocka_unit_test(test_a_server_that_never_listens_ends_the_wait_at_the_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
