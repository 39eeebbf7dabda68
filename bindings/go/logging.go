package zerobus

// #include <stdlib.h>
// #include "zbgo.h"
import "C"

import (
	"context"
	"log/slog"
	"runtime/cgo"
	"unsafe"
)

// WithLogger routes the library's log messages to `logger`: those of the SDK and of every
// stream opened from it. Without it the library logs nothing, anywhere. It applies to NewSDK
// only; given to a stream, it has no effect.
//
// Each message becomes a record at the slog level matching the library's (error, warn, info,
// debug) with the attribute "component": "sdk", "stream", "connection", "recovery" or "auth".
// A stream's messages start with its table's name. Messages never contain a secret.
//
// The library asks for the most detailed level that the logger's handler is enabled for when
// NewSDK runs (log.level, which a later WithConfig("log.level", ...) overrides); the handler
// still sees only what it enables. The handler runs on the goroutine of the call whose work it
// reports (NewSDK, opening or closing a stream) or on a thread of the library's (connections
// ending, recoveries, failures), possibly on several at once: it must be safe for concurrent
// use, should return quickly (a reconnection waits for it) and must not call this package's
// methods. A panic in it is recovered and the message dropped.
func WithLogger(logger *slog.Logger) Option { return Option{logger: logger} }

// slogLevel maps a library level to slog's: error, warn, info and debug to their namesakes;
// a more detailed level that a later library may add goes below LevelDebug, one step of 4
// further each.
func slogLevel(level C.zb_log_level) slog.Level {
	return slog.LevelError - slog.Level(4*(level-C.ZB_LOG_ERROR))
}

// libraryLevel is the name of the most detailed library level that `logger` is enabled for;
// "error" when it enables none.
func libraryLevel(logger *slog.Logger) *C.char {
	chosen := C.zb_log_level_name(C.ZB_LOG_ERROR)
	// The levels are contiguous from ZB_LOG_ERROR; the name of the first unknown one is NULL.
	for level := C.zb_log_level(C.ZB_LOG_ERROR); ; level++ {
		name := C.zb_log_level_name(level)
		if name == nil {
			return chosen
		}
		if logger.Enabled(context.Background(), slogLevel(level)) {
			chosen = name
		}
	}
}

// setLogger registers `logger` on `cfg` with its level; a later log.level option overrides it.
func setLogger(cfg *C.zb_config, logger *slog.Logger) error {
	var cerr *C.zb_error
	key := C.CString("log.level")
	defer C.free(unsafe.Pointer(key))
	if status := C.zb_config_set(cfg, key, libraryLevel(logger), &cerr); status != C.ZB_OK {
		return takeError(status, cerr)
	}
	return registerCallback(cfg, logger, func(cfg *C.zb_config, handle C.uintptr_t, err **C.zb_error) C.zb_status {
		return C.zbgo_config_set_log_callback(cfg, handle, err)
	})
}

// zbgoLog hands one library message to the registered logger (through zbgo_log).
//
//export zbgoLog
func zbgoLog(level C.zb_log_level, component, message *C.char, handle C.uintptr_t) {
	// A panic must not unwind through the library's frames.
	defer func() { _ = recover() }()
	logger := cgo.Handle(handle).Value().(*slog.Logger)
	ctx, slevel := context.Background(), slogLevel(level)
	if !logger.Enabled(ctx, slevel) {
		return
	}
	logger.LogAttrs(ctx, slevel, C.GoString(message), slog.String("component", C.GoString(component)))
}
