/* A thousand streams with event callbacks on one SDK: the process's threads follow the SDK, not
 * its streams (a supervision and a dispatch pool of a few threads each), every stream's
 * acknowledgements still arrive in order, and destroying the SDK and then the streams, all of
 * them open, is clean (ctest -L concurrency: also under ThreadSanitizer, and under
 * AddressSanitizer with the rest). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define STREAMS 1000
/* Records per stream in each round, one ingest call each: several acknowledgements a stream. */
#define RECORDS 3
/* What the library may add to the threads it ran with one stream open: the rest of its two
 * pools (supervision.threads 2 and dispatch.threads 4, the defaults, of which one each may
 * already run), and a few that gRPC may start for the heavier load. A thread or two a stream,
 * as before, would be a thousand more. */
#define THREAD_ALLOWANCE 8
#define PATIENCE_MS 120000

static tu_event_log g_logs[STREAMS];
static zb_stream *g_streams[STREAMS];

/* The process's threads, as /proc/self/task lists them: all of them with `name` NULL, else
 * those of that name. */
static int thread_count(const char *name) {
  DIR *tasks = opendir("/proc/self/task");
  assert_non_null(tasks);
  int count = 0;
  for (struct dirent *entry = readdir(tasks); entry; entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    char path[300], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", entry->d_name);
    FILE *file = fopen(path, "r");
    if (file == NULL) continue; /* the thread ended meanwhile */
    if (fgets(comm, sizeof comm, file) == NULL) comm[0] = '\0';
    fclose(file);
    comm[strcspn(comm, "\n")] = '\0';
    if (name == NULL || strcmp(comm, name) == 0) ++count;
  }
  closedir(tasks);
  return count;
}

/* Opens streams [first, last) and ingests RECORDS records into each. */
static void open_and_ingest(zb_sdk *sdk, int first, int last) {
  for (int i = first; i < last; ++i) {
    g_streams[i] = tu_open_proto_with_event_log(sdk, TU_TABLE, &g_logs[i]);
    tu_ingest_events(g_streams[i], (int64_t)i * 100, RECORDS, "fleet");
  }
}

/* Asserts that streams [first, last) have had every offset below `acked` acknowledged, in
 * order, and no error. */
static void assert_acked(int first, int last, uint64_t acked) {
  for (int i = first; i < last; ++i) {
    if (!tu_event_log_wait_acked(&g_logs[i], acked, PATIENCE_MS)) {
      print_error("stream %d: not acknowledged up to %llu\n", i, (unsigned long long)acked);
    }
    const tu_event_log seen = tu_event_log_checked(&g_logs[i]);
    assert_true(seen.next_ack >= acked);
    assert_int_equal(seen.errors, 0);
  }
}

static void test_a_thousand_streams_share_the_sdks_threads(void **state) {
  tu_env *env = *state;
  open_and_ingest(env->sdk, 0, 1);
  assert_acked(0, 1, RECORDS);
  const int with_one = thread_count(NULL);

  open_and_ingest(env->sdk, 1, STREAMS);
  assert_acked(0, STREAMS, RECORDS);
  const int with_all = thread_count(NULL);
  const int dispatch = thread_count("zb-dispatch"), supervise = thread_count("zb-supervise");
  fprintf(stderr,
          "threads: %d with one stream open, %d with %d (allowance %d); of them %d zb-dispatch, "
          "%d zb-supervise\n",
          with_one, with_all, STREAMS, THREAD_ALLOWANCE, dispatch, supervise);
  assert_true(with_all <= with_one + THREAD_ALLOWANCE);
  /* The pools, at most as large as their defaults. */
  assert_in_range(dispatch, 1, 4);
  assert_in_range(supervise, 1, 2);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), STREAMS * RECORDS);

  /* The streams outlive their SDK's handle, and keep working on its threads. */
  zb_sdk_destroy(env->sdk);
  env->sdk = NULL;
  for (int i = 0; i < STREAMS; ++i) {
    tu_ingest_events(g_streams[i], (int64_t)i * 100 + RECORDS, RECORDS, "after");
  }
  assert_acked(0, STREAMS, 2 * RECORDS);

  /* Destroyed open, none closed, one more record each in flight: each destroy is a barrier
   * that frees its registration; the last one frees the SDK and its threads. */
  for (int i = 0; i < STREAMS; ++i) {
    tu_ingest_events(g_streams[i], (int64_t)i * 100 + 2 * RECORDS, 1, "abandoned");
    zb_stream_destroy(g_streams[i]);
    const tu_event_log seen = tu_event_log_checked(&g_logs[i]);
    assert_int_equal(seen.freed, 1);
    tu_event_log_fini(&g_logs[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_a_thousand_streams_share_the_sdks_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
