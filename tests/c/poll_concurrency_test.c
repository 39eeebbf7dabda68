/* Eight threads ingest 100,000 records into one protobuf stream while a separate thread polls
 * its events, woken by the stream's wakeup: the acks cover every offset exactly once, in
 * order, and the server holds every record where its offset says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

enum { kThreads = 8, kTotal = 100000, kPerThread = kTotal / kThreads };

/* The poller's state. The wakeup only sets `pending` and signals; the poller does the rest. */
typedef struct poller {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool pending; /* a wakeup came since the poller last looked */
  int64_t wakeups;
  pthread_t wakeup_threads[4];
  int wakeup_thread_count;
  const char *wakeup_role; /* tu_thread_role() of a wakeup that ran on a test thread */

  /* Poller thread only until it is joined. */
  zb_stream *stream;
  tu_event_log log; /* the polled events, checked and counted; counts the free_user_data too */
  bool timed_out;
  char poll_error[256]; /* why a zb_stream_poll() failed ("" while none did) */
} poller;

static void on_wakeup(void *user_data) {
  poller *p = user_data;
  pthread_mutex_lock(&p->mu);
  p->pending = true;
  ++p->wakeups;
  if (tu_thread_role() != NULL) p->wakeup_role = tu_thread_role();
  bool known = false;
  for (int i = 0; i < p->wakeup_thread_count; ++i) {
    known = known || pthread_equal(p->wakeup_threads[i], pthread_self());
  }
  if (!known && p->wakeup_thread_count < 4)
    p->wakeup_threads[p->wakeup_thread_count++] = pthread_self();
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static void on_free(void *user_data) {
  poller *p = user_data;
  tu_event_log_free(&p->log);
}

/* Whether the poller has more to do: acks still to come, and nothing wrong so far. */
static bool poller_busy(poller *p) {
  const tu_event_log seen = tu_event_log_snapshot(&p->log);
  return seen.next_ack < kTotal && seen.violations == 0 && seen.errors == 0 &&
         p->poll_error[0] == '\0';
}

static void *poll_thread(void *arg) {
  poller *p = arg;
  tu_set_thread_role("polling");
  /* A generous bound, so that a lost wakeup fails the test instead of hanging it. */
  const struct timespec deadline = tu_deadline(60000);
  while (poller_busy(p)) {
    pthread_mutex_lock(&p->mu);
    while (!p->pending && !p->timed_out) {
      if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) != 0 && !p->pending) {
        p->timed_out = true;
      }
    }
    p->pending = false;
    const bool timed_out = p->timed_out;
    pthread_mutex_unlock(&p->mu);
    if (timed_out) break;
    /* Drain: poll until the queue is empty; a wakeup that comes meanwhile sets pending again. */
    for (;;) {
      zb_event events[64];
      size_t count = 0;
      zb_error *err = NULL;
      const zb_status rc = zb_stream_poll(p->stream, events, sizeof events[0], 64, 0, &count, &err);
      if (rc != ZB_OK) {
        snprintf(p->poll_error, sizeof p->poll_error, "%s: %s", zb_status_name(rc),
                 zb_error_message(err));
        zb_error_free(err);
        break;
      }
      if (count == 0) break;
      for (size_t i = 0; i < count; ++i) {
        tu_event_log_cb(p->stream, &events[i], &p->log);
        zb_error_free(events[i].error);
      }
    }
  }
  return NULL;
}

static void test_eight_threads_one_stream_polling_with_wakeup(void **state) {
  tu_env *env = ENV(state);
  static poller p; /* static: the library may touch it until the stream is destroyed */
  memset(&p, 0, sizeof p);
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  tu_event_log_init(&p.log);

  zb_stream *stream = tu_open_proto_with_wakeup(env->sdk, TU_TABLE, on_wakeup, &p, on_free);
  p.stream = stream;
  p.log.stream = stream;

  pthread_t poll_handle;
  assert_int_equal(pthread_create(&poll_handle, NULL, poll_thread, &p), 0);
  tu_ingester *ingesters = tu_ingesters_new(stream, kThreads, kPerThread);
  tu_ingesters_run(ingesters, kThreads);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 60000, &err));
  /* Every ack is queued by now; the wakeup brings the poller to the last of them: acks only,
   * each offset once and in order. */
  assert_int_equal(pthread_join(poll_handle, NULL), 0);
  if (p.poll_error[0] != '\0') print_error("zb_stream_poll failed: %s\n", p.poll_error);
  assert_true(p.poll_error[0] == '\0');
  const tu_event_log seen = tu_event_log_checked(&p.log);
  if (seen.errors != 0) print_error("an error event: %s\n", seen.error.message);
  assert_int_equal(seen.errors, 0);
  assert_false(p.timed_out);
  assert_int_equal(seen.next_ack, kTotal);
  assert_true(seen.acks >= 1);

  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 60000, &err));
  tu_assert_unacked_count(stream, 0);
  /* Nothing more to poll: the close added no error event. */
  zb_event event;
  assert_false(tu_poll_one(stream, &event, 0));

  pthread_mutex_lock(&p.mu);
  assert_true(p.wakeups >= 1);
  assert_true(p.wakeup_thread_count >= 1);
  if (p.wakeup_role != NULL) print_error("a wakeup ran on a %s thread\n", p.wakeup_role);
  assert_null(p.wakeup_role);
  for (int i = 0; i < p.wakeup_thread_count; ++i) {
    assert_false(pthread_equal(p.wakeup_threads[i], pthread_self()));
  }
  pthread_mutex_unlock(&p.mu);

  tu_ingesters_verify_stored(ingesters, kThreads, env->server, TU_TABLE);
  tu_ingesters_free(ingesters, kThreads);

  zb_stream_destroy(stream);
  assert_int_equal(tu_event_log_snapshot(&p.log).freed, 1);
  tu_event_log_fini(&p.log);
  pthread_cond_destroy(&p.cv);
  pthread_mutex_destroy(&p.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_eight_threads_one_stream_polling_with_wakeup),
  };
  return cmocka_run_group_tests_name("poll_concurrency", tests, NULL, NULL);
}
