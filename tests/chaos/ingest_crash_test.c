/* `zerobus ingest --exactly-once` survives being killed (issue 23): it streams a file of
 * RECORDS JSON records into a `zerobus serve` process and is killed with SIGKILL at KILLS
 * random moments (seeded, the seed printed), run again each time; every few kills the server is
 * killed too and restarted on the same port and data directory. Then it runs until it
 * finishes. The table must hold every record of the file exactly once: 0 missing, 0
 * duplicates, as SQLite says.
 *
 *   ingest_crash_test ZEROBUS_COMMAND [--records N] [--kills K] [--seed S]
 *
 * Prints its figures; exits non-zero on any violation. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos_util.h"

#define TABLE "main.default.crash"
#define DDL TABLE " (id BIGINT, payload STRING)"
/* The server is killed as well at every this many kills of the ingest. */
#define SERVER_KILL_EVERY 6
/* Runs after the kills before the last must have finished. */
#define MAX_FINAL_RUNS 5

static uint64_t next_random(uint64_t *state) {
  /* xorshift64*, as chaos_test's storm. */
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return *state * 2685821657736338717ull;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms) {
  const struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&pause, NULL);
}

/* Starts `zerobus ingest --exactly-once` of `input` into the server; its output goes to
 * /dev/null unless `verbose`. */
static pid_t start_ingest(const char *command, const char *endpoint, const char *input,
                          const char *dead_letters, int verbose) {
  const pid_t pid = fork();
  if (pid < 0) cu_die("fork");
  if (pid == 0) {
    if (!verbose && freopen("/dev/null", "w", stdout) == NULL) _exit(127);
    execl(command, command, "ingest", "--endpoint", endpoint, "--table", TABLE, "--exactly-once",
          "--quiet", "--dead-letter", dead_letters, "--config", "recovery.backoff.ms=20",
          "--config", "recovery.backoff.max.ms=200", "--config", "recovery.retries=100", input,
          (char *)NULL);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  if (argc < 2)
    cu_die("usage: ingest_crash_test ZEROBUS_COMMAND [--records N] [--kills K] [--seed S]");
  const char *command = argv[1];
  int64_t records = 1000000;
  int kills = 20;
  uint64_t seed = (uint64_t)time(NULL);
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--records") == 0) {
      records = strtoll(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--kills") == 0) {
      kills = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--seed") == 0) {
      seed = strtoull(argv[i + 1], NULL, 10);
    } else {
      cu_die("usage: ingest_crash_test ZEROBUS_COMMAND [--records N] [--kills K] [--seed S]");
    }
  }
  printf("ingest_crash_test: seed %" PRIu64 " (--seed to replay)\n", seed);
  fflush(stdout);
  uint64_t random = seed | 1;

  char data_dir[] = "/tmp/zerobus-ingest-crash-XXXXXX";
  if (!mkdtemp(data_dir)) cu_die("cannot make a data directory");
  char input[4200], dead_letters[4200];
  snprintf(input, sizeof input, "%s/input.jsonl", data_dir);
  snprintf(dead_letters, sizeof dead_letters, "%s/dead-letters.jsonl", data_dir);
  FILE *file = fopen(input, "w");
  if (file == NULL) cu_die("cannot write the input");
  for (int64_t id = 0; id < records; ++id) {
    fprintf(file, "{\"id\": %" PRId64 ", \"payload\": \"crash\"}\n", id);
  }
  if (fclose(file) != 0) cu_die("cannot write the input");

  const int64_t start = now_ms();
  cu_server server;
  cu_start_server(command, "127.0.0.1:0", data_dir, DDL, &server);
  char listen[64];
  snprintf(listen, sizeof listen, "%s", server.endpoint + strlen("http://"));
  int finished_early = 0, server_kills = 0;
  for (int kill_number = 1; kill_number <= kills; ++kill_number) {
    const pid_t ingest = start_ingest(command, server.endpoint, input, dead_letters, 0);
    /* A moment within the first half second of the run: it opens or resumes its stream, then
     * streams; some kills land before it sent anything. */
    sleep_ms((int64_t)(next_random(&random) % 500));
    if (kill_number % SERVER_KILL_EVERY == 0) {
      cu_kill_server(&server);
      ++server_kills;
      cu_start_server(command, listen, data_dir, DDL, &server);
      sleep_ms((int64_t)(next_random(&random) % 300));
    }
    kill(ingest, SIGKILL);
    int status = 0;
    waitpid(ingest, &status, 0);
    if (WIFEXITED(status)) ++finished_early;
  }
  int final_runs = 0, status = 1;
  while (status != 0 && final_runs < MAX_FINAL_RUNS) {
    ++final_runs;
    const pid_t ingest = start_ingest(command, server.endpoint, input, dead_letters, 1);
    waitpid(ingest, &status, 0);
  }
  const int64_t elapsed = now_ms() - start;
  kill(server.pid, SIGTERM);
  waitpid(server.pid, NULL, 0);

  const cu_stored stored = cu_read_stored(data_dir, TABLE, records);
  printf("ingest_crash_test: %" PRId64
         " records, the ingest killed %d times (%d runs ended before"
         " their kill), the server %d times, %d final run%s; %.1f s; %" PRId64 " rows, %" PRId64
         " missing, %" PRId64 " duplicates\n",
         records, kills, finished_early, server_kills, final_runs, final_runs == 1 ? "" : "s",
         elapsed / 1000.0, stored.rows, stored.missing, stored.duplicates);
  const int ok =
      status == 0 && stored.rows == records && stored.missing == 0 && stored.duplicates == 0;
  if (!ok) fprintf(stderr, "ingest_crash_test: FAILED (seed %" PRIu64 ")\n", seed);
  cu_remove_dir(data_dir);
  return ok ? 0 : 1;
}
