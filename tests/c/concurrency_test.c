/* Eight threads ingest 100,000 records into one protobuf stream whose acks go to an event
 * callback: every offset is acknowledged exactly once, in order, on a thread that is none of
 * the ingesting ones, and the server holds every record where its offset says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

enum { kThreads = 8, kTotal = 100000, kPerThread = kTotal / kThreads };

static void test_eight_threads_one_stream_event_callback(void **state) {
  tu_env *env = ENV(state);
  static tu_event_log log; /* static: the library may touch it until the stream is destroyed */
  zb_stream *stream = tu_open_proto_with_event_log(env->sdk, TU_TABLE, &log);

  /* Polling is not for streams with a callback. */
  zb_event event;
  size_t count = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_poll(stream, &event, sizeof event, 1, 0, &count, &err));

  tu_ingester *ingesters = tu_ingesters_new(stream, kThreads, kPerThread);
  tu_ingesters_run(ingesters, kThreads);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 60000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 60000, &err));
  tu_assert_unacked_count(stream, 0);

  /* close() returned after the callback delivered everything queued: acks only, each offset
   * once and in order, all from this stream, on threads that are neither the ingesting ones nor
   * the test's (and no more than TU_EVENT_LOG_THREADS of them). */
  const tu_event_log seen = tu_event_log_checked(&log);
  if (seen.errors != 0) print_error("an error event: %s\n", seen.error.message);
  assert_int_equal(seen.errors, 0);
  assert_int_equal(seen.next_ack, kTotal);
  assert_true(seen.acks >= 1);
  assert_true(seen.thread_count >= 1);
  /* tu_event_log_checked() saw none run on an ingesting thread (tu_thread_role()). */
  for (int i = 0; i < seen.thread_count; ++i) {
    assert_false(pthread_equal(seen.threads[i], pthread_self()));
  }

  tu_ingesters_verify_stored(ingesters, kThreads, env->server, TU_TABLE);
  tu_ingesters_free(ingesters, kThreads);

  /* The stream holds the only registration: destroy releases it, once. */
  assert_int_equal(tu_event_log_snapshot(&log).freed, 0);
  zb_stream_destroy(stream);
  const tu_event_log after = tu_event_log_snapshot(&log);
  assert_int_equal(after.freed, 1);
  assert_int_equal(after.next_ack, kTotal);
  tu_event_log_fini(&log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_eight_threads_one_stream_event_callback),
  };
  return cmocka_run_group_tests_name("concurrency", tests, NULL, NULL);
}
