/* zb_config_set_wakeup_fd(): the library writes to a descriptor of the caller's when a stream's
 * event queue turns non-empty, and a poller that waits on the descriptor alone (poll(2), as an
 * event loop does) sees every acknowledgement: through an eventfd, whose counter the 8-byte
 * writes add to, and through a pipe, whose reader drains them. */
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_util.h"

#define ENV(state) ((tu_env *)*(state))

enum { kRecords = 2000 };

/* Polls `stream` after waiting on `fd` (never on the library) until every record up to
 * `last` is acknowledged; returns how many wakeups it read. */
static int64_t poll_through_descriptor(zb_stream *stream, int fd, uint64_t last) {
  int64_t wakeups = 0;
  uint64_t acked_through = 0;
  bool acked_any = false;
  const int64_t deadline = tu_now_ms() + 60000;
  while (!acked_any || acked_through < last) {
    struct pollfd ready = {fd, POLLIN, 0};
    const int left = (int)(deadline - tu_now_ms());
    assert_true(left > 0);
    assert_int_equal(poll(&ready, 1, left), 1);
    uint64_t drained[32];
    ssize_t got;
    while ((got = read(fd, drained, sizeof drained)) > 0) {
      /* Whole 8-byte values: an eventfd gives their sum, a pipe the values themselves. */
      assert_int_equal(got % 8, 0);
      wakeups += got / 8;
    }
    zb_event event;
    while (tu_poll_one(stream, &event, 0)) {
      assert_int_equal(event.type, ZB_EVENT_ACK);
      acked_through = event.last_offset;
      acked_any = true;
    }
  }
  return wakeups;
}

/* Opens a stream that wakes through `write_fd` (the library's when `owned`), ingests, and polls
 * after waiting on `read_fd` until every record is acknowledged; then every record is stored. */
static void ingest_and_poll(tu_env *env, int write_fd, int owned, int read_fd) {
  zb_config *cfg = tu_config(NULL);
  zb_error *err = NULL;
  TU_EXPECT(ZB_OK, err, zb_config_set_wakeup_fd(cfg, write_fd, owned, &err));
  zb_stream *stream = tu_open_proto(env->sdk, TU_TABLE, cfg);
  zb_config_destroy(cfg);
  const uint64_t last = tu_ingest_events(stream, 0, kRecords, "wakeup");
  assert_int_equal(last, kRecords - 1);
  assert_true(poll_through_descriptor(stream, read_fd, last) >= 1);
  TU_EXPECT(ZB_OK, err, zb_stream_close(stream, 60000, &err));
  zb_stream_destroy(stream);
  assert_int_equal(zbtest_server_record_count(env->server, TU_TABLE), kRecords);
}

/* A pipe whose ends are both non-blocking, as an event loop's wakeup pipe is. */
static void nonblocking_pipe(int ends[2]) {
  assert_int_equal(pipe(ends), 0);
  assert_int_equal(fcntl(ends[0], F_SETFL, O_NONBLOCK), 0);
  assert_int_equal(fcntl(ends[1], F_SETFL, O_NONBLOCK), 0);
}

static void test_an_eventfd_wakes_a_poller_for_every_ack(void **state) {
  const int fd = eventfd(0, EFD_NONBLOCK);
  assert_true(fd >= 0);
  ingest_and_poll(ENV(state), fd, 0, fd);
  close(fd);
}

static void test_a_pipe_wakes_a_poller_for_every_ack(void **state) {
  int ends[2];
  nonblocking_pipe(ends);
  ingest_and_poll(ENV(state), ends[1], 0, ends[0]);
  close(ends[0]);
  close(ends[1]);
}

static void test_a_descriptor_given_to_the_library_is_closed_with_the_last_stream(void **state) {
  int ends[2];
  nonblocking_pipe(ends);
  ingest_and_poll(ENV(state), ends[1], 1, ends[0]);
  /* The stream and its config are gone, and with them the write end: its reader, drained, sees
   * the end of the pipe. */
  char drained[64];
  ssize_t got;
  while ((got = read(ends[0], drained, sizeof drained)) > 0) {
  }
  assert_int_equal(got, 0);
  close(ends[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TU_TEST(test_an_eventfd_wakes_a_poller_for_every_ack),
      TU_TEST(test_a_pipe_wakes_a_poller_for_every_ack),
      TU_TEST(test_a_descriptor_given_to_the_library_is_closed_with_the_last_stream),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
