/* A producer process for persistent_test's crash case: creates a persistent stream of the
 * Event schema, writes its id to a file (written whole, then renamed into place), and ingests
 * Event{id = offset} for offsets 0 .. count-1, until it is killed or done. It flushes every
 * kFlushEvery records, so that the test's kill lands mid-stream on any machine.
 *
 *   persistent_producer ENDPOINT TABLE ID_FILE COUNT
 *
 * Exits 0 once everything is acknowledged, 1 (with a message) on any error. */
#define ZB_EXPERIMENTAL_PERSISTENT
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zerobus/zerobus.h>

#include "zbtest_event.h"

enum { kFlushEvery = 500 };

static void die(const char *what, zb_error *err) {
  fprintf(stderr, "persistent_producer: %s: %s\n", what, err ? zb_error_message(err) : "");
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: persistent_producer ENDPOINT TABLE ID_FILE COUNT\n");
    return 1;
  }
  const char *id_file = argv[3];
  const int64_t count = strtoll(argv[4], NULL, 10);
  zb_error *err = NULL;
  zb_config *cfg = NULL;
  zb_sdk *sdk = NULL;
  if (zb_config_new(&cfg, &err) != ZB_OK ||
      zb_config_set(cfg, "transport.plaintext", "true", &err) != ZB_OK ||
      zb_sdk_new(argv[1], cfg, &sdk, &err) != ZB_OK) {
    die("the SDK", err);
  }
  const uint8_t *descriptor;
  size_t descriptor_len;
  zbtest_descriptor(&descriptor, &descriptor_len);
  zb_stream *stream = NULL;
  if (zb_stream_new_persistent(sdk, argv[2], ZB_RECORD_PROTO, descriptor, descriptor_len, cfg,
                               &stream, &err) != ZB_OK) {
    die("creating the stream", err);
  }
  char *id = NULL;
  if (zb_stream_persistent_id(stream, &id, NULL, &err) != ZB_OK) die("its id", err);
  char partial[4096];
  snprintf(partial, sizeof partial, "%s.partial", id_file);
  FILE *out = fopen(partial, "w");
  if (out == NULL || fputs(id, out) < 0 || fclose(out) != 0 || rename(partial, id_file) != 0) {
    die("writing the id file", NULL);
  }
  zb_string_free(id);
  uint8_t record[64];
  for (int64_t i = 0; i < count; ++i) {
    const size_t len = zbtest_encode_event(i, "before the kill", record, sizeof record);
    uint64_t offset = 0;
    if (zb_stream_ingest_proto(stream, record, len, &offset, &err) != ZB_OK) die("ingest", err);
    if (offset != (uint64_t)i) die("an offset out of step", NULL);
    if (i % kFlushEvery == kFlushEvery - 1 && zb_stream_flush(stream, 60000, &err) != ZB_OK) {
      die("flush", err);
    }
  }
  if (zb_stream_close(stream, 60000, &err) != ZB_OK) die("close", err);
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  zb_config_destroy(cfg);
  return 0;
}
