/* Persistent streams through the C API (issue 23), against the local server over real gRPC:
 * a stream created, closed and resumed continues its offsets after the watermark; a broken
 * call resumes inside the process and stores nothing twice, where an ephemeral stream stores
 * the records of the lost acks again; the refusals (a retired or unknown id, another record
 * type or descriptor, a stream another call holds, lanes) each with its own code; a producer
 * process killed with SIGKILL mid-stream, and this process resuming its stream by id: every
 * record exactly once. */
#define ZB_EXPERIMENTAL_PERSISTENT
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

/* The server's data directory: one test at a time. */
static char data_dir[64];

enum { kGrpcFailedPrecondition = 9, kGrpcAborted = 10 };

static zb_stream *create_persistent(zb_sdk *sdk, const zb_config *cfg) {
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_stream_new_persistent(sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor, descriptor_len,
                                     cfg, &stream, &err));
  assert_non_null(stream);
  return stream;
}

static zb_status resume_persistent(zb_sdk *sdk, const char *id, const zb_config *cfg,
                                   zb_stream **out, zb_error **err) {
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  return zb_stream_resume(sdk, TU_TABLE, id, ZB_RECORD_PROTO, descriptor, descriptor_len, cfg, out,
                          err);
}

/* The stream's durable id, in a new string the caller frees (zb_string_free()). */
static char *persistent_id(zb_stream *stream) {
  char *id = NULL;
  size_t len = 0;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_persistent_id(stream, &id, &len, &err));
  assert_non_null(id);
  assert_true(len > 0);
  assert_int_equal(strlen(id), len);
  return id;
}

/* Asserts that `table` holds Event ids 0 .. count-1, each exactly once, in order. */
static void assert_ids_once(zbtest_server *server, int64_t count) {
  assert_int_equal(zbtest_server_record_count(server, TU_TABLE), count);
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t *data;
    size_t len;
    assert_int_equal(tu_stored_event_id(server, TU_TABLE, i, &data, &len), i);
  }
}

static void test_resume_continues_after_the_watermark(void **state) {
  tu_env *env = ENV(state);
  zb_stream *created = create_persistent(env->sdk, NULL);
  int32_t has_committed = -1;
  uint64_t last_committed = 99;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_resume_watermark(created, &has_committed, &last_committed, &err));
  assert_int_equal(has_committed, 0);
  assert_int_equal(last_committed, 0);
  assert_int_equal(tu_ingest_and_flush(created, 0, 40, "first"), 39);
  char *id = persistent_id(created);
  tu_close_and_destroy(created);

  zb_stream *resumed = NULL;
  TU_EXPECT(ZB_OK, err, resume_persistent(env->sdk, id, NULL, &resumed, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_resume_watermark(resumed, &has_committed, &last_committed, &err));
  assert_int_equal(has_committed, 1);
  assert_int_equal(last_committed, 39);
  char *same = persistent_id(resumed);
  assert_string_equal(same, id);
  zb_string_free(same);
  /* Offsets continue at the watermark + 1, the record ids with them. */
  uint64_t offset = 0;
  uint8_t record[TU_EVENT_CAP];
  const size_t len = tu_event(40, "second", record);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_proto(resumed, record, len, &offset, &err));
  assert_int_equal(offset, 40);
  tu_batch batch;
  tu_batch_fill(&batch, 9, 41, "second");
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(resumed, batch.pointers, batch.lens, batch.count, &offset,
                                         &err));
  assert_int_equal(offset, 49);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(resumed, 30000, &err));
  const zb_stream_info info = tu_stream_info(resumed);
  assert_int_equal(info.records_acked, 50);
  tu_close_and_destroy(resumed);
  /* One request per record: 50 records, 50 requests. */
  assert_int_equal(zbtest_server_requests(env->server), 50);
  assert_ids_once(env->server, 50);
  zb_string_free(id);
}

/* The call breaks after the server stored 60 records whose acks it withheld: the stream
 * resumes by its id, learns they are committed, and sends only what follows. `persistent`
 * false runs the same on an ephemeral stream, which replays them: the contrast. */
static int64_t stored_after_lost_acks(tu_env *env, bool persistent) {
  zb_config *cfg = tu_config((const char *const[]){"recovery.backoff.ms", "1", NULL});
  zb_stream *stream =
      persistent ? create_persistent(env->sdk, cfg) : tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 0, 60, "acks lost");
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 60, 30000));
  /* The request after them ends the call; the next call stores it. */
  zbtest_server_fail_after(env->server, 0, TU_GRPC_UNAVAILABLE, "connection lost");
  tu_ingest_events(stream, 60, 1, "after the break");
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, persistent ? 61 : 121, 30000));
  zbtest_server_withhold_acks(env->server, false);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_flush(stream, 30000, &err));
  const zb_stream_info info = tu_stream_info(stream);
  assert_int_equal(info.recoveries, 1);
  /* The persistent stream sent again only the record the failed call refused. */
  if (persistent) assert_int_equal(info.records_replayed, 1);
  uint64_t next_ack = 0;
  tu_drain_acks(stream, &next_ack);
  assert_int_equal(next_ack, 61);
  tu_close_and_destroy(stream);
  return zbtest_server_record_count(env->server, TU_TABLE);
}

static void test_break_resumes_without_duplicates(void **state) {
  tu_env *env = ENV(state);
  assert_int_equal(stored_after_lost_acks(env, true), 61);
  assert_ids_once(env->server, 61);
}

static void test_ephemeral_stream_stores_lost_acks_twice(void **state) {
  assert_int_equal(stored_after_lost_acks(ENV(state), false), 121);
}

static void test_refusals(void **state) {
  tu_env *env = ENV(state);
  zb_config *cfg =
      tu_config((const char *const[]){"recovery.retries", "1", "recovery.backoff.ms", "1", NULL});
  zb_stream *created = create_persistent(env->sdk, cfg);
  tu_ingest_and_flush(created, 0, 5, "kept");
  char *id = persistent_id(created);

  /* Another call holds the stream: ABORTED, retried, then returned. */
  zb_stream *second = NULL;
  zb_error *err = NULL;
  TU_EXPECT_TRANSPORT(kGrpcAborted, 1, err, resume_persistent(env->sdk, id, cfg, &second, &err));
  assert_null(second);
  tu_close_and_destroy(created);

  /* Another record type, another descriptor. */
  TU_EXPECT_TRANSPORT(
      TU_GRPC_INVALID_ARGUMENT, 0, err,
      zb_stream_resume(env->sdk, TU_TABLE, id, ZB_RECORD_JSON, NULL, 0, cfg, &second, &err));
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  uint8_t *renamed = malloc(descriptor_len);
  memcpy(renamed, descriptor, descriptor_len);
  /* The message's name, "Event" in the descriptor's first field: the same length, another name. */
  uint8_t *name = memchr(renamed, 'E', descriptor_len);
  assert_non_null(name);
  *name = 'F';
  TU_EXPECT_TRANSPORT(TU_GRPC_INVALID_ARGUMENT, 0, err,
                      zb_stream_resume(env->sdk, TU_TABLE, id, ZB_RECORD_PROTO, renamed,
                                       descriptor_len, cfg, &second, &err));
  free(renamed);

  /* Unknown, then retired: final at once. */
  TU_EXPECT_TRANSPORT(TU_GRPC_NOT_FOUND, 0, err,
                      resume_persistent(env->sdk, "no-such-stream", cfg, &second, &err));
  TU_EXPECT_TRANSPORT(TU_GRPC_NOT_FOUND, 0, err,
                      zb_stream_retire(env->sdk, TU_TABLE, "no-such-stream", cfg, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_retire(env->sdk, TU_TABLE, id, cfg, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_retire(env->sdk, TU_TABLE, id, cfg, &err));
  const int64_t opened = zbtest_server_streams_opened(env->server);
  TU_EXPECT_TRANSPORT(kGrpcFailedPrecondition, 0, err,
                      resume_persistent(env->sdk, id, cfg, &second, &err));
  assert_null(second);
  /* One attempt each, not retried. */
  assert_int_equal(zbtest_server_streams_opened(env->server), opened);

  /* Lanes are refused before any connection. */
  zb_config *laned = tu_config((const char *const[]){"stream.lanes", "2", NULL});
  TU_EXPECT(ZB_ERR_INVALID_ARG, err,
            zb_stream_new_persistent(env->sdk, TU_TABLE, ZB_RECORD_PROTO, descriptor,
                                     descriptor_len, laned, &second, &err));
  zb_config_destroy(laned);
  /* The accessors refuse an ephemeral stream. */
  zb_stream *ephemeral = tu_open_proto(env->sdk, TU_TABLE, NULL);
  char *none = NULL;
  TU_EXPECT(ZB_ERR_STATE, err, zb_stream_persistent_id(ephemeral, &none, NULL, &err));
  int32_t has_committed;
  uint64_t last_committed;
  TU_EXPECT(ZB_ERR_STATE, err,
            zb_stream_resume_watermark(ephemeral, &has_committed, &last_committed, &err));
  tu_close_and_destroy(ephemeral);

  assert_ids_once(env->server, 5);
  zb_string_free(id);
  zb_config_destroy(cfg);
}

/* zb_stream_recreate() of a persistent stream resumes it: what the server committed is not
 * sent again. The stream fails on a final code; the recreated one's resume may meet the failed
 * call still holding the stream on the server (ABORTED), which it retries. */
static void test_recreate_resumes(void **state) {
  tu_env *env = ENV(state);
  zb_config *cfg = tu_config((const char *const[]){"recovery.backoff.ms", "20", NULL});
  zb_stream *stream = create_persistent(env->sdk, cfg);
  zb_config_destroy(cfg);
  zbtest_server_withhold_acks(env->server, true);
  tu_ingest_events(stream, 0, 20, "withheld");
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, 20, 30000));
  zbtest_server_fail_after(env->server, 0, TU_GRPC_INVALID_ARGUMENT, "refused for good");
  /* One batch: ingested one by one, the later records could meet the stream already failed. */
  tu_batch refused;
  tu_batch_fill(&refused, 5, 20, "refused");
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err,
            zb_stream_ingest_proto_batch(stream, refused.pointers, refused.lens, refused.count,
                                         NULL, &err));
  uint64_t next_ack = 0;
  tu_poll_error_event(stream, 30000, &next_ack);
  zbtest_server_withhold_acks(env->server, false);
  tu_assert_unacked_count(stream, 25);
  zb_stream *fresh = NULL;
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &fresh, &err));
  zb_stream_destroy(stream);
  TU_EXPECT(ZB_OK, err, zb_stream_flush(fresh, 30000, &err));
  const zb_stream_info info = tu_stream_info(fresh);
  assert_int_equal(info.records_accepted, 25);
  tu_close_and_destroy(fresh);
  assert_ids_once(env->server, 25);
}

/* persistent_producer (PERSISTENT_PRODUCER) creates a stream and ingests Event{id = offset}
 * for offsets 0 .. kProduced-1; it is killed with SIGKILL once the server stored kBeforeKill of
 * them. This process then resumes the stream by the id the producer saved: the watermark must
 * be exactly what the server stored, and the records after it complete the run, each once. */
enum { kProduced = 30000, kBeforeKill = 3000 };

static void test_killed_producer_resumed_by_another_process(void **state) {
  tu_env *env = ENV(state);
  char id_file[128];
  snprintf(id_file, sizeof id_file, "%s/stream-id", data_dir);
  char count[32];
  snprintf(count, sizeof count, "%d", kProduced);
  char *argv[] = {PERSISTENT_PRODUCER,
                  (char *)zbtest_server_endpoint(env->server),
                  TU_TABLE,
                  id_file,
                  count,
                  NULL};
  extern char **environ;
  pid_t producer;
  assert_int_equal(posix_spawn(&producer, PERSISTENT_PRODUCER, NULL, NULL, argv, environ), 0);
  assert_true(zbtest_server_wait_records(env->server, TU_TABLE, kBeforeKill, 60000));
  assert_int_equal(kill(producer, SIGKILL), 0);
  int status = 0;
  assert_int_equal(waitpid(producer, &status, 0), producer);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  char id[256] = "";
  FILE *saved = fopen(id_file, "r");
  assert_non_null(saved);
  assert_non_null(fgets(id, sizeof id, saved));
  fclose(saved);
  /* The server may not have ended the killed producer's call yet: ABORTED, retried. */
  zb_config *cfg = tu_config(
      (const char *const[]){"recovery.backoff.ms", "20", "recovery.retries", "100", NULL});
  zb_stream *resumed = NULL;
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, resume_persistent(env->sdk, id, cfg, &resumed, &err));
  zb_config_destroy(cfg);
  int32_t has_committed = 0;
  uint64_t last_committed = 0;
  TU_EXPECT(ZB_OK, err, zb_stream_resume_watermark(resumed, &has_committed, &last_committed, &err));
  assert_int_equal(has_committed, 1);
  const int64_t stored = zbtest_server_record_count(env->server, TU_TABLE);
  printf("producer killed after %lld records stored; resumed at committed offset %llu\n",
         (long long)stored, (unsigned long long)last_committed);
  assert_true(stored >= kBeforeKill && stored < kProduced);
  assert_int_equal(last_committed + 1, stored);
  tu_ingest_events(resumed, (int64_t)last_committed + 1, kProduced - (int)stored, "after");
  TU_EXPECT(ZB_OK, err, zb_stream_flush(resumed, 60000, &err));
  tu_close_and_destroy(resumed);
  assert_ids_once(env->server, kProduced);
}

static int setup_with_data_dir(void **state) {
  strcpy(data_dir, "/tmp/zb_persistent_test.XXXXXX");
  if (mkdtemp(data_dir) == NULL) return -1;
  zbtest_server_options options;
  memset(&options, 0, sizeof options);
  options.data_dir = data_dir;
  return tu_setup_with(state, &options);
}

static int teardown_with_data_dir(void **state) {
  const int rc = tu_teardown(state);
  tu_remove_directory(data_dir);
  return rc;
}

#define PERSISTENT_TEST(test) \
  cmocka_unit_test_setup_teardown(test, setup_with_data_dir, teardown_with_data_dir)

int main(void) {
  const struct CMUnitTest tests[] = {
      PERSISTENT_TEST(test_resume_continues_after_the_watermark),
      PERSISTENT_TEST(test_break_resumes_without_duplicates),
      PERSISTENT_TEST(test_ephemeral_stream_stores_lost_acks_twice),
      PERSISTENT_TEST(test_refusals),
      PERSISTENT_TEST(test_recreate_resumes),
      PERSISTENT_TEST(test_killed_producer_resumed_by_another_process),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
