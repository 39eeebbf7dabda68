package zerobus

// #include "zbgo.h"
import "C"

import (
	"runtime/cgo"
	"sync/atomic"
)

// The library holds every Go callback (headers provider, token federation callback, logger,
// statistics callback) through a cgo.Handle, never a Go pointer, and hands the handle back
// through zbgoReleaseHandle, its free_user_data, once it can no longer call the callback.

// liveHandles counts the handles the library holds, so that the tests can tell that every one
// of them is released.
var liveHandles atomic.Int64

// newCallbackHandle makes the handle that the library will hold for `callback`.
func newCallbackHandle(callback any) cgo.Handle {
	liveHandles.Add(1)
	return cgo.NewHandle(callback)
}

// releaseCallbackHandle deletes a handle that the library no longer holds.
func releaseCallbackHandle(handle cgo.Handle) {
	handle.Delete()
	liveHandles.Add(-1)
}

// zbgoReleaseHandle releases the handle of a callback that the library no longer holds.
//
//export zbgoReleaseHandle
func zbgoReleaseHandle(handle C.uintptr_t) { releaseCallbackHandle(cgo.Handle(handle)) }

// callbackSetter calls one of zbgo.h's zbgo_config_set_* functions.
type callbackSetter func(cfg *C.zb_config, handle C.uintptr_t, err **C.zb_error) C.zb_status

// registerCallback registers `callback` on `cfg` through `set`, held by a new handle.
func registerCallback(cfg *C.zb_config, callback any, set callbackSetter) error {
	handle := newCallbackHandle(callback)
	var cerr *C.zb_error
	if status := set(cfg, C.uintptr_t(handle), &cerr); status != C.ZB_OK {
		// The config is never NULL here, so the library failed for want of memory, after it
		// released the handle through zbgoReleaseHandle.
		return takeError(status, cerr)
	}
	return nil
}
