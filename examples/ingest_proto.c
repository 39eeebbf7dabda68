/* Streams protobuf records into a table from C, and follows their acknowledgements by polling.
 *
 *   ingest_proto [ENDPOINT]
 *
 * ENDPOINT defaults to $ZEROBUS_ENDPOINT. Against a local server:
 *
 *   zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' --data-dir /tmp/zb
 *   ingest_proto http://127.0.0.1:50051
 *   zerobus rows main.default.events --data-dir /tmp/zb
 *
 * A protobuf stream must be opened with the table's message descriptor. No .proto file or
 * protoc is needed for that: the library derives the descriptor from the table's columns, here
 * given as DDL (zb_schema_fetch() reads them from a workspace instead). The records themselves
 * are plain protobuf bytes; a C program with bigger messages would let protobuf-c or nanopb
 * write them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zerobus/zerobus.h>

#define TABLE_DDL "main.default.events (id BIGINT, payload STRING)"
#define RECORDS 1000
#define BATCH 100
#define RECORD_CAPACITY 64

/* Appends `value` as a protobuf varint: 7 bits a byte, low bits first. */
static size_t put_varint(uint8_t *out, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  out[n++] = (uint8_t)value;
  return n;
}

/* The table's message is `Event { optional int64 id = 1; optional string payload = 2; }`
 * (what `zerobus schema --ddl '...'` prints): field 1 as a varint, field 2 as bytes with their
 * length first. */
static size_t encode_event(int64_t id, const char *payload, uint8_t *out) {
  size_t n = 0;
  size_t payload_len = strlen(payload);
  out[n++] = (1 << 3) | 0; /* field 1, wire type varint */
  n += put_varint(out + n, (uint64_t)id);
  out[n++] = (2 << 3) | 2; /* field 2, wire type length-delimited */
  n += put_varint(out + n, payload_len);
  memcpy(out + n, payload, payload_len);
  return n + payload_len;
}

static int fail(const char *what, zb_error *err) {
  fprintf(stderr, "%s: %s\n", what, zb_error_message(err));
  zb_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  const char *endpoint = argc > 1 ? argv[1] : getenv("ZEROBUS_ENDPOINT");
  zb_error *err = NULL;
  zb_config *cfg = NULL;
  zb_schema *schema = NULL;
  zb_sdk *sdk = NULL;
  zb_stream *stream = NULL;
  uint8_t storage[BATCH][RECORD_CAPACITY];
  const void *records[BATCH];
  size_t lens[BATCH];
  uint64_t last_offset = 0;
  uint64_t durable = 0;
  int rc = 0;

  if (!endpoint) {
    fprintf(stderr, "usage: %s ENDPOINT (or set ZEROBUS_ENDPOINT)\n", argv[0]);
    return 2;
  }
  /* A local server speaks plaintext, which the SDK only does when told to; a workspace
   * endpoint (https://) needs credentials instead, see README.md. */
  if (zb_config_new(&cfg, &err) != ZB_OK ||
      (strncmp(endpoint, "http://", 7) == 0 &&
       zb_config_set(cfg, "transport.plaintext", "true", &err) != ZB_OK) ||
      zb_schema_from_ddl(TABLE_DDL, &schema, &err) != ZB_OK ||
      zb_sdk_new(endpoint, cfg, &sdk, &err) != ZB_OK ||
      zb_stream_new_from_schema(sdk, schema, cfg, &stream, &err) != ZB_OK) {
    rc = fail("opening the stream", err);
    goto done;
  }

  /* A batch travels in one request and is accepted whole or not at all; single records
   * (zb_stream_ingest_proto) are coalesced into requests by the library anyway, so batch
   * only what belongs together. The bytes are copied before the call returns, so the same
   * storage serves every batch. */
  for (int first = 0; first < RECORDS; first += BATCH) {
    for (int i = 0; i < BATCH; ++i) {
      char payload[32];
      snprintf(payload, sizeof payload, "event %d", first + i);
      lens[i] = encode_event(first + i, payload, storage[i]);
      records[i] = storage[i];
    }
    if (zb_stream_ingest_proto_batch(stream, records, lens, BATCH, &last_offset, &err) != ZB_OK) {
      rc = fail("zb_stream_ingest_proto_batch", err);
      goto done;
    }
  }

  /* Without an event callback, acknowledgements queue up until polled. Acks are cumulative:
   * each event's last_offset is the new durable watermark, so a few events cover all. */
  while (durable <= last_offset) {
    zb_event events[8];
    size_t count = 0;
    for (size_t i = 0; i < 8; ++i) events[i] = (zb_event)ZB_EVENT_INIT;
    if (zb_stream_poll(stream, events, sizeof(zb_event), 8, 30000, &count, &err) != ZB_OK) {
      rc = fail("zb_stream_poll", err);
      goto done;
    }
    if (count == 0) {
      fprintf(stderr, "no acknowledgement for 30 s\n");
      rc = 1;
      goto done;
    }
    for (size_t i = 0; i < count; ++i) {
      if (events[i].type == ZB_EVENT_ERROR) {
        /* These records will never be acknowledged; zb_stream_unacked() still has them. A
         * polled event's error is ours to free. */
        fprintf(stderr, "records %llu..%llu lost: %s\n", (unsigned long long)events[i].first_offset,
                (unsigned long long)events[i].last_offset, zb_error_message(events[i].error));
        zb_error_free(events[i].error);
        rc = 1;
      } else {
        durable = events[i].last_offset + 1;
      }
    }
    if (rc != 0) goto done;
  }
  if (zb_stream_close(stream, 10000, &err) != ZB_OK) {
    rc = fail("zb_stream_close", err);
    goto done;
  }
  printf("%llu protobuf records durable in %s\n", (unsigned long long)durable,
         zb_schema_table_name(schema));

done:
  /* Every destroy takes NULL, so one exit path serves every failure. */
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  zb_schema_destroy(schema);
  zb_config_destroy(cfg);
  return rc;
}
