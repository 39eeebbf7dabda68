/* A proto schema for tests and records of it, so that C tests can open PROTO streams and send
 * valid records without protoc:
 *
 *   message Event { optional int64 id = 1; optional string payload = 2; }   (proto2)
 *
 * Both functions are thread-safe. */
#ifndef ZBTEST_EVENT_H
#define ZBTEST_EVENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The serialized google.protobuf.DescriptorProto of Event, as create_stream wants it. The
 * bytes are static: never freed, valid for the life of the process. */
void zbtest_descriptor(const uint8_t **data, size_t *len);

/* Serializes Event{id, payload} into `buf` (payload NULL leaves the field unset). Returns the
 * encoded length; when that is larger than `cap`, nothing is written. */
size_t zbtest_encode_event(int64_t id, const char *payload, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ZBTEST_EVENT_H */
