package zerobus

// #include <stdlib.h>
// #include "zbgo.h"
import "C"

import (
	"runtime"
	"strings"
	"unsafe"
)

const applicationNameKey = "sdk.application.name"

// bindingName is the binding's part of the user-agent, "go/<Go version>" ("go/1.26.8"); the
// library puts its own name and version before it.
func bindingName() string {
	version := strings.TrimPrefix(runtime.Version(), "go")
	// A development toolchain says "devel go1.27-abcdef +...": its first word will do.
	if fields := strings.Fields(version); len(fields) > 0 {
		version = fields[0]
	}
	return "go/" + version
}

// nameTheBinding puts bindingName() before the application name the options set, if any,
// in an SDK's config.
func nameTheBinding(cfg *C.zb_config) error {
	key := C.CString(applicationNameKey)
	defer C.free(unsafe.Pointer(key))
	var size C.size_t
	var cerr *C.zb_error
	if status := C.zb_config_get(cfg, key, nil, &size, &cerr); status != C.ZB_OK {
		return takeError(status, cerr)
	}
	buffer := (*C.char)(C.malloc(size))
	defer C.free(unsafe.Pointer(buffer))
	if status := C.zb_config_get(cfg, key, buffer, &size, &cerr); status != C.ZB_OK {
		return takeError(status, cerr)
	}
	name := bindingName()
	if application := C.GoString(buffer); application != "" {
		name += " " + application
	}
	value := C.CString(name)
	defer C.free(unsafe.Pointer(value))
	if status := C.zb_config_set(cfg, key, value, &cerr); status != C.ZB_OK {
		return takeError(status, cerr)
	}
	return nil
}
