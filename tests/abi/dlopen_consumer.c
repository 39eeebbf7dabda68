/* A program that loads libzerobus at run time, as a binding or a plugin host does, and links
 * nothing of it (abi.dlopen): it opens the installed library by its SONAME, resolves every
 * symbol of abi/symbols.txt at its version node, streams records into the server through
 * pointers from dlsym() alone, and dlclose()s the library.
 *
 * usage: dlopen_consumer SONAME LIBDIR SYMBOLS_TXT ENDPOINT
 * LIBDIR is where the library must have been found (LD_LIBRARY_PATH points there). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zerobus/zerobus.h>

enum { kRecords = 100, kEvents = 8 };

/* The functions this program calls, typed from the header's own declarations so that a
 * signature change breaks the build here. __typeof__ does not evaluate its operand: nothing
 * refers to a zb_* symbol at link time. */
typedef struct api {
  __typeof__(zb_version) *version;
  __typeof__(zb_version_str) *version_str;
  __typeof__(zb_status_name) *status_name;
  __typeof__(zb_error_message) *error_message;
  __typeof__(zb_error_free) *error_free;
  __typeof__(zb_config_new) *config_new;
  __typeof__(zb_config_set) *config_set;
  __typeof__(zb_config_destroy) *config_destroy;
  __typeof__(zb_sdk_new) *sdk_new;
  __typeof__(zb_sdk_destroy) *sdk_destroy;
  __typeof__(zb_stream_new) *stream_new;
  __typeof__(zb_stream_ingest_json) *stream_ingest_json;
  __typeof__(zb_stream_flush) *stream_flush;
  __typeof__(zb_stream_poll) *stream_poll;
  __typeof__(zb_stream_close) *stream_close;
  __typeof__(zb_stream_destroy) *stream_destroy;
} api;

/* ISO C has no conversion from dlsym()'s object pointer to a function pointer; POSIX makes
 * them the same size and representation, so the bits are copied. */
static int resolve(void *lib, const char *name, void *function, size_t function_size) {
  void *symbol = dlsym(lib, name);
  if (symbol == NULL || function_size != sizeof symbol) {
    fprintf(stderr, "dlopen_consumer: cannot resolve %s: %s\n", name, dlerror());
    return 1;
  }
  memcpy(function, &symbol, sizeof symbol);
  return 0;
}

#define RESOLVE(field) resolve(lib, "zb_" #field, &out->field, sizeof out->field)

static int resolve_api(void *lib, api *out) {
  return RESOLVE(version) | RESOLVE(version_str) | RESOLVE(status_name) | RESOLVE(error_message) |
         RESOLVE(error_free) | RESOLVE(config_new) | RESOLVE(config_set) | RESOLVE(config_destroy) |
         RESOLVE(sdk_new) | RESOLVE(sdk_destroy) | RESOLVE(stream_new) |
         RESOLVE(stream_ingest_json) | RESOLVE(stream_flush) | RESOLVE(stream_poll) |
         RESOLVE(stream_close) | RESOLVE(stream_destroy);
}

/* Every "name node" line of abi/symbols.txt resolves, and its default version is that node. */
static int resolve_all(void *lib, const char *symbols_path) {
  char line[256];
  int count = 0;
  int resolved = 0;
  FILE *symbols = fopen(symbols_path, "r");
  if (symbols == NULL) {
    perror(symbols_path);
    return 1;
  }
  while (fgets(line, sizeof line, symbols) != NULL) {
    char name[128];
    char node[64];
    void *by_name;
    if (line[0] == '#' || sscanf(line, "%127s %63s", name, node) != 2) continue;
    by_name = dlsym(lib, name);
    ++count;
    if (by_name != NULL && dlvsym(lib, name, node) == by_name) {
      ++resolved;
    } else {
      fprintf(stderr, "dlopen_consumer: %s is not exported as %s@@%s\n", name, name, node);
    }
  }
  fclose(symbols);
  printf("dlopen_consumer: %d of %d symbols resolved at their version nodes\n", resolved, count);
  return count == 0 || resolved != count;
}

/* The library must be the installed one, not a copy from the build tree or the system. */
static int check_location(void *lib, const char *libdir, const char *soname) {
  struct link_map *map = NULL;
  char expected[PATH_MAX];
  char wanted[PATH_MAX];
  char loaded[PATH_MAX];
  snprintf(expected, sizeof expected, "%s/%s", libdir, soname);
  if (dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0 || realpath(map->l_name, loaded) == NULL ||
      realpath(expected, wanted) == NULL) {
    fprintf(stderr, "dlopen_consumer: cannot tell where %s was loaded from\n", soname);
    return 1;
  }
  printf("dlopen_consumer: loaded %s\n", map->l_name);
  if (strcmp(loaded, wanted) != 0) {
    fprintf(stderr, "dlopen_consumer: loaded %s, expected %s\n", loaded, wanted);
    return 1;
  }
  return 0;
}

static int fail(const api *zb, const char *call, zb_status status, zb_error *err) {
  fprintf(stderr, "dlopen_consumer: %s failed: %s: %s\n", call, zb->status_name(status),
          zb->error_message(err));
  zb->error_free(err);
  return 1;
}

/* Streams kRecords records and reads the ack events until the watermark covers the last. */
static int ingest(const api *zb, zb_stream *stream) {
  zb_error *err = NULL;
  zb_event events[kEvents];
  uint64_t offset = 0;
  uint64_t watermark = 0;
  int acked = 0;
  int i;
  for (i = 0; i < kRecords; ++i) {
    char record[64];
    const int len = snprintf(record, sizeof record, "{\"id\": %d, \"via\": \"dlopen\"}", i);
    zb_status status = zb->stream_ingest_json(stream, record, (size_t)len, &offset, &err);
    if (status != ZB_OK) return fail(zb, "zb_stream_ingest_json", status, err);
  }
  zb_status status = zb->stream_flush(stream, 30000, &err);
  if (status != ZB_OK) return fail(zb, "zb_stream_flush", status, err);
  while (!acked || watermark < offset) {
    size_t count = 0;
    size_t e;
    status = zb->stream_poll(stream, events, sizeof events[0], kEvents, 5000, &count, &err);
    if (status != ZB_OK) return fail(zb, "zb_stream_poll", status, err);
    if (count == 0) {
      fprintf(stderr, "dlopen_consumer: no ack event covers offset %llu\n",
              (unsigned long long)offset);
      return 1;
    }
    for (e = 0; e < count; ++e) {
      if (events[e].type != ZB_EVENT_ACK) {
        fprintf(stderr, "dlopen_consumer: an error event: %s\n",
                zb->error_message(events[e].error));
        zb->error_free(events[e].error);
        return 1;
      }
      acked = 1;
      watermark = events[e].last_offset;
    }
  }
  status = zb->stream_close(stream, 30000, &err);
  if (status != ZB_OK) return fail(zb, "zb_stream_close", status, err);
  printf("dlopen_consumer: %d records acknowledged, watermark %llu\n", kRecords,
         (unsigned long long)watermark);
  return 0;
}

static int use_library(const api *zb, const char *endpoint) {
  zb_error *err = NULL;
  zb_config *plaintext = NULL;
  zb_sdk *sdk = NULL;
  zb_stream *stream = NULL;
  int failed;
  printf("dlopen_consumer: built with libzerobus %d.%d.%d, running with %s\n", ZB_VERSION_MAJOR,
         ZB_VERSION_MINOR, ZB_VERSION_PATCH, zb->version_str());
  if ((zb->version() >> 16) != ZB_VERSION_MAJOR || zb->version() < ZB_VERSION_NUM) {
    fprintf(stderr, "dlopen_consumer: the library loaded is too old or of another major\n");
    return 1;
  }
  /* The local server speaks plaintext, which the SDK speaks only when asked to. */
  zb_status status = zb->config_new(&plaintext, &err);
  if (status == ZB_OK) status = zb->config_set(plaintext, "transport.plaintext", "true", &err);
  if (status == ZB_OK) status = zb->sdk_new(endpoint, plaintext, &sdk, &err);
  zb->config_destroy(plaintext);
  if (status != ZB_OK) return fail(zb, "zb_sdk_new", status, err);
  status =
      zb->stream_new(sdk, "main.default.abi_dlopen", ZB_RECORD_JSON, NULL, 0, NULL, &stream, &err);
  if (status != ZB_OK) {
    zb->sdk_destroy(sdk);
    return fail(zb, "zb_stream_new", status, err);
  }
  failed = ingest(zb, stream);
  zb->stream_destroy(stream);
  zb->sdk_destroy(sdk);
  return failed;
}

int main(int argc, char **argv) {
  api zb;
  void *lib;
  void *still_loaded;
  int failed;
  if (argc != 5) {
    fprintf(stderr, "usage: %s SONAME LIBDIR SYMBOLS_TXT ENDPOINT\n", argv[0]);
    return 2;
  }
  /* By SONAME, never by the unversioned name that only a development install provides. */
  lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen_consumer: dlopen(%s): %s\n", argv[1], dlerror());
    return 1;
  }
  failed = check_location(lib, argv[2], argv[1]) || resolve_all(lib, argv[3]) ||
           resolve_api(lib, &zb) || use_library(&zb, argv[4]);
  if (dlclose(lib) != 0) {
    fprintf(stderr, "dlopen_consumer: dlclose: %s\n", dlerror());
    return 1;
  }
  /* Linked with -z nodelete: gRPC's threads outlive a dlclose(), so the library must stay
   * mapped rather than be unloaded under them. */
  still_loaded = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
  if (still_loaded == NULL) {
    fprintf(stderr, "dlopen_consumer: dlclose() unloaded the library despite -z nodelete\n");
    return 1;
  }
  dlclose(still_loaded);
  return failed;
}
