package zerobus_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

// The server sees the library, then the binding with its Go version, then the application:
// "libzerobus/0.1.0 go/1.26.8 go-test/1.0 ...", where what follows is the HTTP/2 client's own
// name, which depends on transport.engine and which the library's own tests check.
func TestTheServerSeesTheLibraryTheBindingAndTheApplication(t *testing.T) {
	server := startServer(t, "--table", "bench.default.named (id BIGINT, payload STRING)")
	goVersion := "go/" + strings.TrimPrefix(runtime.Version(), "go")
	library := "libzerobus/" + zerobus.LibraryVersion()
	for _, c := range []struct {
		table   string
		options []zerobus.Option
		want    string
	}{
		{eventsTable, nil, library + " " + goVersion + " "},
		{"bench.default.named", []zerobus.Option{zerobus.WithApplicationName("go-test/1.0")},
			library + " " + goVersion + " go-test/1.0 "},
	} {
		stream, err := server.newSDK(c.options...).NewJSONStream(within(t, 30*time.Second), c.table)
		if err != nil {
			t.Fatalf("NewJSONStream(%s): %v", c.table, err)
		}
		if err := stream.Close(within(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		_, tables := server.stats()
		agents := tables[c.table].UserAgents
		if len(agents) != 1 {
			t.Fatalf("user-agents of %s: %v; want one", c.table, agents)
		}
		for agent, streams := range agents {
			if !strings.HasPrefix(agent, c.want) || streams != 1 {
				t.Errorf("user-agent of %s: %q on %d streams; want %q... on 1", c.table, agent,
					streams, c.want)
			}
		}
	}

	_, err := zerobus.NewSDK(server.endpoint, zerobus.WithPlaintext(true),
		zerobus.WithApplicationName("two\nlines"))
	requireCode(t, err, zerobus.ErrInvalidValue)
}
