#include "test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tu_setup(void **state) {
  return tu_setup_with(state, NULL);
}

zbtest_server *tu_start_restartable_server(char *data_dir, zbtest_server_options *options) {
  assert_non_null(mkdtemp(data_dir));
  memset(options, 0, sizeof *options);
  options->data_dir = data_dir;
  zbtest_server *server = zbtest_server_start(options);
  assert_non_null(server);
  options->port = atoi(strrchr(zbtest_server_endpoint(server), ':') + 1);
  return server;
}

int tu_setup_with(void **state, const zbtest_server_options *options) {
  tu_env *env = calloc(1, sizeof *env);
  if (env == NULL) return -1;
  env->server = zbtest_server_start(options);
  if (env->server == NULL) {
    free(env);
    return -1;
  }
  zb_error *err = NULL;
  zb_config *plaintext = NULL;
  /* The local server speaks plaintext, which the SDK speaks only when asked to. */
  const bool made =
      zb_config_new(&plaintext, &err) == ZB_OK &&
      zb_config_set(plaintext, "transport.plaintext", "true", &err) == ZB_OK &&
      zb_config_set(plaintext, "transport.engine", tu_engine(), &err) == ZB_OK &&
      zb_sdk_new(zbtest_server_endpoint(env->server), plaintext, &env->sdk, &err) == ZB_OK;
  zb_config_destroy(plaintext);
  if (!made) {
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

void tu_expect_transport(zb_error *err, int grpc_status, int retryable) {
  assert_non_null(err);
  assert_int_equal(zb_error_code(err), ZB_ERR_TRANSPORT);
  if (zb_error_grpc_status(err) != grpc_status || zb_error_is_retryable(err) != retryable) {
    print_error("\"%s\": grpc status %d (expected %d), retryable %d (expected %d)\n",
                zb_error_message(err), (int)zb_error_grpc_status(err), grpc_status,
                (int)zb_error_is_retryable(err), retryable);
  }
  assert_int_equal(zb_error_grpc_status(err), grpc_status);
  assert_int_equal(zb_error_is_retryable(err), retryable);
  zb_error_free(err);
}

const char *tu_engine(void) {
  const char *engine = getenv("ZBTEST_TRANSPORT_ENGINE");
  return engine != NULL && engine[0] != '\0' ? engine : "http2";
}

zb_sdk *tu_plaintext_sdk(const char *endpoint) {
  const char *const plaintext[] = {"transport.plaintext", "true", "transport.engine", tu_engine(),
                                   NULL};
  zb_config *cfg = tu_config(plaintext);
  zb_sdk *sdk = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(endpoint, cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
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

zb_stream *tu_open_proto_configured(zb_sdk *sdk, const char *table, const char *const *pairs) {
  zb_config *cfg = tu_config(pairs);
  zb_stream *stream = tu_open_proto(sdk, table, cfg);
  zb_config_destroy(cfg);
  return stream;
}

/* tu_open_proto() with a config that has the event callback `event_cb` or the wakeup `wakeup`
 * (the other one NULL). */
static zb_stream *open_proto_with_callback(zb_sdk *sdk, const char *table, zb_event_cb event_cb,
                                           zb_wakeup_cb wakeup, void *user_data,
                                           zb_free_cb free_user_data) {
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  if (event_cb != NULL) {
    TU_EXPECT(ZB_OK, err,
              zb_config_set_event_callback(cfg, event_cb, user_data, free_user_data, &err));
  } else {
    TU_EXPECT(ZB_OK, err, zb_config_set_wakeup(cfg, wakeup, user_data, free_user_data, &err));
  }
  zb_stream *stream = tu_open_proto(sdk, table, cfg);
  zb_config_destroy(cfg);
  return stream;
}

zb_stream *tu_open_proto_with_event_cb(zb_sdk *sdk, const char *table, zb_event_cb cb,
                                       void *user_data, zb_free_cb free_user_data) {
  return open_proto_with_callback(sdk, table, cb, NULL, user_data, free_user_data);
}

zb_stream *tu_open_proto_with_wakeup(zb_sdk *sdk, const char *table, zb_wakeup_cb cb,
                                     void *user_data, zb_free_cb free_user_data) {
  return open_proto_with_callback(sdk, table, NULL, cb, user_data, free_user_data);
}

void tu_close_and_destroy(zb_stream *stream) {
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 10000, &err));
  zb_stream_destroy(stream);
}

zb_error *tu_open_error_(zb_sdk *sdk, const char *table, zb_record_type record_type,
                         const zb_config *cfg, zb_status expected, const char *call,
                         const char *file, int line) {
  const uint8_t *descriptor = NULL;
  size_t descriptor_len = 0;
  if (record_type == ZB_RECORD_PROTO) zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  const zb_status rc =
      zb_stream_new(sdk, table, record_type, descriptor, descriptor_len, cfg, &stream, &err);
  zb_error *got = tu_expect_error_(rc, &err, expected, call, file, line);
  if (stream != NULL) {
    print_error("%s\n  failed but handed back a stream\n", call);
    zb_stream_destroy(stream);
    zb_error_free(got);
    _fail(file, line);
  }
  return got;
}

size_t tu_event(int64_t id, const char *payload, uint8_t *buf) {
  const size_t len = zbtest_encode_event(id, payload, buf, TU_EVENT_CAP);
  assert_true(len > 0 && len <= TU_EVENT_CAP);
  return len;
}

static void batch_fill(tu_batch *batch, int count, int64_t first_id, const char *payload,
                       bool numbered) {
  assert_true(count >= 0 && count <= TU_BATCH_MAX);
  batch->count = (size_t)count;
  for (int i = 0; i < count; ++i) {
    char numbered_payload[64];
    if (numbered) snprintf(numbered_payload, sizeof numbered_payload, "%s%d", payload, i);
    batch->lens[i] =
        tu_event(first_id + i, numbered ? numbered_payload : payload, batch->records[i]);
    batch->pointers[i] = batch->records[i];
  }
}

void tu_batch_fill(tu_batch *batch, int count, int64_t first_id, const char *payload) {
  batch_fill(batch, count, first_id, payload, false);
}

void tu_batch_fill_numbered(tu_batch *batch, int count, int64_t first_id, const char *prefix) {
  batch_fill(batch, count, first_id, prefix, true);
}

uint64_t tu_ingest_events(zb_stream *stream, int64_t first_id, int count, const char *payload) {
  uint64_t last = UINT64_MAX;
  for (int i = 0; i < count; ++i) {
    uint8_t record[TU_EVENT_CAP];
    const size_t len = tu_event(first_id + i, payload, record);
    uint64_t offset = UINT64_MAX;
    zb_error *err = NULL;
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(stream, record, len, &offset, &err));
    if (i > 0) assert_int_equal(offset, last + 1);
    last = offset;
  }
  return last;
}

uint64_t tu_ingest_and_flush(zb_stream *stream, int64_t first_id, int count, const char *payload) {
  const uint64_t last = tu_ingest_events(stream, first_id, count, payload);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 10000, &err));
  return last;
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

void tu_assert_stored_batch(zbtest_server *server, const char *table, int64_t first_index,
                            const tu_batch *batch) {
  for (size_t i = 0; i < batch->count; ++i) {
    tu_assert_stored(server, table, first_index + (int64_t)i, batch->records[i], batch->lens[i],
                     false);
  }
}

int64_t tu_stored_event_id(zbtest_server *server, const char *table, int64_t index,
                           const uint8_t **data, size_t *len) {
  int64_t id = -1;
  assert_true(zbtest_server_record(server, table, index, data, len, NULL));
  assert_true(tu_decode_event_id(*data, *len, &id));
  return id;
}

/* The stream's unacknowledged records, asserting that zb_stream_unacked() succeeds. */
static zb_records *unacked_of(zb_stream *stream) {
  zb_records *records = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &records, &err));
  assert_non_null(records);
  return records;
}

void tu_assert_unacked_count(zb_stream *stream, size_t count) {
  zb_records *records = unacked_of(stream);
  const size_t got = zb_records_count(records);
  zb_records_free(records);
  assert_int_equal(got, count);
}

void tu_assert_records(const zb_records *list, uint64_t first_offset, const void *const *records,
                       const size_t *lens, size_t count) {
  assert_non_null(list);
  assert_int_equal(zb_records_count(list), count);
  for (size_t i = 0; i < count; ++i) {
    const void *data = NULL;
    size_t len = 0;
    uint64_t offset = 0;
    zb_error *err = NULL;
    TU_EXPECT(ZB_OK, err, zb_records_get(list, i, &data, &len, &offset, &err));
    assert_int_equal(offset, first_offset + i);
    assert_int_equal(len, lens[i]);
    assert_memory_equal(data, records[i], len);
  }
}

void tu_assert_unacked(zb_stream *stream, uint64_t first_offset, const void *const *records,
                       const size_t *lens, size_t count) {
  zb_records *list = unacked_of(stream);
  tu_assert_records(list, first_offset, records, lens, count);
  zb_records_free(list);
}

zb_stream_info tu_stream_info(zb_stream *stream) {
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_get_info(stream, &info, &err));
  return info;
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

/* Checks that an event covering first..last comes right after the ones before it (*next_ack),
 * and moves *next_ack past it. */
static void expect_next_range(uint64_t *next_ack, uint64_t first, uint64_t last) {
  assert_int_equal(first, *next_ack);
  assert_true(last >= first);
  *next_ack = last + 1;
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
      expect_next_range(next_ack, events[i].first_offset, events[i].last_offset);
    }
    seen += count;
  }
}

static tu_error_event error_event_of(const zb_event *event) {
  tu_error_event error;
  error.first_offset = event->first_offset;
  error.last_offset = event->last_offset;
  error.code = zb_error_code(event->error);
  error.grpc_status = zb_error_grpc_status(event->error);
  error.retryable = zb_error_is_retryable(event->error);
  snprintf(error.message, sizeof error.message, "%s", zb_error_message(event->error));
  return error;
}

void tu_assert_error_event(const tu_error_event *event, uint64_t first, uint64_t last,
                           zb_status code) {
  if (event->first_offset != first || event->last_offset != last || event->code != code) {
    print_error("error event %llu..%llu %s (\"%s\"), expected %llu..%llu %s\n",
                (unsigned long long)event->first_offset, (unsigned long long)event->last_offset,
                name_of(event->code), event->message, (unsigned long long)first,
                (unsigned long long)last, name_of(code));
  }
  assert_int_equal(event->first_offset, first);
  assert_int_equal(event->last_offset, last);
  assert_int_equal(event->code, code);
  assert_true(event->message[0] != '\0');
}

tu_error_event tu_poll_error_event(zb_stream *stream, int64_t timeout_ms, uint64_t *next_ack) {
  const int64_t deadline = tu_now_ms() + timeout_ms;
  for (;;) {
    const int64_t left = deadline - tu_now_ms();
    zb_event event;
    if (!tu_poll_one(stream, &event, (int32_t)(left < 0 ? 0 : left < 1000 ? left : 1000))) {
      if (left <= 0) break;
      continue;
    }
    if (event.type == ZB_EVENT_ERROR) {
      const tu_error_event error = error_event_of(&event);
      zb_error_free(event.error);
      expect_next_range(next_ack, error.first_offset, error.last_offset);
      return error;
    }
    if (event.type != ZB_EVENT_ACK || event.error != NULL) {
      print_error("an event of type %d (\"%s\") before the error event\n", (int)event.type,
                  zb_error_message(event.error));
      zb_error_free(event.error);
      fail();
    }
    expect_next_range(next_ack, event.first_offset, event.last_offset);
  }
  print_error("no error event within %lld ms (acks up to offset %llu)\n", (long long)timeout_ms,
              (unsigned long long)*next_ack);
  fail();
  tu_error_event none;
  memset(&none, 0, sizeof none);
  return none;
}

void tu_remove_directory(const char *path) {
  DIR *dir = opendir(path);
  assert_non_null(dir);
  struct dirent *entry;
  char file[512];
  while ((entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    snprintf(file, sizeof file, "%s/%s", path, entry->d_name);
    assert_int_equal(unlink(file), 0);
  }
  closedir(dir);
  assert_int_equal(rmdir(path), 0);
}

bool tu_contains(const char *haystack, const char *needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

void tu_expect_message(zb_error *err, const char *needle) {
  assert_non_null(err);
  if (!tu_contains(zb_error_message(err), needle)) {
    print_error("message \"%s\" does not contain \"%s\"\n", zb_error_message(err), needle);
    fail();
  }
  zb_error_free(err);
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

static pthread_key_t thread_role_key;
static pthread_once_t thread_role_once = PTHREAD_ONCE_INIT;

static void make_thread_role_key(void) {
  assert_int_equal(pthread_key_create(&thread_role_key, NULL), 0);
}

void tu_set_thread_role(const char *role) {
  pthread_once(&thread_role_once, make_thread_role_key);
  assert_int_equal(pthread_setspecific(thread_role_key, role), 0);
}

const char *tu_thread_role(void) {
  pthread_once(&thread_role_once, make_thread_role_key);
  return pthread_getspecific(thread_role_key);
}

static void *ingest_thread(void *arg) {
  tu_ingester *ingester = arg;
  tu_set_thread_role("ingesting");
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
    const int64_t id = tu_stored_event_id(server, table, i, &data, &len);
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

zb_stream *tu_open_proto_with_event_log(zb_sdk *sdk, const char *table, tu_event_log *log) {
  tu_event_log_init(log);
  zb_stream *stream =
      tu_open_proto_with_event_cb(sdk, table, tu_event_log_cb, log, tu_event_log_free);
  pthread_mutex_lock(&log->mu);
  log->stream = stream;
  pthread_mutex_unlock(&log->mu);
  return stream;
}

static void event_log_violation(tu_event_log *log, const char *what, const zb_event *event) {
  if (log->violations++ == 0) {
    snprintf(log->what, sizeof log->what, "%s: type %d, offsets %llu..%llu (expected %llu)", what,
             (int)event->type, (unsigned long long)event->first_offset,
             (unsigned long long)event->last_offset, (unsigned long long)log->next_ack);
  }
}

/* Adds the calling thread to the log's distinct threads. */
static void event_log_thread(tu_event_log *log, const zb_event *event) {
  /* A poller hands its events in on its own thread; an ingesting thread never runs them. */
  const char *role = tu_thread_role();
  if (role != NULL && strcmp(role, "ingesting") == 0) {
    event_log_violation(log, "an event on an ingesting thread", event);
  }
  for (int i = 0; i < log->thread_count; ++i) {
    if (pthread_equal(log->threads[i], pthread_self())) return;
  }
  if (log->thread_count < TU_EVENT_LOG_THREADS) {
    log->threads[log->thread_count++] = pthread_self();
  } else {
    event_log_violation(log, "the callback ran on one thread too many", event);
  }
}

void tu_event_log_cb(zb_stream *stream, const zb_event *event, void *user_data) {
  tu_event_log *log = user_data;
  pthread_mutex_lock(&log->mu);
  event_log_thread(log, event);
  if (log->stream != NULL && stream != log->stream) {
    event_log_violation(log, "an event of another stream", event);
  }
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
      log->error = error_event_of(event);
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

bool tu_event_log_wait_acked(tu_event_log *log, uint64_t next_ack, int64_t timeout_ms) {
  pthread_mutex_lock(&log->mu);
  TU_WAIT_UNTIL(&log->cv, &log->mu, log->next_ack >= next_ack, timeout_ms);
  const bool reached = log->next_ack >= next_ack;
  pthread_mutex_unlock(&log->mu);
  return reached;
}

bool tu_event_log_wait_errors(tu_event_log *log, int errors, int64_t timeout_ms) {
  pthread_mutex_lock(&log->mu);
  TU_WAIT_UNTIL(&log->cv, &log->mu, log->errors >= errors, timeout_ms);
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

tu_event_log tu_event_log_checked(tu_event_log *log) {
  const tu_event_log seen = tu_event_log_snapshot(log);
  if (seen.violations != 0)
    print_error("%d bad events, the first: %s\n", seen.violations, seen.what);
  assert_int_equal(seen.violations, 0);
  return seen;
}
