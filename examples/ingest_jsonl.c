/* Streams a JSON Lines file into a table and reports what became durable.
 *
 *   ingest_jsonl ENDPOINT TABLE FILE [KEY=VALUE...]
 *
 * where each KEY=VALUE is a configuration option (docs/CONFIGURATION.md) for the SDK and the
 * stream, e.g. against the local server, which speaks plaintext:
 *
 *   ingest_jsonl http://127.0.0.1:50051 main.default.sensor_readings \
 *     data/sensor_readings.jsonl transport.plaintext=true
 *
 * and against a workspace, as a service principal:
 *
 *   ingest_jsonl https://<workspace-id>.zerobus.<region>.cloud.databricks.com main.s.t FILE \
 *     workspace.url=https://<instance>.cloud.databricks.com auth.client.id=<id> \
 *     auth.client.secret=<secret>
 *
 * Shows the everyday shape of a producer: one SDK, one stream, an event callback counting what
 * the server acknowledged, a flush, a close, and what to do with records that were not
 * acknowledged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zerobus/zerobus.h>

typedef struct delivery_report {
  unsigned long long acked;  /* records acknowledged as durable */
  unsigned long long failed; /* records reported undeliverable */
} delivery_report;

/* Runs on the library's dispatcher thread, one event at a time, so no lock is needed for
 * counters that only it writes and that main() reads after zb_stream_close(). */
static void on_event(zb_stream *stream, const zb_event *event, void *user_data) {
  delivery_report *report = user_data;
  unsigned long long records = event->last_offset - event->first_offset + 1;
  (void)stream;
  if (event->type == ZB_EVENT_ACK) {
    report->acked += records;
  } else {
    report->failed += records;
    fprintf(stderr, "records %llu..%llu not delivered: %s\n",
            (unsigned long long)event->first_offset, (unsigned long long)event->last_offset,
            zb_error_message(event->error));
  }
}

static int fail(const char *what, zb_error *err) {
  fprintf(stderr, "%s: %s\n", what, zb_error_message(err));
  zb_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  zb_error *err = NULL;
  zb_config *cfg = NULL;
  zb_sdk *sdk = NULL;
  zb_stream *stream = NULL;
  delivery_report report = {0, 0};
  unsigned long long ingested = 0;
  char line[65536];
  FILE *input;
  int rc = 0;

  if (argc < 4) {
    fprintf(stderr, "usage: %s ENDPOINT TABLE FILE [KEY=VALUE...]\n", argv[0]);
    return 2;
  }
  input = fopen(argv[3], "r");
  if (!input) {
    perror(argv[3]);
    return 1;
  }
  if (zb_config_new(&cfg, &err) != ZB_OK ||
      zb_config_set_event_callback(cfg, on_event, &report, NULL, &err) != ZB_OK) {
    fclose(input);
    zb_config_destroy(cfg);
    return fail("config", err);
  }
  for (int i = 4; i < argc; ++i) {
    char *equals = strchr(argv[i], '=');
    if (!equals) {
      fprintf(stderr, "expected KEY=VALUE, got '%s'\n", argv[i]);
      fclose(input);
      zb_config_destroy(cfg);
      return 2;
    }
    *equals = '\0';
    if (zb_config_set(cfg, argv[i], equals + 1, &err) != ZB_OK) {
      fclose(input);
      zb_config_destroy(cfg);
      return fail(argv[i], err);
    }
  }
  /* One config for both: the SDK reads its options (TLS, proxy, workspace) and the stream its
   * own (credentials, window, recovery). */
  if (zb_sdk_new(argv[1], cfg, &sdk, &err) != ZB_OK) {
    rc = fail("zb_sdk_new", err);
  } else if (zb_stream_new(sdk, argv[2], ZB_RECORD_JSON, NULL, 0, cfg, &stream, &err) != ZB_OK) {
    rc = fail("zb_stream_new", err);
  }
  /* The stream copied what it needs. */
  zb_config_destroy(cfg);

  while (rc == 0 && fgets(line, sizeof line, input)) {
    size_t len = strcspn(line, "\r\n");
    if (len == 0) continue;
    if (zb_stream_ingest_json(stream, line, len, NULL, &err) != ZB_OK) {
      rc = fail("zb_stream_ingest_json", err);
      break;
    }
    ingested++;
  }
  fclose(input);

  if (stream && zb_stream_close(stream, 30000, &err) != ZB_OK) {
    /* Whatever the server did not acknowledge is still here, with its offsets. */
    zb_records *unacked = NULL;
    if (zb_stream_unacked(stream, &unacked, NULL) == ZB_OK) {
      fprintf(stderr, "%zu records were not acknowledged\n", zb_records_count(unacked));
      zb_records_free(unacked);
    }
    rc = fail("zb_stream_close", err);
  }
  printf("ingested %llu records, %llu acknowledged as durable, %llu failed\n", ingested,
         report.acked, report.failed);
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  return rc;
}
