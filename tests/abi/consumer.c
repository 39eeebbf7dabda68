/* A program as a user writes it against an installed libzerobus, built through pkg-config
 * (abi.pkgconfig, abi.pkgconfig_static) or find_package (abi.find_package): it checks the
 * version at compile time and at run time, then streams JSON records into the server at argv[1]
 * and exits 0 only once every one of them is acknowledged as durable. */
#include <stdio.h>
#include <string.h>
#include <zerobus/zerobus.h>

/* The compile-time check a consumer makes: the major version is the ABI, and this program uses
 * nothing newer than 0.1.0. */
#if ZB_VERSION_MAJOR != 0 || ZB_VERSION_NUM < 0x000100
#error "this program is written for libzerobus 0.x from 0.1.0 on"
#endif

enum { kRecords = 100, kBatch = 10 };

static int fail(const char *call, zb_status status, zb_error *err) {
  fprintf(stderr, "consumer: %s failed: %s: %s\n", call, zb_status_name(status),
          zb_error_message(err));
  zb_error_free(err);
  return 1;
}

/* The run-time check: the library loaded has the header's major version and is at least as
 * new as the header, and zb_version_str() says the same as zb_version(). */
static int check_version(void) {
  const uint32_t loaded = zb_version();
  char expected[32];
  snprintf(expected, sizeof expected, "%u.%u.%u", (unsigned)(loaded >> 16),
           (unsigned)((loaded >> 8) & 0xff), (unsigned)(loaded & 0xff));
  printf("consumer: built with libzerobus %d.%d.%d, running with %s\n", ZB_VERSION_MAJOR,
         ZB_VERSION_MINOR, ZB_VERSION_PATCH, zb_version_str());
  if ((loaded >> 16) != ZB_VERSION_MAJOR || loaded < ZB_VERSION_NUM) {
    fprintf(stderr, "consumer: the library loaded (%s) cannot serve this program\n",
            zb_version_str());
    return 1;
  }
  if (strcmp(zb_version_str(), expected) != 0) {
    fprintf(stderr, "consumer: zb_version_str() is %s, zb_version() says %s\n", zb_version_str(),
            expected);
    return 1;
  }
  return 0;
}

/* Ingests kRecords records, one by one and then in batches, and waits until they are durable. */
static int ingest(zb_stream *stream) {
  zb_error *err = NULL;
  char records[kBatch][64];
  const char *batch[kBatch];
  size_t lens[kBatch];
  uint64_t offset = 0;
  zb_status status;
  int i;
  for (i = 0; i < kRecords / 2; ++i) {
    const int len = snprintf(records[0], sizeof records[0], "{\"id\": %d}", i);
    status = zb_stream_ingest_json(stream, records[0], (size_t)len, &offset, &err);
    if (status != ZB_OK) return fail("zb_stream_ingest_json", status, err);
  }
  for (; i < kRecords; i += kBatch) {
    int j;
    for (j = 0; j < kBatch; ++j) {
      lens[j] = (size_t)snprintf(records[j], sizeof records[j], "{\"id\": %d}", i + j);
      batch[j] = records[j];
    }
    status = zb_stream_ingest_json_batch(stream, batch, lens, kBatch, &offset, &err);
    if (status != ZB_OK) return fail("zb_stream_ingest_json_batch", status, err);
  }
  if (offset != kRecords - 1) {
    fprintf(stderr, "consumer: the last offset is %llu, expected %d\n", (unsigned long long)offset,
            kRecords - 1);
    return 1;
  }
  status = zb_stream_flush(stream, 30000, &err);
  if (status != ZB_OK) return fail("zb_stream_flush", status, err);
  status = zb_stream_close(stream, 30000, &err);
  if (status != ZB_OK) return fail("zb_stream_close", status, err);
  return 0;
}

int main(int argc, char **argv) {
  zb_error *err = NULL;
  zb_config *plaintext = NULL;
  zb_sdk *sdk = NULL;
  zb_stream *stream = NULL;
  zb_status status;
  int failed;
  if (argc != 2) {
    fprintf(stderr, "usage: %s ENDPOINT\n", argv[0]);
    return 2;
  }
  if (check_version() != 0) return 1;
  /* The local server speaks plaintext, which the SDK speaks only when asked to. */
  status = zb_config_new(&plaintext, &err);
  if (status == ZB_OK) status = zb_config_set(plaintext, "transport.plaintext", "true", &err);
  if (status == ZB_OK) status = zb_sdk_new(argv[1], plaintext, &sdk, &err);
  zb_config_destroy(plaintext);
  if (status != ZB_OK) return fail("zb_sdk_new", status, err);
  status =
      zb_stream_new(sdk, "main.default.abi_consumer", ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err);
  if (status != ZB_OK) {
    zb_sdk_destroy(sdk);
    return fail("zb_stream_new", status, err);
  }
  failed = ingest(stream);
  zb_stream_destroy(stream);
  zb_sdk_destroy(sdk);
  if (!failed) printf("consumer: %d records acknowledged as durable\n", kRecords);
  return failed;
}
