/* Lifetimes: callbacks never outlive their stream, every free_user_data runs exactly once
 * whoever lets go last, a stream can destroy itself from its own callback, and the headers
 * provider runs once per connection and can refuse one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

/* ---- Counting registrations ----------------------------------------------------------------
 * Every callback below counts into a `counter` given as its user_data. The counters are static
 * so that a library bug that calls back late touches valid memory and is reported, not a
 * crash. */

typedef struct counter {
  const char *name; /* for failure messages */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;      /* callback or provider calls */
  int freed;      /* free_user_data calls */
  int late_calls; /* calls after free_user_data ran */
} counter;

static void counter_init(counter *c, const char *name) {
  memset(c, 0, sizeof *c);
  c->name = name;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
}

static void count_call(counter *c) {
  pthread_mutex_lock(&c->mu);
  ++c->calls;
  if (c->freed) ++c->late_calls;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void count_free(void *user_data) {
  counter *c = user_data;
  pthread_mutex_lock(&c->mu);
  ++c->freed;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void counting_event(zb_stream *stream, const zb_event *event, void *user_data) {
  (void)stream;
  (void)event;
  count_call(user_data);
}

static void counting_wakeup(void *user_data) {
  count_call(user_data);
}

static zb_status counting_headers(zb_headers *headers, void *user_data) {
  count_call(user_data);
  return zb_headers_add(headers, "x-test-client", "lifetime_test", NULL);
}

/* The callbacks a config registers. */
typedef enum { EVENT_CALLBACK, WAKEUP, HEADERS_PROVIDER } registration;

/* Registers the counting callback of `kind` with `c` as its user_data, released by count_free. */
static void register_counting(zb_config *cfg, registration kind, counter *c) {
  zb_error *err = NULL;
  switch (kind) {
    case EVENT_CALLBACK:
      TU_EXPECT(ZB_OK, err, zb_config_set_event_callback(cfg, counting_event, c, count_free, &err));
      break;
    case WAKEUP:
      TU_EXPECT(ZB_OK, err, zb_config_set_wakeup(cfg, counting_wakeup, c, count_free, &err));
      break;
    case HEADERS_PROVIDER:
      TU_EXPECT(ZB_OK, err,
                zb_config_set_headers_provider(cfg, counting_headers, c, count_free, &err));
      break;
  }
}

/* A new config with `pairs` set (see tu_config()) and the counting event callback, wakeup and
 * headers provider registered with the given counters (NULL: that one not registered). */
static zb_config *counting_config(const char *const *pairs, counter *events, counter *wakeups,
                                  counter *headers) {
  zb_config *cfg = tu_config(pairs);
  if (events != NULL) register_counting(cfg, EVENT_CALLBACK, events);
  if (wakeups != NULL) register_counting(cfg, WAKEUP, wakeups);
  if (headers != NULL) register_counting(cfg, HEADERS_PROVIDER, headers);
  return cfg;
}

/* One of a counter's fields (calls, freed or late_calls), read under its lock. */
#define COUNT(c, field) count_of((c), offsetof(counter, field))
static int count_of(counter *c, size_t field) {
  pthread_mutex_lock(&c->mu);
  const int value = *(const int *)((const char *)c + field);
  pthread_mutex_unlock(&c->mu);
  return value;
}

/* Asserts that each of the counters given after `expected` counts `expected` in `field`. */
#define EXPECT_COUNT(field, expected, ...)                                                     \
  expect_count(offsetof(counter, field), #field, (expected), (counter *[]){__VA_ARGS__, NULL}, \
               __FILE__, __LINE__)
static void expect_count(size_t field, const char *field_name, int expected,
                         counter *const *counters, const char *file, int line) {
  for (size_t i = 0; counters[i] != NULL; ++i) {
    const int got = count_of(counters[i], field);
    if (got != expected) {
      print_error("%s: %s is %d, expected %d\n", counters[i]->name, field_name, got, expected);
      _fail(file, line);
    }
  }
}

/* Waits until `c` counts at least `calls` calls; false after `timeout_ms`. */
static bool wait_calls(counter *c, int calls, int64_t timeout_ms) {
  pthread_mutex_lock(&c->mu);
  TU_WAIT_UNTIL(&c->cv, &c->mu, c->calls >= calls, timeout_ms);
  const bool reached = c->calls >= calls;
  pthread_mutex_unlock(&c->mu);
  return reached;
}

static counter event_a, event_b, event_c, wakeup_a, wakeup_b, wakeup_c, headers_a, headers_b,
    headers_c;
static counter *const all_counters[] = {&event_a,  &event_b,   &event_c,   &wakeup_a, &wakeup_b,
                                        &wakeup_c, &headers_a, &headers_b, &headers_c};
static const char *const counter_names[] = {"event_a",   "event_b",   "event_c",
                                            "wakeup_a",  "wakeup_b",  "wakeup_c",
                                            "headers_a", "headers_b", "headers_c"};

/* The fixture of the tests that count: every counter zeroed, and a tu_env. */
static int counters_setup(void **state) {
  for (size_t i = 0; i < sizeof all_counters / sizeof all_counters[0]; ++i) {
    counter_init(all_counters[i], counter_names[i]);
  }
  return tu_setup(state);
}

static int counters_teardown(void **state) {
  const int rc = tu_teardown(state);
  for (size_t i = 0; i < sizeof all_counters / sizeof all_counters[0]; ++i) {
    pthread_cond_destroy(&all_counters[i]->cv);
    pthread_mutex_destroy(&all_counters[i]->mu);
  }
  return rc;
}

#define COUNTING_TEST(test) cmocka_unit_test_setup_teardown(test, counters_setup, counters_teardown)

/* ---- No event callback or wakeup runs after zb_stream_destroy() returns ------------------- */

typedef struct destroy_race {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  zb_stream *stream;
  int64_t calls;         /* event callback or wakeup calls */
  bool destroyed;        /* set by the test once zb_stream_destroy() returned */
  int ran_after_destroy; /* calls that began or ended after that */
  int freed;
  int used_after_free;
  bool stop;
  int ingest_failures;
  int poll_failures;
} destroy_race;

static destroy_race race;

/* Counts a call; `slow` makes the caller a slow consumer, so that destroy meets it mid-call. */
static void race_call(destroy_race *r, bool slow) {
  pthread_mutex_lock(&r->mu);
  if (r->destroyed) ++r->ran_after_destroy;
  if (r->freed) ++r->used_after_free;
  ++r->calls;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (slow) {
    struct timespec pause = {0, 300000};
    nanosleep(&pause, NULL);
  }
  pthread_mutex_lock(&r->mu);
  if (r->destroyed) ++r->ran_after_destroy;
  pthread_mutex_unlock(&r->mu);
}

static void race_event(zb_stream *stream, const zb_event *event, void *user_data) {
  destroy_race *r = user_data;
  (void)event;
  pthread_mutex_lock(&r->mu);
  if (stream != r->stream) ++r->used_after_free;
  pthread_mutex_unlock(&r->mu);
  race_call(r, true);
}

static void race_wakeup(void *user_data) {
  race_call(user_data, false);
}

static void race_free(void *user_data) {
  destroy_race *r = user_data;
  pthread_mutex_lock(&r->mu);
  ++r->freed;
  pthread_mutex_unlock(&r->mu);
}

static bool race_stopped(destroy_race *r, zb_stream **stream) {
  pthread_mutex_lock(&r->mu);
  const bool stop = r->stop;
  *stream = r->stream;
  pthread_mutex_unlock(&r->mu);
  return stop;
}

static void *race_ingest(void *arg) {
  destroy_race *r = arg;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = zbtest_encode_event(42, "racing the destroy", record, sizeof record);
  /* Paced and bounded, so that the window stays modest under sanitizers too. */
  zb_stream *stream;
  for (int i = 0; i < 20000 && !race_stopped(r, &stream); ++i) {
    struct timespec pace = {0, 20000};
    nanosleep(&pace, NULL);
    zb_error *err = NULL;
    if (zb_stream_ingest_proto(stream, record, len, NULL, &err) != ZB_OK) {
      pthread_mutex_lock(&r->mu);
      ++r->ingest_failures;
      pthread_mutex_unlock(&r->mu);
    }
    zb_error_free(err);
  }
  return NULL;
}

/* Keeps the queue draining, so that it turns non-empty (and wakes) again and again. */
static void *race_poll(void *arg) {
  destroy_race *r = arg;
  zb_stream *stream;
  while (!race_stopped(r, &stream)) {
    zb_event events[16];
    size_t count = 0;
    if (zb_stream_poll(stream, events, sizeof events[0], 16, 2, &count, NULL) != ZB_OK) {
      pthread_mutex_lock(&r->mu);
      ++r->poll_failures;
      pthread_mutex_unlock(&r->mu);
      break;
    }
    for (size_t i = 0; i < count; ++i) zb_error_free(events[i].error);
  }
  return NULL;
}

static void destroy_while_busy(tu_env *env, bool wakeup) {
  memset(&race, 0, sizeof race);
  pthread_mutex_init(&race.mu, NULL);
  pthread_cond_init(&race.cv, NULL);
  zb_stream *stream =
      wakeup ? tu_open_proto_with_wakeup(env->sdk, TU_TABLE, race_wakeup, &race, race_free)
             : tu_open_proto_with_event_cb(env->sdk, TU_TABLE, race_event, &race, race_free);
  pthread_mutex_lock(&race.mu);
  race.stream = stream;
  pthread_mutex_unlock(&race.mu);

  enum { kIngesters = 3 };
  pthread_t threads[kIngesters + 1];
  for (int i = 0; i < kIngesters; ++i) {
    assert_int_equal(pthread_create(&threads[i], NULL, race_ingest, &race), 0);
  }
  if (wakeup) assert_int_equal(pthread_create(&threads[kIngesters], NULL, race_poll, &race), 0);
  /* Let acks flow: wait for a few calls. */
  pthread_mutex_lock(&race.mu);
  TU_WAIT_UNTIL(&race.cv, &race.mu, race.calls >= 5, 30000);
  const int64_t calls_before = race.calls;
  race.stop = true;
  pthread_mutex_unlock(&race.mu);
  for (int i = 0; i < kIngesters + (wakeup ? 1 : 0); ++i) {
    assert_int_equal(pthread_join(threads[i], NULL), 0);
  }
  assert_true(calls_before >= 5);

  /* Records are in flight and acks flowing: destroy now, with no other call running. */
  zb_stream_destroy(stream);
  pthread_mutex_lock(&race.mu);
  race.destroyed = true;
  const int freed = race.freed;
  pthread_mutex_unlock(&race.mu);
  assert_int_equal(freed, 1);

  /* Hold for a while: nothing may run any more. */
  tu_sleep_ms(30);
  pthread_mutex_lock(&race.mu);
  const destroy_race seen = race;
  pthread_mutex_unlock(&race.mu);
  assert_int_equal(seen.ran_after_destroy, 0);
  assert_int_equal(seen.used_after_free, 0);
  assert_int_equal(seen.freed, 1);
  assert_int_equal(seen.ingest_failures, 0);
  assert_int_equal(seen.poll_failures, 0);
  pthread_cond_destroy(&race.cv);
  pthread_mutex_destroy(&race.mu);
}

static void test_no_event_callback_after_destroy(void **state) {
  tu_env *env = ENV(state);
  /* Acks keep coming for a while after the ingesting stops. */
  zbtest_server_delay_acks(env->server, 3);
  for (int round = 0; round < 10; ++round) destroy_while_busy(env, false);
  zbtest_server_delay_acks(env->server, 0);
}

static void test_no_wakeup_after_destroy(void **state) {
  tu_env *env = ENV(state);
  zbtest_server_delay_acks(env->server, 3);
  for (int round = 0; round < 10; ++round) destroy_while_busy(env, true);
  zbtest_server_delay_acks(env->server, 0);
}

/* ---- free_user_data runs exactly once ------------------------------------------------------ */

static void test_free_user_data_config_destroyed_before_stream(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;

  /* A callback stream with a headers provider... */
  zb_config *cfg = counting_config(NULL, &event_a, NULL, &headers_a);
  zb_stream *callback_stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  /* ...and a polled stream with a wakeup. */
  cfg = counting_config(NULL, NULL, &wakeup_a, &headers_b);
  zb_stream *polled_stream = tu_open_proto(env->sdk, "main.default.polled", cfg);
  zb_config_destroy(cfg);

  /* The streams hold the registrations now. */
  EXPECT_COUNT(freed, 0, &event_a, &headers_a, &wakeup_a, &headers_b);
  EXPECT_COUNT(calls, 1, &headers_a, &headers_b);

  tu_ingest_and_flush(callback_stream, 0, 10, "lifetime");
  tu_ingest_and_flush(polled_stream, 0, 10, "lifetime");
  TU_EXPECT(ZB_OK, err, zb_stream_close(callback_stream, 10000, &err));
  assert_true(COUNT(&event_a, calls) >= 1); /* close waited for the callback */
  EXPECT_COUNT(freed, 0, &event_a);

  /* The acks queued for polling woke the poller (on a thread of the library's). */
  assert_true(wait_calls(&wakeup_a, 1, 10000));

  zb_stream_destroy(callback_stream);
  EXPECT_COUNT(freed, 1, &event_a, &headers_a);
  zb_stream_destroy(polled_stream);
  EXPECT_COUNT(freed, 1, &wakeup_a, &headers_b);

  /* And never again. */
  tu_sleep_ms(20);
  EXPECT_COUNT(freed, 1, &event_a, &headers_a, &wakeup_a, &headers_b);
  EXPECT_COUNT(late_calls, 0, &event_a, &wakeup_a, &headers_a, &headers_b);
}

static void test_free_user_data_stream_destroyed_before_config(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  zb_config *cfg = counting_config(NULL, &event_a, NULL, &headers_a);
  zb_stream *first = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_stream *second = tu_open_json(env->sdk, TU_JSON_TABLE, cfg);
  EXPECT_COUNT(calls, 2, &headers_a);
  tu_ingest_events(first, 0, 5, "lifetime");
  TU_EXPECT(ZB_OK, err, zb_stream_close(first, 10000, &err));
  /* Destroyed without a close. */
  zb_stream_destroy(first);
  zb_stream_destroy(second);
  /* The config still holds both. */
  EXPECT_COUNT(freed, 0, &event_a, &headers_a);

  /* A copy shares them: destroying the original does not release them. */
  zb_config *copy = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_dup(cfg, &copy, &err));
  zb_config_destroy(cfg);
  EXPECT_COUNT(freed, 0, &event_a, &headers_a);
  zb_stream *third = tu_open_proto(env->sdk, TU_TABLE, copy);
  EXPECT_COUNT(calls, 3, &headers_a);
  zb_config_destroy(copy);
  EXPECT_COUNT(freed, 0, &event_a);
  zb_stream_destroy(third);
  EXPECT_COUNT(freed, 1, &event_a, &headers_a);
}

/* After `kept` was registered in place of `replaced`: the replaced registration, which nothing
 * else held, was released at once, and the new one was not. */
static void expect_replaced(counter *replaced, counter *kept) {
  EXPECT_COUNT(freed, 1, replaced);
  EXPECT_COUNT(freed, 0, kept);
}

static void test_free_user_data_replaced_and_removed(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  zb_config *cfg = tu_config(NULL);

  /* Replacing a registration nobody else holds releases it at once, whatever its kind. */
  static const struct {
    registration kind;
    counter *replaced, *kept;
  } replacements[] = {{EVENT_CALLBACK, &event_a, &event_b},
                      {WAKEUP, &wakeup_a, &wakeup_b},
                      {HEADERS_PROVIDER, &headers_a, &headers_b}};
  for (size_t i = 0; i < sizeof replacements / sizeof replacements[0]; ++i) {
    register_counting(cfg, replacements[i].kind, replacements[i].replaced);
    register_counting(cfg, replacements[i].kind, replacements[i].kept);
    expect_replaced(replacements[i].replaced, replacements[i].kept);
  }

  /* cb NULL removes the registration; its own user_data is released at once. */
  TU_EXPECT(ZB_OK, err, zb_config_set_wakeup(cfg, NULL, &wakeup_c, count_free, &err));
  EXPECT_COUNT(freed, 1, &wakeup_c); /* nothing will ever be called with it */
  EXPECT_COUNT(freed, 1, &wakeup_b); /* removed */
  TU_EXPECT(ZB_OK, err, zb_config_set_headers_provider(cfg, NULL, &headers_c, count_free, &err));
  EXPECT_COUNT(freed, 1, &headers_c, &headers_b);
  /* No free_user_data at all is fine too. */
  TU_EXPECT(ZB_OK, err,
            zb_config_set_headers_provider(cfg, counting_headers, &headers_c, NULL, &err));
  TU_EXPECT(ZB_OK, err, zb_config_set_headers_provider(cfg, NULL, NULL, NULL, &err));
  EXPECT_COUNT(freed, 1, &headers_c);

  /* A stream keeps what it was created with when the config's registration is replaced. */
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  register_counting(cfg, EVENT_CALLBACK, &event_c);
  EXPECT_COUNT(freed, 0, &event_b);
  tu_ingest_events(stream, 0, 5, "lifetime");
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  assert_true(COUNT(&event_b, calls) >= 1);
  EXPECT_COUNT(calls, 0, &event_c);
  zb_stream_destroy(stream);
  EXPECT_COUNT(freed, 1, &event_b);
  EXPECT_COUNT(freed, 0, &event_c);

  zb_config_destroy(cfg);
  EXPECT_COUNT(freed, 1, &event_a, &event_b, &event_c, &wakeup_a, &wakeup_b, &wakeup_c, &headers_a,
               &headers_b, &headers_c);
  /* The removed callbacks were never called. */
  EXPECT_COUNT(calls, 0, &event_a, &wakeup_a, &wakeup_b, &wakeup_c, &headers_a, &headers_b);
}

/* ---- zb_stream_destroy() from the stream's own event callback ----------------------------- */

typedef struct self_destroy {
  counter count; /* first, so that count_free releases the registration; its mu guards all */
  bool go;       /* the test made its last call on the stream */
  bool gate_timed_out;
  int calls_after_destroy;
  bool destroy_returned;
  int bad_stream;
  zb_stream *stream;
} self_destroy;

static self_destroy selfd;

static void self_destroy_event(zb_stream *stream, const zb_event *event, void *user_data) {
  self_destroy *s = user_data;
  (void)event;
  pthread_mutex_lock(&s->count.mu);
  ++s->count.calls;
  if (s->destroy_returned) {
    ++s->calls_after_destroy;
    pthread_mutex_unlock(&s->count.mu);
    return;
  }
  if (stream != s->stream) ++s->bad_stream;
  /* Destroy may follow no other call on the stream: wait until the test is done with it. */
  TU_WAIT_UNTIL(&s->count.cv, &s->count.mu, s->go, 30000);
  s->gate_timed_out = !s->go;
  pthread_mutex_unlock(&s->count.mu);
  zb_stream_destroy(stream);
  pthread_mutex_lock(&s->count.mu);
  s->destroy_returned = true;
  /* The barrier applies once this callback returns: nothing was freed yet. */
  if (s->count.freed != 0) ++s->calls_after_destroy;
  pthread_mutex_unlock(&s->count.mu);
}

static void test_destroy_from_own_event_callback(void **state) {
  tu_env *env = ENV(state);
  memset(&selfd, 0, sizeof selfd);
  counter_init(&selfd.count, "selfd");
  zb_stream *stream =
      tu_open_proto_with_event_cb(env->sdk, TU_TABLE, self_destroy_event, &selfd, count_free);
  pthread_mutex_lock(&selfd.count.mu);
  selfd.stream = stream;
  pthread_mutex_unlock(&selfd.count.mu);

  tu_ingest_and_flush(stream, 0, 20, "lifetime");
  /* More acks will come while the callback destroys the stream. */
  tu_ingest_events(stream, 0, 20, "lifetime");

  /* Hand the stream over to its callback, and wait for the release of its user_data. */
  pthread_mutex_lock(&selfd.count.mu);
  selfd.go = true;
  pthread_cond_broadcast(&selfd.count.cv);
  TU_WAIT_UNTIL(&selfd.count.cv, &selfd.count.mu, selfd.count.freed != 0, 30000);
  const int freed = selfd.count.freed;
  pthread_mutex_unlock(&selfd.count.mu);
  assert_int_equal(freed, 1);

  tu_sleep_ms(30);
  pthread_mutex_lock(&selfd.count.mu);
  assert_false(selfd.gate_timed_out);
  assert_true(selfd.destroy_returned);
  assert_int_equal(selfd.count.calls, 1);
  assert_int_equal(selfd.calls_after_destroy, 0);
  assert_int_equal(selfd.count.freed, 1);
  assert_int_equal(selfd.bad_stream, 0);
  pthread_mutex_unlock(&selfd.count.mu);
  /* The call ended on the server. */
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 10000));
  /* The mutex and condition stay initialized: static storage, nothing else uses them. */
}

/* ---- Destroy without close ------------------------------------------------------------------ */

static void test_destroy_without_close(void **state) {
  tu_env *env = ENV(state);
  zb_stream *stream =
      tu_open_proto_with_event_cb(env->sdk, TU_TABLE, counting_event, &event_a, count_free);

  /* Acked records, then records that will never be acked. */
  tu_ingest_and_flush(stream, 0, 5, "lifetime");
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 0, 50, "lifetime");
  const int64_t started = tu_now_ms();
  zb_stream_destroy(stream);
  const int64_t took = tu_now_ms() - started;
  EXPECT_COUNT(freed, 1, &event_a);
  /* Closed at once: no waiting for acks that never come. */
  assert_true(took < 5000);
  tu_sleep_ms(20);
  EXPECT_COUNT(late_calls, 0, &event_a);
  EXPECT_COUNT(freed, 1, &event_a);
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 10000));
  zbtest_server_withhold_acks(env->server, false);

  /* A polled stream with nothing ingested, destroyed right away. */
  zb_stream *idle = tu_open_json(env->sdk, TU_JSON_TABLE, NULL);
  zb_stream_destroy(idle);
  assert_true(zbtest_server_wait_streams_open(env->server, 0, 10000));
}

/* ---- Headers provider ---------------------------------------------------------------------- */

static void test_headers_provider_once_per_connection(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  static const char *const pairs[] = {"recovery.backoff.ms", "10", NULL};
  zb_config *cfg = counting_config(pairs, NULL, NULL, &headers_a);
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  EXPECT_COUNT(calls, 1, &headers_a);
  tu_ingest_and_flush(stream, 0, 10, "lifetime");
  EXPECT_COUNT(calls, 1, &headers_a);

  /* The server breaks the call (retryable): one reconnection, one more provider call. */
  zbtest_server_fail_after(env->server, 5, TU_GRPC_UNAVAILABLE, "reconnect, please");
  tu_ingest_events(stream, 0, 20, "lifetime");
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  assert_int_equal(zbtest_server_streams_opened(env->server), 2);
  EXPECT_COUNT(calls, 2, &headers_a);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  EXPECT_COUNT(calls, 2, &headers_a);
  EXPECT_COUNT(freed, 0, &headers_a);
  zb_stream_destroy(stream);
  EXPECT_COUNT(freed, 1, &headers_a);
  assert_true(zbtest_server_record_count(env->server, TU_TABLE) >= 30);
}

static zb_status failing_headers(zb_headers *headers, void *user_data) {
  (void)headers;
  count_call(user_data);
  return ZB_ERR_INTERNAL;
}

static void test_headers_provider_error_fails_open_with_auth(void **state) {
  tu_env *env = ENV(state);
  zb_error *err = NULL;
  static const char *const pairs[] = {"recovery.backoff.ms", "10", "recovery.retries", "2", NULL};
  zb_config *cfg = tu_config(pairs);
  TU_EXPECT(ZB_OK, err,
            zb_config_set_headers_provider(cfg, failing_headers, &headers_a, count_free, &err));
  zb_error_free(TU_OPEN_ERROR(ZB_ERR_AUTH, env->sdk, TU_TABLE, ZB_RECORD_PROTO, cfg));
  assert_true(COUNT(&headers_a, calls) >= 1);
  assert_int_equal(zbtest_server_streams_opened(env->server), 0);
  /* The failed open let go of its hold on the provider; the config still has it. */
  EXPECT_COUNT(freed, 0, &headers_a);
  zb_config_destroy(cfg);
  EXPECT_COUNT(freed, 1, &headers_a);
}

/* What a provider saw from zb_headers_add(), checked by the test after zb_stream_new(). */
typedef struct header_checks {
  const char *bad_name; /* a header to try that must be refused (NULL: none) */
  const char *bad_value;
  zb_status bad_rc;
  bool bad_has_message;
  zb_status null_name_rc, null_value_rc, good_rc, upper_rc;
  int calls;
} header_checks;

static zb_status checking_headers(zb_headers *headers, void *user_data) {
  header_checks *c = user_data;
  ++c->calls; /* calls are serialized, and the test reads after zb_stream_new() returned */
  zb_error *err = NULL;
  c->null_name_rc = zb_headers_add(headers, NULL, "v", NULL);
  c->null_value_rc = zb_headers_add(headers, "x-name", NULL, NULL);
  c->good_rc = zb_headers_add(headers, "x-custom_header.1", "any printable ~!@# value", NULL);
  if (c->bad_name != NULL) {
    c->bad_rc = zb_headers_add(headers, c->bad_name, c->bad_value, &err);
    c->bad_has_message =
        err != NULL && zb_error_code(err) == c->bad_rc && zb_error_message(err)[0] != '\0';
    zb_error_free(err);
  }
  return ZB_OK;
}

static void test_headers_add_rejects_bad_names_and_values(void **state) {
  tu_env *env = ENV(state);
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_error *err = NULL;

  /* Valid headers (and NULL arguments, refused without spoiling anything) open the stream. */
  static header_checks good;
  memset(&good, 0, sizeof good);
  zb_config *cfg = tu_config(NULL);
  TU_EXPECT(ZB_OK, err, zb_config_set_headers_provider(cfg, checking_headers, &good, NULL, &err));
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  assert_int_equal(good.calls, 1);
  assert_int_equal(good.null_name_rc, ZB_ERR_INVALID_ARG);
  assert_int_equal(good.null_value_rc, ZB_ERR_INVALID_ARG);
  assert_int_equal(good.good_rc, ZB_OK);
  tu_ingest_events(stream, 0, 1, "lifetime");
  tu_close_and_destroy(stream);

  static const char *const bad[][2] = {
      {"X-Upper-Case", "v"},     {"x-Mixed", "v"},  {"x bad", "v"},
      {"x:colon", "v"},          {"", "v"},         {"x-newline", "a\nb"},
      {"x-control", "\x01"},     {"x-del", "\x7f"}, {"x-tab", "a\tb"},
      {"x-high", "caf\xc3\xa9"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    static header_checks checks;
    memset(&checks, 0, sizeof checks);
    checks.bad_name = bad[i][0];
    checks.bad_value = bad[i][1];
    checks.bad_rc = ZB_OK;
    cfg = tu_config(NULL);
    TU_EXPECT(ZB_OK, err,
              zb_config_set_headers_provider(cfg, checking_headers, &checks, NULL, &err));
    stream = NULL;
    const zb_status rc = zb_stream_new(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor,
                                       descriptor_len, cfg, &stream, &err);
    zb_config_destroy(cfg);
    if (checks.bad_rc != ZB_ERR_INVALID_ARG || rc != ZB_ERR_AUTH) {
      print_error("header \"%s\": \"%s\": zb_headers_add returned %d, zb_stream_new %d\n",
                  bad[i][0], bad[i][1], (int)checks.bad_rc, (int)rc);
    }
    assert_int_equal(checks.bad_rc, ZB_ERR_INVALID_ARG);
    assert_true(checks.bad_has_message);
    zb_error *kept = TU_EXPECT_ERROR(ZB_ERR_AUTH, err, rc);
    /* The message names the header (never the value: it may be a credential). */
    if (bad[i][0][0] != '\0') assert_true(tu_contains(zb_error_message(kept), bad[i][0]));
    zb_error_free(kept);
    assert_null(stream);
  }
  assert_int_equal(zbtest_server_streams_opened(env->server), 1);
}

/* ---- Calls on the stream from inside its own event callback -------------------------------- */

typedef struct reentrant {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;
  bool done;
  zb_status ingest_rc, flush_rc, wait_rc, poll_rc, close_rc, close_again_rc;
  uint64_t offset;
  size_t unacked_after_close;
} reentrant;

static reentrant reent;

static void reentrant_event(zb_stream *stream, const zb_event *event, void *user_data) {
  reentrant *r = user_data;
  (void)event;
  pthread_mutex_lock(&r->mu);
  const bool first = ++r->calls == 1;
  pthread_mutex_unlock(&r->mu);
  if (!first) return;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = zbtest_encode_event(5, "from the callback", record, sizeof record);
  uint64_t offset = UINT64_MAX;
  const zb_status ingest_rc = zb_stream_ingest_proto(stream, record, len, &offset, NULL);
  const zb_status flush_rc = zb_stream_flush(stream, 10000, NULL);
  const zb_status wait_rc = zb_stream_wait_for_offset(stream, offset, 10000, NULL);
  zb_event events[1];
  size_t count = 0;
  const zb_status poll_rc = zb_stream_poll(stream, events, sizeof events[0], 1, 0, &count, NULL);
  /* close() from the callback does not wait for the callback to finish: no deadlock. */
  const zb_status close_rc = zb_stream_close(stream, 10000, NULL);
  const zb_status close_again_rc = zb_stream_close(stream, 0, NULL);
  zb_records *unacked = NULL;
  size_t unacked_count = SIZE_MAX;
  if (zb_stream_unacked(stream, &unacked, NULL) == ZB_OK) unacked_count = zb_records_count(unacked);
  zb_records_free(unacked);
  pthread_mutex_lock(&r->mu);
  r->ingest_rc = ingest_rc;
  r->offset = offset;
  r->flush_rc = flush_rc;
  r->wait_rc = wait_rc;
  r->poll_rc = poll_rc;
  r->close_rc = close_rc;
  r->close_again_rc = close_again_rc;
  r->unacked_after_close = unacked_count;
  r->done = true;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void test_stream_calls_from_own_event_callback(void **state) {
  tu_env *env = ENV(state);
  memset(&reent, 0, sizeof reent);
  pthread_mutex_init(&reent.mu, NULL);
  pthread_cond_init(&reent.cv, NULL);
  zb_stream *stream =
      tu_open_proto_with_event_cb(env->sdk, TU_TABLE, reentrant_event, &reent, NULL);
  zb_error *err = NULL;

  /* Offsets 0..4 in one call, before any ack can reach the callback. */
  tu_batch batch;
  tu_batch_fill(&batch, 5, 0, "from the test");
  uint64_t last = 0;
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, batch.pointers, batch.lens, 5, &last, &err));
  assert_int_equal(last, 4);

  pthread_mutex_lock(&reent.mu);
  TU_WAIT_UNTIL(&reent.cv, &reent.mu, reent.done, 30000);
  const reentrant seen = reent;
  pthread_mutex_unlock(&reent.mu);
  assert_true(seen.done);
  assert_int_equal(seen.ingest_rc, ZB_OK);
  assert_int_equal(seen.offset, 5);
  assert_int_equal(seen.flush_rc, ZB_OK);
  assert_int_equal(seen.wait_rc, ZB_OK);
  assert_int_equal(seen.poll_rc, ZB_ERR_STATE);
  assert_int_equal(seen.close_rc, ZB_OK);
  assert_int_equal(seen.close_again_rc, ZB_OK);
  assert_int_equal(seen.unacked_after_close, 0);

  /* The test's own close returns what the callback's did. */
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), 6);
  pthread_cond_destroy(&reent.cv);
  pthread_mutex_destroy(&reent.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_no_event_callback_after_destroy),
      TU_TEST(test_no_wakeup_after_destroy),
      COUNTING_TEST(test_free_user_data_config_destroyed_before_stream),
      COUNTING_TEST(test_free_user_data_stream_destroyed_before_config),
      COUNTING_TEST(test_free_user_data_replaced_and_removed),
      TU_TEST(test_destroy_from_own_event_callback),
      TU_TEST(test_stream_calls_from_own_event_callback),
      COUNTING_TEST(test_destroy_without_close),
      COUNTING_TEST(test_headers_provider_once_per_connection),
      COUNTING_TEST(test_headers_provider_error_fails_open_with_auth),
      TU_TEST(test_headers_add_rejects_bad_names_and_values),
  };
  return cmocka_run_group_tests_name("lifetime", tests, NULL, NULL);
}
