/*
 * C helpers of the Go binding. Each one folds several zb_* calls into one cgo crossing, or
 * returns by value what the C API writes through out-parameters: a Go variable whose address
 * is handed to C escapes to the heap, so going through these keeps the ingest path free of Go
 * allocations. None of them keeps a pointer it was given after it returns.
 */
#ifndef ZEROBUS_GO_ZBGO_H
#define ZEROBUS_GO_ZBGO_H

#include <stdlib.h>
/* Persistent streams, which persistent.go exposes marked Experimental. */
#define ZB_EXPERIMENTAL_PERSISTENT
#include <zerobus/zerobus.h>

/* The oldest library whose ABI the binding was written against, encoded as ZB_VERSION_NUM.
 * While the major version is 0 a minor release may break the ABI, so the run-time check pins
 * the minor version too. */
#define ZBGO_MINIMUM_VERSION 0x000100

#if ZB_VERSION_NUM < ZBGO_MINIMUM_VERSION
#error "the Go binding needs the header of libzerobus 0.1.0 or newer"
#endif

/* The outcome of a call that issues offsets: the status, the offset on success, and on
 * failure the error, owned by the caller. */
typedef struct zbgo_result {
  zb_status status;
  uint64_t offset;
  zb_error *err;
} zbgo_result;

/* The fields of an error, read in one call. `message` stays valid until zb_error_free(). */
typedef struct zbgo_error_fields {
  zb_status code;
  int32_t retryable;
  int32_t grpc_status;
  const char *message;
} zbgo_error_fields;

zbgo_error_fields zbgo_error_read(const zb_error *err);

/* Ingests one record with the function that matches `record_type`. */
zbgo_result zbgo_ingest(zb_stream *stream, zb_record_type record_type, const void *record,
                        size_t len);

/* Ingests `count` records as one batch with the function that matches `record_type`. */
zbgo_result zbgo_ingest_batch(zb_stream *stream, zb_record_type record_type,
                              const void *const *records, const size_t *lens, size_t count);

/* Registers a Go HeadersProvider on `cfg`: `handle` is its cgo.Handle, which the library
 * releases (through the Go side) when it can no longer call the provider. */
zb_status zbgo_config_set_headers_provider(zb_config *cfg, uintptr_t handle, zb_error **err);

/* Registers a Go SubjectTokenProvider as the token federation callback of `cfg`, held as the
 * headers provider is. */
zb_status zbgo_config_set_token_federation(zb_config *cfg, uintptr_t handle, zb_error **err);

/* Registers a Go *slog.Logger as the log callback of `cfg`: `handle` is its cgo.Handle, which
 * the library releases (through the Go side) when it can no longer log through it. */
zb_status zbgo_config_set_log_callback(zb_config *cfg, uintptr_t handle, zb_error **err);

/* Registers a Go statistics callback on `cfg`, held as the headers provider is. */
zb_status zbgo_config_set_stats_callback(zb_config *cfg, uintptr_t handle, zb_error **err);

/* The outcome of zbgo_poll(): the status, the number of events written, and on failure the
 * error, owned by the caller. */
typedef struct zbgo_poll_result {
  zb_status status;
  size_t count;
  zb_error *err;
} zbgo_poll_result;

/* Takes up to `capacity` events without waiting. */
zbgo_poll_result zbgo_poll(zb_stream *stream, zb_event *events, size_t capacity);

#endif /* ZEROBUS_GO_ZBGO_H */
