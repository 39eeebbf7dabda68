#include "zbgo.h"

#include "_cgo_export.h"

#include <stdint.h>

zbgo_error_fields zbgo_error_read(const zb_error *err) {
  zbgo_error_fields fields;
  fields.code = zb_error_code(err);
  fields.retryable = zb_error_is_retryable(err);
  fields.grpc_status = zb_error_grpc_status(err);
  fields.message = zb_error_message(err);
  return fields;
}

zbgo_result zbgo_ingest(zb_stream *stream, zb_record_type record_type, const void *record,
                        size_t len) {
  zbgo_result result = {0, 0, NULL};
  if (record_type == ZB_RECORD_JSON) {
    result.status =
        zb_stream_ingest_json(stream, (const char *)record, len, &result.offset, &result.err);
  } else if (record_type == ZB_RECORD_AVRO) {
    result.status = zb_stream_ingest_avro(stream, record, len, &result.offset, &result.err);
  } else {
    result.status = zb_stream_ingest_proto(stream, record, len, &result.offset, &result.err);
  }
  return result;
}

zbgo_result zbgo_ingest_batch(zb_stream *stream, zb_record_type record_type,
                              const void *const *records, const size_t *lens, size_t count) {
  zbgo_result result = {0, 0, NULL};
  if (record_type == ZB_RECORD_JSON) {
    result.status = zb_stream_ingest_json_batch(stream, (const char *const *)records, lens, count,
                                                &result.offset, &result.err);
  } else if (record_type == ZB_RECORD_AVRO) {
    result.status =
        zb_stream_ingest_avro_batch(stream, records, lens, count, &result.offset, &result.err);
  } else {
    result.status =
        zb_stream_ingest_proto_batch(stream, records, lens, count, &result.offset, &result.err);
  }
  return result;
}

zbgo_poll_result zbgo_poll(zb_stream *stream, zb_event *events, size_t capacity) {
  zbgo_poll_result result = {0, 0, NULL};
  result.status =
      zb_stream_poll(stream, events, sizeof(zb_event), capacity, 0, &result.count, &result.err);
  return result;
}

static zb_status zbgo_headers(zb_headers *headers, void *user_data) {
  return zbgoProvideHeaders(headers, (uintptr_t)user_data);
}

/* The free_user_data of every Go callback: releases its cgo.Handle. */
static void zbgo_release_handle(void *user_data) {
  zbgoReleaseHandle((uintptr_t)user_data);
}

zb_status zbgo_config_set_headers_provider(zb_config *cfg, uintptr_t handle, zb_error **err) {
  return zb_config_set_headers_provider(cfg, zbgo_headers, (void *)handle, zbgo_release_handle,
                                        err);
}

static zb_status zbgo_subject_token(zb_token_sink *sink, void *user_data) {
  return zbgoProvideSubjectToken(sink, (uintptr_t)user_data);
}

zb_status zbgo_config_set_token_federation(zb_config *cfg, uintptr_t handle, zb_error **err) {
  return zb_config_set_token_federation(cfg, zbgo_subject_token, (void *)handle,
                                        zbgo_release_handle, err);
}

static void zbgo_log(zb_log_level level, const char *component, const char *message,
                     void *user_data) {
  /* cgo declares exported functions without const; Go only reads the strings. */
  zbgoLog(level, (char *)component, (char *)message, (uintptr_t)user_data);
}

zb_status zbgo_config_set_log_callback(zb_config *cfg, uintptr_t handle, zb_error **err) {
  return zb_config_set_log_callback(cfg, zbgo_log, (void *)handle, zbgo_release_handle, err);
}

static void zbgo_stats(zb_sdk *sdk, const char *json, size_t len, void *user_data) {
  (void)sdk;
  zbgoStats((char *)json, len, (uintptr_t)user_data);
}

zb_status zbgo_config_set_stats_callback(zb_config *cfg, uintptr_t handle, zb_error **err) {
  return zb_config_set_stats_callback(cfg, zbgo_stats, (void *)handle, zbgo_release_handle, err);
}
