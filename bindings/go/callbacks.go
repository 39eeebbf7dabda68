package zerobus

// #include <stdint.h>
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
