/* A server restarted after 20 s of downtime: the stream recovers on its own and every record is
 * stored, each exactly once, with the default recovery settings, on both engines (c.downtime_test
 * on the library's own HTTP/2 client, the default; c.grpc.downtime_test on gRPC C++). Each
 * recovery attempt after a refused one must really try to connect for its recovery.timeout.ms,
 * as gRPC's channel waits for ready: an attempt that failed at once, with the error of the last
 * refusal, would spend the budget (4 retries, 15 to 30 s of backoff) before the server is back
 * about one time in four. Slow by nature (the downtime is the scenario), hence a test of its own;
 * wait_for_ready_test checks the wait in less time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

enum { kDowntimeMs = 20000, kBefore = 10, kDuring = 10 };

static void test_stream_recovers_after_a_long_restart(void **state) {
  (void)state;
  char data_dir[] = "/tmp/zb_downtime_test.XXXXXX";
  zbtest_server_options options;
  zbtest_server *server = tu_start_restartable_server(data_dir, &options);
  zb_sdk *sdk = tu_plaintext_sdk(zbtest_server_endpoint(server));
  zb_stream *stream = tu_open_proto(sdk, TU_TABLE, NULL);
  tu_ingest_and_flush(stream, 0, kBefore, "before");

  zbtest_server_stop(server);
  const int64_t stopped_at = tu_now_ms();
  tu_ingest_events(stream, kBefore, kDuring, "during");
  /* The downtime itself: the stream is left alone to recover as best it can. */
  tu_sleep_ms(kDowntimeMs);
  server = zbtest_server_start(&options);
  assert_non_null(server);
  const int64_t restarted_after = tu_now_ms() - stopped_at;

  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 60000, &err));
  const zb_stream_info info = tu_stream_info(stream);
  print_message("server back after %lld ms; flushed after %lld ms; %llu recoveries\n",
                (long long)restarted_after, (long long)(tu_now_ms() - stopped_at),
                (unsigned long long)info.recoveries);
  assert_int_equal(info.state, ZB_STREAM_OPEN);
  assert_int_equal(info.records_acked, kBefore + kDuring);
  assert_int_equal(info.recoveries, 1);
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);

  /* The records before the stop were acknowledged and the others never reached the stopped
   * server: each is stored once, in order, across both runs. */
  assert_int_equal(zbtest_server_record_count(server, TU_TABLE), kBefore + kDuring);
  for (int64_t i = 0; i < kBefore + kDuring; ++i) {
    const uint8_t *data;
    size_t len;
    assert_int_equal(tu_stored_event_id(server, TU_TABLE, i, &data, &len), i);
  }
  zbtest_server_stop(server);
  tu_remove_directory(data_dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_recovers_after_a_long_restart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
