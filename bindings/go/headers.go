package zerobus

// #include "zbgo.h"
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// HeadersProvider supplies the gRPC headers of one connection attempt of a stream, such as
// "authorization": "Bearer TOKEN". The library calls it before a stream's first connection
// and before every reconnection, on a thread of its own, never concurrently for one stream; it
// may block (to fetch a token, say), which delays the connection. Names are lower-case ASCII
// letters, digits, '-', '_' and '.'; values printable ASCII.
//
// An error, a panic or a header that cannot be sent fails the attempt with ErrAuth (retried
// as the recovery options say); the provider's error itself does not reach the caller.
type HeadersProvider func() (map[string]string, error)

// WithHeadersProvider makes streams take their headers from `provider` instead of
// WithToken's bearer token. Given to NewSDK, it is shared by every stream of the SDK.
func WithHeadersProvider(provider HeadersProvider) Option {
	return Option{headers: provider}
}

// setHeadersProvider registers `provider` on `cfg`. The library holds it through a
// cgo.Handle (callbacks.go).
func setHeadersProvider(cfg *C.zb_config, provider HeadersProvider) error {
	return registerCallback(cfg, provider, func(cfg *C.zb_config, handle C.uintptr_t, err **C.zb_error) C.zb_status {
		return C.zbgo_config_set_headers_provider(cfg, handle, err)
	})
}

// zbgoProvideHeaders runs a HeadersProvider for the library (through zbgo_headers).
//
//export zbgoProvideHeaders
func zbgoProvideHeaders(headers *C.zb_headers, handle C.uintptr_t) (status C.zb_status) {
	// A panic must not unwind through the library's frames.
	defer func() {
		if recover() != nil {
			status = C.ZB_ERR_AUTH
		}
	}()
	provider := cgo.Handle(handle).Value().(HeadersProvider)
	values, err := provider()
	if err != nil {
		return C.ZB_ERR_AUTH
	}
	for name, value := range values {
		cname, cvalue := C.CString(name), C.CString(value)
		status = C.zb_headers_add(headers, cname, cvalue, nil)
		C.free(unsafe.Pointer(cname))
		C.free(unsafe.Pointer(cvalue))
		if status != C.ZB_OK {
			return status
		}
	}
	return C.ZB_OK
}
