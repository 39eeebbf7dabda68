package zerobus

import (
	"fmt"
	"strings"
	"testing"
)

func TestVersionCheck(t *testing.T) {
	if versionError != nil {
		t.Fatalf("the loaded library is refused: %v", versionError)
	}
	minimum := uint32(minimumVersion)
	for _, tc := range []struct {
		loaded uint32
		accept bool
	}{
		{minimum, true},
		{minimum + 1, true},      // a patch release
		{minimum - 1, false},     // older
		{minimum + 0x100, false}, // the next minor release of 0.x may break the ABI
		{minimum + 0x10000, false},
	} {
		if got := checkVersion(tc.loaded) == nil; got != tc.accept {
			t.Errorf("checkVersion(%06x): accepted %v, want %v", tc.loaded, got, tc.accept)
		}
	}
	series := fmt.Sprintf("%d.%d.", minimum>>16, (minimum>>8)&0xff)
	if version := LibraryVersion(); !strings.HasPrefix(version, series) {
		t.Errorf("LibraryVersion() = %q, accepted for a minimum of %06x", version, minimum)
	}
}
