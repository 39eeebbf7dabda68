package zerobus

// The library is found through pkg-config: an installed tree (`cmake --install build --prefix
// DIR`, then DIR/lib/pkgconfig on PKG_CONFIG_PATH). At run time the loader finds
// libzerobus.so.0 as it finds any shared library (its standard directories, LD_LIBRARY_PATH,
// or an rpath given in CGO_LDFLAGS). The C helpers compile without a warning, and keep the
// warnings on so that it stays so.

// #cgo pkg-config: zerobus
// #cgo CFLAGS: -Wall -Wextra
// #include "zbgo.h"
import "C"

import "fmt"

const minimumVersion = C.ZBGO_MINIMUM_VERSION

// versionError tells why the loaded library cannot be used, or is nil. It is checked once, at
// package initialization, against the header's check at build time; NewSDK returns it.
var versionError = checkVersion(uint32(C.zb_version()))

// checkVersion accepts a library of the same major version, no older than the minimum; with
// major version 0, of the same minor version too.
func checkVersion(loaded uint32) error {
	significant := uint32(16)
	if minimumVersion>>16 == 0 {
		significant = 8
	}
	if loaded < minimumVersion || loaded>>significant != minimumVersion>>significant {
		return fmt.Errorf("zerobus: the loaded libzerobus is %s; this package needs a version "+
			"compatible with %d.%d.%d", LibraryVersion(), minimumVersion>>16,
			(minimumVersion>>8)&0xff, minimumVersion&0xff)
	}
	return nil
}

// LibraryVersion returns the version of the libzerobus loaded at run time, "MAJOR.MINOR.PATCH".
// Safe to call from any goroutine.
func LibraryVersion() string { return C.GoString(C.zb_version_str()) }
