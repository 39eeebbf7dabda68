/* Arrow streams as a C user sees them: record batches built by hand in the Arrow C Data
 * Interface (zbtest_arrow.h, no Arrow library), ingested into `zerobus serve` over Arrow
 * Flight, with ack callbacks like every other stream, each batch's release called exactly once
 * after its ack, the rows read back as the table stores them, a stream failed for good giving
 * its batches back as IPC bytes, and a recreated stream carrying them on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "zbtest_arrow.h"

#define BATCHES 20
#define ROWS 250

/* The server stores rows in SQLite here (an Arrow batch's rows are counted only there). */
static char data_dir[] = "/tmp/zb_arrow_test.XXXXXX";

static int setup(void **state) {
  zbtest_server_options options;
  memset(&options, 0, sizeof options);
  options.schema = ZBTEST_ARROW_DDL;
  strcpy(data_dir + sizeof data_dir - 7, "XXXXXX");
  if (!mkdtemp(data_dir)) return -1;
  options.data_dir = data_dir;
  return tu_setup_with(state, &options);
}

static int teardown(void **state) {
  const int stopped = tu_teardown(state);
  tu_remove_directory(data_dir);
  return stopped;
}

/* An Arrow stream whose events go to `log` (NULL: polled). */
static zb_stream *open_arrow(zb_sdk *sdk, tu_event_log *log, const char *const *pairs) {
  zb_config *cfg = tu_config(pairs);
  struct ArrowSchema schema;
  zb_stream *stream = NULL;
  zb_error *err = TU_ERR_SENTINEL;
  if (log) {
    tu_event_log_init(log);
    TU_EXPECT(ZB_OK, err,
              zb_config_set_event_callback(cfg, tu_event_log_cb, log, tu_event_log_free, &err));
  }
  zbtest_arrow_schema(&schema);
  TU_EXPECT(ZB_OK, err, zb_stream_new_arrow(sdk, ZBTEST_ARROW_TABLE, &schema, cfg, &stream, &err));
  schema.release(&schema);
  zb_config_destroy(cfg);
  if (log) {
    pthread_mutex_lock(&log->mu);
    log->stream = stream;
    pthread_mutex_unlock(&log->mu);
  }
  return stream;
}

static void acks_reach_the_callback_and_release_each_batch_once(void **state) {
  tu_env *env = *state;
  tu_event_log log;
  static const char *const pairs[] = {"recovery.backoff.ms", "1", NULL};
  zb_stream *stream = open_arrow(env->sdk, &log, pairs);
  int released = 0;
  int64_t i;
  for (i = 0; i < BATCHES; ++i) {
    struct ArrowArray batch;
    uint64_t offset = 0;
    zb_error *err = TU_ERR_SENTINEL;
    zbtest_arrow_batch(&batch, i * ROWS, ROWS, 0, &released);
    TU_EXPECT(ZB_OK, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
    assert_null(batch.release);
    assert_int_equal(offset, i);
  }
  assert_true(tu_event_log_wait_acked(&log, BATCHES, 20000));
  {
    const tu_event_log seen = tu_event_log_checked(&log);
    assert_int_equal(seen.errors, 0);
  }
  tu_close_and_destroy(stream);
  assert_int_equal(released, BATCHES);
  assert_int_equal(zbtest_server_record_count(env->server, ZBTEST_ARROW_TABLE), BATCHES * ROWS);
  tu_event_log_fini(&log);
}

static void a_failed_stream_gives_its_batches_back_and_a_recreated_one_sends_them(void **state) {
  tu_env *env = *state;
  static const char *const pairs[] = {"recovery.enable", "false", NULL};
  zb_stream *stream = open_arrow(env->sdk, NULL, pairs);
  zb_stream *again = NULL;
  zb_records *unacked = NULL;
  zb_error *err = TU_ERR_SENTINEL;
  struct ArrowArray batch;
  int released = 0;
  uint64_t offset = 0;
  /* Acks withheld, then the call broken: the batches stay unacknowledged, the stream fails. */
  zbtest_server_withhold_acks(env->server, true);
  zbtest_server_fail_after(env->server, ROWS, 14, "injected break");
  zbtest_arrow_batch(&batch, 0, ROWS, 0, &released);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  zbtest_arrow_batch(&batch, ROWS, ROWS, 0, &released);
  TU_EXPECT(ZB_OK, err, zb_stream_ingest_arrow(stream, &batch, &offset, &err));
  assert_int_equal(offset, 1);
  TU_EXPECT_TRANSPORT(14, 1, err, zb_stream_flush(stream, 20000, &err));
  assert_int_equal(released, 0);
  TU_EXPECT(ZB_OK, err, zb_stream_unacked(stream, &unacked, &err));
  assert_int_equal(zb_records_count(unacked), 2);
  {
    const void *ipc = NULL;
    size_t len = 0;
    uint64_t batch_offset = 9;
    TU_EXPECT(ZB_OK, err, zb_records_get(unacked, 1, &ipc, &len, &batch_offset, &err));
    assert_int_equal(batch_offset, 1);
    /* An IPC stream: the continuation marker first. */
    assert_true(len > 8 && memcmp(ipc, "\xff\xff\xff\xff", 4) == 0);
  }
  zb_records_free(unacked);
  zbtest_server_clear_faults(env->server);
  TU_EXPECT(ZB_OK, err, zb_stream_recreate(stream, &again, &err));
  TU_EXPECT(ZB_OK, err, zb_stream_flush(again, 20000, &err));
  assert_int_equal(tu_stream_info(again).records_acked, 2);
  /* The recreated stream shares the batches' data with the failed one, which still holds it:
   * released once neither does. */
  tu_close_and_destroy(again);
  assert_int_equal(released, 0);
  zb_stream_destroy(stream);
  assert_int_equal(released, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(acks_reach_the_callback_and_release_each_batch_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          a_failed_stream_gives_its_batches_back_and_a_recreated_one_sends_them, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
