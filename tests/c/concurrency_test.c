/* Eight threads ingest 100,000 records into one protobuf stream whose acks go to an event
 * callback: every offset is acknowledged exactly once, in order, on a thread that is none of
 * the ingesting ones, and the server holds every record where its offset says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

enum { kThreads = 8, kTotal = 100000, kPerThread = kTotal / kThreads };

/* What the event callback saw. Written on the callback's thread, read by the test after
 * zb_stream_close() (which waits for the callback to deliver what was queued). */
typedef struct ack_log {
  pthread_mutex_t mu;
  uint64_t next;  /* the first offset the next ack event must cover */
  int64_t events; /* ack events */
  int violations; /* events that broke the rules; the first is described in `what` */
  char what[256];
  pthread_t threads[4]; /* the distinct threads the callback ran on */
  int thread_count;
  int wrong_stream; /* events whose stream was not the one registered */
  zb_stream *stream;
  int freed; /* free_user_data calls */
} ack_log;

static void ack_log_violation(ack_log *log, const char *what, const zb_event *event) {
  if (log->violations++ == 0) {
    snprintf(log->what, sizeof log->what, "%s: event type %d, offsets %llu..%llu (expected %llu)",
             what, (int)event->type, (unsigned long long)event->first_offset,
             (unsigned long long)event->last_offset, (unsigned long long)log->next);
  }
}

static void on_event(zb_stream *stream, const zb_event *event, void *user_data) {
  ack_log *log = user_data;
  pthread_mutex_lock(&log->mu);
  bool known = false;
  for (int i = 0; i < log->thread_count; ++i)
    known = known || pthread_equal(log->threads[i], pthread_self());
  if (!known) {
    if (log->thread_count < 4) {
      log->threads[log->thread_count++] = pthread_self();
    } else {
      ack_log_violation(log, "the callback ran on more than 4 threads", event);
    }
  }
  if (stream != log->stream) ++log->wrong_stream;
  if (event->struct_size < sizeof(zb_event)) {
    ack_log_violation(log, "struct_size too small", event);
  } else if (event->type != ZB_EVENT_ACK) {
    ack_log_violation(log, zb_error_message(event->error), event);
  } else if (event->error != NULL) {
    ack_log_violation(log, "an ack event with an error", event);
  } else if (event->first_offset != log->next) {
    ack_log_violation(log, event->first_offset < log->next ? "overlap" : "gap", event);
  } else if (event->last_offset < event->first_offset) {
    ack_log_violation(log, "backwards range", event);
  } else {
    log->next = event->last_offset + 1;
    ++log->events;
  }
  pthread_mutex_unlock(&log->mu);
}

static void on_free(void *user_data) {
  ack_log *log = user_data;
  pthread_mutex_lock(&log->mu);
  ++log->freed;
  pthread_mutex_unlock(&log->mu);
}

static void test_eight_threads_one_stream_event_callback(void **state) {
  tu_env *env = ENV(state);
  static ack_log log; /* static: the library may touch it until the stream is destroyed */
  memset(&log, 0, sizeof log);
  pthread_mutex_init(&log.mu, NULL);

  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_set_event_callback(cfg, on_event, &log, on_free, &err));
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  pthread_mutex_lock(&log.mu);
  log.stream = stream;
  pthread_mutex_unlock(&log.mu);

  /* Polling is not for streams with a callback. */
  zb_event event;
  size_t count = 0;
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_poll(stream, &event, sizeof event, 1, 0, &count, &err));

  tu_ingester *ingesters = tu_ingesters_new(stream, kThreads, kPerThread);
  tu_ingesters_run(ingesters, kThreads);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 60000, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 60000, &err));
  tu_assert_unacked_count(stream, 0);

  /* close() returned after the callback delivered everything queued. */
  pthread_mutex_lock(&log.mu);
  const uint64_t next = log.next;
  const int violations = log.violations;
  const int64_t events = log.events;
  const int thread_count = log.thread_count;
  const int wrong_stream = log.wrong_stream;
  pthread_t callback_threads[4];
  memcpy(callback_threads, log.threads, sizeof callback_threads);
  pthread_mutex_unlock(&log.mu);
  if (violations != 0) print_error("%d bad ack events, the first: %s\n", violations, log.what);
  assert_int_equal(violations, 0);
  assert_int_equal(next, kTotal);
  assert_true(events >= 1);
  assert_int_equal(wrong_stream, 0);
  assert_true(thread_count >= 1);
  for (int i = 0; i < thread_count; ++i) {
    assert_false(tu_ingesters_include(ingesters, kThreads, callback_threads[i]));
    assert_false(pthread_equal(callback_threads[i], pthread_self()));
  }

  tu_ingesters_verify_stored(ingesters, kThreads, env->server, TU_TABLE);
  tu_ingesters_free(ingesters, kThreads);

  /* The stream holds the only registration: destroy releases it, once. */
  pthread_mutex_lock(&log.mu);
  assert_int_equal(log.freed, 0);
  pthread_mutex_unlock(&log.mu);
  zb_stream_destroy(stream);
  pthread_mutex_lock(&log.mu);
  assert_int_equal(log.freed, 1);
  assert_int_equal(log.next, kTotal);
  pthread_mutex_unlock(&log.mu);
  pthread_mutex_destroy(&log.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_eight_threads_one_stream_event_callback),
  };
  return cmocka_run_group_tests_name("concurrency", tests, NULL, NULL);
}
