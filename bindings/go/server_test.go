package zerobus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	zerobus "github.com/libzerobus/zerobus-go"
	"github.com/libzerobus/zerobus-go/internal/localserver"
)

// The table every test writes to.
const (
	eventsTable = "bench.default.events"
	eventsDDL   = eventsTable + " (id BIGINT, payload STRING)"
)

// eventSchema is the table's protobuf record type as the library derives it from the DDL
// (message { optional int64 id = 1; optional string payload = 2; }): the tests take its
// descriptor and its records from the library instead of writing protobuf bytes by hand.
var eventSchema = func() *zerobus.Schema {
	schema, err := zerobus.SchemaFromDDL(eventsDDL)
	if err != nil {
		panic(err)
	}
	return schema
}()

var eventDescriptor = eventSchema.Descriptor()

// encodeEvent is the protobuf record of a row, encoded by the library from its JSON.
func encodeEvent(id int64, payload string) []byte {
	text, err := json.Marshal(row{ID: id, Payload: payload})
	if err != nil {
		panic(err)
	}
	record, err := eventSchema.EncodeJSON(nil, text)
	if err != nil {
		panic(err)
	}
	return record
}

// eventType is Event as a dynamic message type, built from the same descriptor.
var eventType = func() protoreflect.MessageDescriptor {
	message := &descriptorpb.DescriptorProto{}
	if err := proto.Unmarshal(eventDescriptor, message); err != nil {
		panic(err)
	}
	file, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:        proto.String("event.proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{message},
	}, nil)
	if err != nil {
		panic(err)
	}
	return file.Messages().Get(0)
}()

func newEvent(id int64, payload string) proto.Message {
	m := dynamicpb.NewMessage(eventType)
	m.Set(eventType.Fields().ByName("id"), protoreflect.ValueOfInt64(id))
	m.Set(eventType.Fields().ByName("payload"), protoreflect.ValueOfString(payload))
	return m
}

// testServer is a `zerobus serve` process of one test, on loopback, with its own data
// directory.
type testServer struct {
	t        *testing.T
	bin      string
	dataDir  string
	endpoint string // the gRPC side, http://127.0.0.1:PORT
	admin    string // the admin endpoint, http://127.0.0.1:PORT
	// workspace is the HTTP side: Unity Catalog tables and /oidc/v1/token.
	workspace string
}

// serverBinary is the `zerobus` program the tests run; test.sh passes it.
func serverBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ZEROBUS_SERVE_BIN")
	if bin == "" {
		t.Fatal("ZEROBUS_SERVE_BIN is not set: it must name the `zerobus` program that serves " +
			"the tests (bindings/go/test.sh sets it)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("ZEROBUS_SERVE_BIN: %v", err)
	}
	return bin
}

// startServer starts `zerobus serve` with the events table and `extra` arguments, and stops it
// when the test ends. It waits for the server's ready file, never for a fixed time.
func startServer(t *testing.T, extra ...string) *testServer {
	t.Helper()
	return startServerIn(t, t.TempDir(), extra...)
}

// startServerIn is startServer with the data directory `dataDir`, where `zerobus serve --tls`
// keeps its certificates.
func startServerIn(t *testing.T, dataDir string, extra ...string) *testServer {
	t.Helper()
	s := &testServer{t: t, bin: serverBinary(t), dataDir: dataDir}
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", s.dataDir,
		"--table", eventsDDL}, extra...)
	output := &lockedBuffer{}
	server, err := localserver.Start(s.bin, args, output, output, 15*time.Second)
	if err != nil {
		t.Fatalf("%v; its output:\n%s", err, output.String())
	}
	t.Cleanup(func() {
		if err := server.Stop(10 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("zerobus serve output:\n%s", output.String())
		}
	})
	s.endpoint, s.workspace, s.admin = server.GRPC.URL, server.HTTP.URL, server.Admin.URL
	return s
}

// lockedBuffer collects the last 64 KiB of the server's output from two goroutines; bounded,
// so that the leak tests do not see the server's log growing.
type lockedBuffer struct {
	mu     sync.Mutex
	buffer bytes.Buffer
}

const serverLogLimit = 64 << 10

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if excess := b.buffer.Len() + len(p) - serverLogLimit; excess > 0 {
		b.buffer.Next(min(excess, b.buffer.Len()))
	}
	return b.buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buffer.String()
}

// newSDK opens an SDK on the server, closed when the test ends.
func (s *testServer) newSDK(options ...zerobus.Option) *zerobus.SDK {
	s.t.Helper()
	options = append([]zerobus.Option{zerobus.WithPlaintext(true)}, options...)
	sdk, err := zerobus.NewSDK(s.endpoint, options...)
	if err != nil {
		s.t.Fatalf("NewSDK(%s): %v", s.endpoint, err)
	}
	s.t.Cleanup(func() { _ = sdk.Close() })
	return sdk
}

// clearFault removes the fault plan of `table`, which the test set with --fault or setFault.
func (s *testServer) clearFault(table string) {
	s.t.Helper()
	s.adminFaults(http.MethodDelete, table, nil)
}

// setFault replaces the fault plan of `table` with `plan` (the admin endpoint's JSON form), on
// the streams already open too.
func (s *testServer) setFault(table string, plan map[string]any) {
	s.t.Helper()
	body, err := json.Marshal(plan)
	if err != nil {
		s.t.Fatal(err)
	}
	s.adminFaults(http.MethodPut, table, body)
}

// adminFaults sends `method` to /admin/faults/`table` with `body` (nil: none) and fails the
// test unless the server answers 200.
func (s *testServer) adminFaults(method, table string, body []byte) {
	s.t.Helper()
	request, err := http.NewRequest(method, s.admin+"/admin/faults/"+table, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	// An idle keep-alive connection would hold up the server's stop by seconds.
	request.Close = true
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		s.t.Fatal(err)
	}
	defer response.Body.Close()
	text, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusOK {
		s.t.Fatalf("%s /admin/faults/%s: %s: %s", method, table, response.Status, text)
	}
}

// adminCounters are the counters of /admin/stats the tests read, of a table or in total.
type adminCounters struct {
	StreamsOpen int64            `json:"streams_open"`
	UserAgents  map[string]int64 `json:"user_agents"`
}

// stats reads the server's admin statistics.
func (s *testServer) stats() (total adminCounters, tables map[string]adminCounters) {
	s.t.Helper()
	request, err := http.NewRequest(http.MethodGet, s.admin+"/admin/stats", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	request.Close = true
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		s.t.Fatal(err)
	}
	defer response.Body.Close()
	var stats struct {
		Total  adminCounters            `json:"total"`
		Tables map[string]adminCounters `json:"tables"`
	}
	if err := json.NewDecoder(response.Body).Decode(&stats); err != nil {
		s.t.Fatalf("GET /admin/stats: %v", err)
	}
	return stats.Total, stats.Tables
}

// openStreams is the number of streams the server has open, from its admin statistics.
func (s *testServer) openStreams() int64 {
	total, _ := s.stats()
	return total.StreamsOpen
}

// row is one stored row of the events table.
type row struct {
	ID      int64  `json:"id"`
	Payload string `json:"payload"`
}

// rows reads back what the server stored in `table`, through `zerobus rows`.
func (s *testServer) rows(table string) []row {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	output, err := exec.CommandContext(ctx, s.bin, "rows", table, "--data-dir", s.dataDir).Output()
	if err != nil {
		s.t.Fatalf("zerobus rows %s: %v", table, err)
	}
	var rows []row
	decoder := json.NewDecoder(bytes.NewReader(output))
	for decoder.More() {
		var r row
		if err := decoder.Decode(&r); err != nil {
			s.t.Fatalf("zerobus rows printed %q: %v", output, err)
		}
		rows = append(rows, r)
	}
	return rows
}
