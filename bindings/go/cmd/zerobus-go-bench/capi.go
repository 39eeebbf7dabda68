package main

// The same run through the C API alone, against the same server, so that the binding's figure
// has a reference measured under the same conditions.

// #cgo pkg-config: zerobus
// #include <stdint.h>
// #include <stdio.h>
// #include <stdlib.h>
// #include <string.h>
// #include <time.h>
// #include <zerobus/zerobus.h>
//
// static size_t append_varint(unsigned char *out, uint64_t value) {
//   size_t n = 0;
//   for (; value >= 0x80; value >>= 7) out[n++] = (unsigned char)(value | 0x80);
//   out[n++] = (unsigned char)value;
//   return n;
// }
//
// // Ingests `records` Events of `size` bytes (at most 127) one call each and waits until all
// // are acknowledged. Returns the seconds taken, or -1 with the reason in `why`.
// static double c_api_run(const char *endpoint, int plaintext, const void *descriptor,
//                         size_t descriptor_len, long records, int size, char *why,
//                         size_t why_size) {
//   zb_error *err = NULL;
//   zb_config *cfg = NULL;
//   zb_sdk *sdk = NULL;
//   zb_stream *stream = NULL;
//   double seconds = -1;
//   struct timespec start, end;
//   unsigned char record[128];
//   if (zb_config_new(&cfg, &err) != ZB_OK ||
//       zb_config_set(cfg, "transport.plaintext", plaintext ? "true" : "false", &err) != ZB_OK ||
//       zb_sdk_new(endpoint, cfg, &sdk, &err) != ZB_OK ||
//       zb_stream_new(sdk, "bench.default.events", ZB_RECORD_PROTO, descriptor, descriptor_len,
//                     cfg, &stream, &err) != ZB_OK) {
//     goto done;
//   }
//   clock_gettime(CLOCK_MONOTONIC, &start);
//   for (long id = 0; id < records; id++) {
//     size_t len = 0;
//     record[len++] = 0x08; // field 1, varint
//     len += append_varint(record + len, (uint64_t)id);
//     record[len++] = 0x12; // field 2, length-delimited
//     size_t padding = (size_t)size > len + 1 ? (size_t)size - len - 1 : 0;
//     record[len++] = (unsigned char)padding;
//     memset(record + len, 'x', padding);
//     len += padding;
//     if (zb_stream_ingest_proto(stream, record, len, NULL, &err) != ZB_OK) goto done;
//   }
//   if (zb_stream_flush(stream, ZB_TIMEOUT_INFINITE, &err) != ZB_OK) goto done;
//   clock_gettime(CLOCK_MONOTONIC, &end);
//   seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
//   zb_stream_close(stream, ZB_TIMEOUT_INFINITE, &err);
// done:
//   if (err != NULL) snprintf(why, why_size, "%s", zb_error_message(err));
//   zb_error_free(err);
//   zb_stream_destroy(stream);
//   zb_sdk_destroy(sdk);
//   zb_config_destroy(cfg);
//   return seconds;
// }
import "C"

import (
	"errors"
	"strings"
	"time"
	"unsafe"
)

// runCAPI ingests like run does, through the C API from C, and returns the time until every
// record was acknowledged.
func runCAPI(endpoint string, descriptor []byte, records, size int) (time.Duration, error) {
	if size > 127 {
		return 0, errors.New("the C API run builds records of at most 127 bytes")
	}
	cendpoint := C.CString(endpoint)
	defer C.free(unsafe.Pointer(cendpoint))
	plaintext := C.int(0)
	if strings.HasPrefix(endpoint, "http://") {
		plaintext = 1
	}
	var why [256]C.char
	seconds := C.c_api_run(cendpoint, plaintext, unsafe.Pointer(&descriptor[0]),
		C.size_t(len(descriptor)), C.long(records), C.int(size), &why[0], C.size_t(len(why)))
	if seconds < 0 {
		return 0, errors.New("C API: " + C.GoString(&why[0]))
	}
	return time.Duration(float64(seconds) * float64(time.Second)), nil
}
