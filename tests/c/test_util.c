#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tu_setup(void **state) {
  tu_env *env = calloc(1, sizeof *env);
  if (env == NULL) return -1;
  env->server = zbtest_server_start(NULL);
  if (env->server == NULL) {
    free(env);
    return -1;
  }
  zb_error *err = NULL;
  if (zb_sdk_new(zbtest_server_endpoint(env->server), NULL, &env->sdk, &err) != ZB_OK) {
    print_error("zb_sdk_new: %s\n", zb_error_message(err));
    zb_error_free(err);
    zbtest_server_stop(env->server);
    free(env);
    return -1;
  }
  *state = env;
  return 0;
}

int tu_teardown(void **state) {
  tu_env *env = *state;
  if (env != NULL) {
    zb_sdk_destroy(env->sdk);
    zbtest_server_stop(env->server);
    free(env);
  }
  *state = NULL;
  return 0;
}

int64_t tu_now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void tu_sleep_ms(int64_t ms) {
  struct timespec duration;
  duration.tv_sec = (time_t)(ms / 1000);
  duration.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&duration, &duration) != 0) {
  }
}

static const char *name_of(zb_status code) {
  const char *name = zb_status_name(code);
  return name != NULL ? name : "(unknown code)";
}

zb_error *tu_expect_error_(zb_status rc, zb_error **err, zb_status expected, const char *call,
                           const char *file, int line) {
  zb_error *got = *err;
  *err = NULL;
  if (got == TU_ERR_SENTINEL) {
    print_error("%s\n  returned %s (%d) and left *err untouched\n", call, name_of(rc), (int)rc);
    _fail(file, line);
    return NULL;
  }
  if (rc != expected) {
    print_error("%s\n  returned %s (%d), expected %s (%d); message: \"%s\"\n", call, name_of(rc),
                (int)rc, name_of(expected), (int)expected, zb_error_message(got));
    zb_error_free(got);
    _fail(file, line);
    return NULL;
  }
  if (expected == ZB_OK) {
    if (got != NULL) {
      print_error("%s\n  succeeded but set *err (\"%s\")\n", call, zb_error_message(got));
      zb_error_free(got);
      _fail(file, line);
      return NULL;
    }
    return NULL;
  }
  if (got == NULL) {
    print_error("%s\n  returned %s without an error object\n", call, name_of(rc));
    _fail(file, line);
    return NULL;
  }
  if (zb_error_code(got) != expected) {
    print_error("%s\n  returned %s but its error object says %s\n", call, name_of(rc),
                name_of(zb_error_code(got)));
    zb_error_free(got);
    _fail(file, line);
    return NULL;
  }
  if (zb_error_message(got) == NULL || zb_error_message(got)[0] == '\0') {
    print_error("%s\n  returned %s with an empty message\n", call, name_of(rc));
    zb_error_free(got);
    _fail(file, line);
    return NULL;
  }
  return got;
}

void tu_expect_(zb_status rc, zb_error **err, zb_status expected, const char *call,
                const char *file, int line) {
  zb_error_free(tu_expect_error_(rc, err, expected, call, file, line));
}

void tu_config_set(zb_config *cfg, const char *key, const char *value) {
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_set(cfg, key, value, &err));
}

zb_config *tu_config(const char *const *pairs) {
  zb_config *cfg = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_new(&cfg, &err));
  assert_non_null(cfg);
  for (size_t i = 0; pairs != NULL && pairs[i] != NULL; i += 2) {
    assert_non_null(pairs[i + 1]);
    tu_config_set(cfg, pairs[i], pairs[i + 1]);
  }
  return cfg;
}

zb_stream *tu_open_proto(zb_sdk *sdk, const char *table, const zb_config *cfg) {
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(
      ZB_OK, err,
      zb_stream_new(sdk, table, ZB_RECORD_PROTO, descriptor, descriptor_len, cfg, &stream, &err));
  assert_non_null(stream);
  return stream;
}

zb_stream *tu_open_json(zb_sdk *sdk, const char *table, const zb_config *cfg) {
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_new(sdk, table, ZB_RECORD_JSON, NULL, 0, cfg, &stream, &err));
  assert_non_null(stream);
  return stream;
}

size_t tu_event(int64_t id, const char *payload, uint8_t *buf) {
  const size_t len = zbtest_encode_event(id, payload, buf, TU_EVENT_CAP);
  assert_true(len > 0 && len <= TU_EVENT_CAP);
  return len;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p == end) return false;
    const uint8_t byte = *(*p)++;
    result |= (uint64_t)(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

bool tu_decode_event_id(const uint8_t *data, size_t len, int64_t *id) {
  const uint8_t *p = data;
  const uint8_t *end = data + len;
  bool have_id = false;
  while (p < end) {
    uint64_t key, value;
    if (!read_varint(&p, end, &key)) return false;
    if (key == ((1u << 3) | 0u)) { /* id: varint */
      if (!read_varint(&p, end, &value)) return false;
      *id = (int64_t)value;
      have_id = true;
    } else if (key == ((2u << 3) | 2u)) { /* payload: length-delimited */
      if (!read_varint(&p, end, &value) || value > (uint64_t)(end - p)) return false;
      p += value;
    } else {
      return false;
    }
  }
  return have_id;
}

void tu_assert_stored(zbtest_server *server, const char *table, int64_t index, const void *data,
                      size_t len, bool is_json) {
  const uint8_t *stored = NULL;
  size_t stored_len = 0;
  bool stored_json = !is_json;
  if (!zbtest_server_record(server, table, index, &stored, &stored_len, &stored_json)) {
    print_error("the server has no record %lld in %s\n", (long long)index, table);
    fail();
  }
  if (stored_len != len || memcmp(stored, data, len) != 0 || stored_json != is_json) {
    print_error("record %lld of %s differs: %zu bytes stored (json=%d), %zu expected (json=%d)\n",
                (long long)index, table, stored_len, (int)stored_json, len, (int)is_json);
    fail();
  }
}

void tu_assert_unacked_count(zb_stream *stream, size_t count) {
  zb_records *records = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &records, &err));
  assert_non_null(records);
  const size_t got = zb_records_count(records);
  zb_records_free(records);
  assert_int_equal(got, count);
}

bool tu_poll_one(zb_stream *stream, zb_event *event, int32_t timeout_ms) {
  const zb_event init = ZB_EVENT_INIT;
  *event = init;
  size_t count = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_poll(stream, event, sizeof *event, 1, timeout_ms, &count, &err));
  assert_true(count <= 1);
  if (count == 1) assert_int_equal(event->struct_size, sizeof *event);
  return count == 1;
}

size_t tu_drain_acks(zb_stream *stream, uint64_t *next_ack) {
  size_t seen = 0;
  for (;;) {
    zb_event events[8];
    size_t count = 0;
    zb_error *err = NULL;
    TU_EXPECT(ZB_OK, err, zb_stream_poll(stream, events, sizeof events[0], 8, 0, &count, &err));
    assert_true(count <= 8);
    if (count == 0) return seen;
    for (size_t i = 0; i < count; ++i) {
      if (events[i].type != ZB_EVENT_ACK) {
        print_error("event %zu is of type %d (%llu..%llu, \"%s\"), expected an ack\n", seen + i,
                    (int)events[i].type, (unsigned long long)events[i].first_offset,
                    (unsigned long long)events[i].last_offset, zb_error_message(events[i].error));
        for (size_t j = 0; j < count; ++j) zb_error_free(events[j].error);
        fail();
      }
      assert_null(events[i].error);
      assert_int_equal(events[i].first_offset, *next_ack);
      assert_true(events[i].last_offset >= events[i].first_offset);
      *next_ack = events[i].last_offset + 1;
    }
    seen += count;
  }
}

bool tu_contains(const char *haystack, const char *needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

int64_t tu_thread_record_id(int index, int seq) {
  return (int64_t)index * TU_THREAD_ID_BASE + seq;
}

tu_ingester *tu_ingesters_new(zb_stream *stream, int threads, int per_thread) {
  tu_ingester *ingesters = calloc((size_t)threads, sizeof *ingesters);
  assert_non_null(ingesters);
  for (int t = 0; t < threads; ++t) {
    ingesters[t].stream = stream;
    ingesters[t].index = t;
    ingesters[t].count = per_thread;
    ingesters[t].offsets = calloc((size_t)per_thread, sizeof(uint64_t));
    assert_non_null(ingesters[t].offsets);
  }
  return ingesters;
}

void tu_ingesters_free(tu_ingester *ingesters, int threads) {
  if (ingesters == NULL) return;
  for (int t = 0; t < threads; ++t) free(ingesters[t].offsets);
  free(ingesters);
}

static void *ingest_thread(void *arg) {
  tu_ingester *ingester = arg;
  ingester->self = pthread_self();
  for (int seq = 0; seq < ingester->count; ++seq) {
    uint8_t record[TU_EVENT_CAP];
    char payload[48];
    snprintf(payload, sizeof payload, "thread %d seq %d", ingester->index, seq);
    const size_t len = zbtest_encode_event(tu_thread_record_id(ingester->index, seq), payload,
                                           record, sizeof record);
    zb_error *err = NULL;
    const zb_status rc =
        zb_stream_ingest_proto(ingester->stream, record, len, &ingester->offsets[seq], &err);
    if (rc != ZB_OK) {
      if (ingester->failed++ == 0) {
        snprintf(ingester->first_error, sizeof ingester->first_error, "seq %d: %s: %s", seq,
                 zb_status_name(rc), zb_error_message(err));
      }
      ingester->offsets[seq] = UINT64_MAX;
    }
    zb_error_free(err);
  }
  return NULL;
}

void tu_ingesters_run(tu_ingester *ingesters, int threads) {
  pthread_t *handles = calloc((size_t)threads, sizeof *handles);
  assert_non_null(handles);
  for (int t = 0; t < threads; ++t) {
    assert_int_equal(pthread_create(&handles[t], NULL, ingest_thread, &ingesters[t]), 0);
  }
  for (int t = 0; t < threads; ++t) assert_int_equal(pthread_join(handles[t], NULL), 0);
  free(handles);
  for (int t = 0; t < threads; ++t) {
    if (ingesters[t].failed != 0) {
      print_error("thread %d: %d ingests failed, the first %s\n", t, ingesters[t].failed,
                  ingesters[t].first_error);
      fail();
    }
    for (int seq = 1; seq < ingesters[t].count; ++seq) {
      if (ingesters[t].offsets[seq] <= ingesters[t].offsets[seq - 1]) {
        print_error("thread %d: offset %llu of seq %d follows %llu\n", t,
                    (unsigned long long)ingesters[t].offsets[seq], seq,
                    (unsigned long long)ingesters[t].offsets[seq - 1]);
        fail();
      }
    }
  }
}

bool tu_ingesters_include(const tu_ingester *ingesters, int threads, pthread_t thread) {
  for (int t = 0; t < threads; ++t) {
    if (pthread_equal(ingesters[t].self, thread)) return true;
  }
  return false;
}

void tu_ingesters_verify_stored(const tu_ingester *ingesters, int threads, zbtest_server *server,
                                const char *table) {
  int64_t total = 0;
  for (int t = 0; t < threads; ++t) total += ingesters[t].count;
  assert_int_equal(zbtest_server_record_count(server, table), total);
  int *next_seq = calloc((size_t)threads, sizeof *next_seq);
  assert_non_null(next_seq);
  for (int64_t i = 0; i < total; ++i) {
    const uint8_t *data = NULL;
    size_t len = 0;
    int64_t id = -1;
    assert_true(zbtest_server_record(server, table, i, &data, &len, NULL));
    assert_true(tu_decode_event_id(data, len, &id));
    const int t = (int)(id / TU_THREAD_ID_BASE);
    const int seq = (int)(id % TU_THREAD_ID_BASE);
    if (t < 0 || t >= threads || seq != next_seq[t] || seq >= ingesters[t].count ||
        ingesters[t].offsets[seq] != (uint64_t)i) {
      print_error("record %lld holds thread %d seq %d (expected seq %d, offset %llu)\n",
                  (long long)i, t, seq, t >= 0 && t < threads ? next_seq[t] : -1,
                  t >= 0 && t < threads && seq >= 0 && seq < ingesters[t].count
                      ? (unsigned long long)ingesters[t].offsets[seq]
                      : 0ULL);
      break;
    }
    ++next_seq[t];
  }
  bool complete = true;
  for (int t = 0; t < threads; ++t) complete = complete && next_seq[t] == ingesters[t].count;
  free(next_seq);
  assert_true(complete);
}

struct timespec tu_deadline(int64_t ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += (time_t)(ms / 1000);
  deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  return deadline;
}

size_t tu_big_event(int64_t id, size_t payload_len, uint8_t **out) {
  char *payload = malloc(payload_len + 1);
  assert_non_null(payload);
  memset(payload, 'x', payload_len);
  payload[payload_len] = '\0';
  const size_t cap = payload_len + 32;
  *out = malloc(cap);
  assert_non_null(*out);
  const size_t len = zbtest_encode_event(id, payload, *out, cap);
  free(payload);
  assert_true(len <= cap);
  return len;
}

void tu_event_log_init(tu_event_log *log) {
  memset(log, 0, sizeof *log);
  pthread_mutex_init(&log->mu, NULL);
  pthread_cond_init(&log->cv, NULL);
}

void tu_event_log_fini(tu_event_log *log) {
  pthread_cond_destroy(&log->cv);
  pthread_mutex_destroy(&log->mu);
}

static void event_log_violation(tu_event_log *log, const char *what, const zb_event *event) {
  if (log->violations++ == 0) {
    snprintf(log->what, sizeof log->what, "%s: type %d, offsets %llu..%llu (expected %llu)", what,
             (int)event->type, (unsigned long long)event->first_offset,
             (unsigned long long)event->last_offset, (unsigned long long)log->next_ack);
  }
}

void tu_event_log_cb(zb_stream *stream, const zb_event *event, void *user_data) {
  tu_event_log *log = user_data;
  (void)stream;
  pthread_mutex_lock(&log->mu);
  if (event->struct_size < sizeof(zb_event)) {
    event_log_violation(log, "struct_size too small", event);
  } else if (event->first_offset != log->next_ack) {
    event_log_violation(log, event->first_offset < log->next_ack ? "overlap" : "gap", event);
  } else if (event->last_offset < event->first_offset) {
    event_log_violation(log, "backwards range", event);
  } else if (event->type == ZB_EVENT_ACK) {
    if (event->error != NULL) event_log_violation(log, "an ack with an error", event);
    log->next_ack = event->last_offset + 1;
    ++log->acks;
  } else if (event->type == ZB_EVENT_ERROR) {
    if (event->error == NULL) {
      event_log_violation(log, "an error event without an error", event);
    } else if (log->errors++ == 0) {
      log->error_first = event->first_offset;
      log->error_last = event->last_offset;
      log->error_code = zb_error_code(event->error);
      log->error_grpc = zb_error_grpc_status(event->error);
      log->error_retryable = zb_error_is_retryable(event->error);
      log->error_has_message = zb_error_message(event->error)[0] != '\0';
    }
    log->next_ack = event->last_offset + 1;
  } else {
    event_log_violation(log, "unknown event type", event);
  }
  pthread_cond_broadcast(&log->cv);
  pthread_mutex_unlock(&log->mu);
}

void tu_event_log_free(void *user_data) {
  tu_event_log *log = user_data;
  pthread_mutex_lock(&log->mu);
  ++log->freed;
  pthread_cond_broadcast(&log->cv);
  pthread_mutex_unlock(&log->mu);
}

bool tu_event_log_wait_errors(tu_event_log *log, int errors, int64_t timeout_ms) {
  const struct timespec deadline = tu_deadline(timeout_ms);
  pthread_mutex_lock(&log->mu);
  while (log->errors < errors) {
    if (pthread_cond_timedwait(&log->cv, &log->mu, &deadline) != 0) break;
  }
  const bool reached = log->errors >= errors;
  pthread_mutex_unlock(&log->mu);
  return reached;
}

tu_event_log tu_event_log_snapshot(tu_event_log *log) {
  pthread_mutex_lock(&log->mu);
  tu_event_log copy = *log;
  pthread_mutex_unlock(&log->mu);
  return copy;
}
