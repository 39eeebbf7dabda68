package zerobus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

// logged is one record a captureHandler received.
type logged struct {
	level     slog.Level
	component string
	message   string
}

// captureHandler keeps the records of the levels it is enabled for, and counts the Enabled
// questions about levels below them.
type captureHandler struct {
	level    slog.Level
	mu       sync.Mutex
	records  []logged
	changed  chan struct{} // closed and replaced at each record
	refusals atomic.Int64
}

func newCaptureHandler(level slog.Level) *captureHandler {
	return &captureHandler{level: level, changed: make(chan struct{})}
}

func (h *captureHandler) Enabled(_ context.Context, level slog.Level) bool {
	if level < h.level {
		h.refusals.Add(1)
		return false
	}
	return true
}

func (h *captureHandler) Handle(_ context.Context, record slog.Record) error {
	entry := logged{level: record.Level, message: record.Message}
	record.Attrs(func(attr slog.Attr) bool {
		if attr.Key == "component" {
			entry.component = attr.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, entry)
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
	return nil
}

// The library attaches its attributes to each record; these are never used.
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) all() []logged {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logged(nil), h.records...)
}

// await waits until a record at `level` from `component` contains `text`, and returns it.
func (h *captureHandler) await(t *testing.T, level slog.Level, component, text string) logged {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		h.mu.Lock()
		changed := h.changed
		for _, entry := range h.records {
			if entry.level == level && entry.component == component &&
				strings.Contains(entry.message, text) {
				h.mu.Unlock()
				return entry
			}
		}
		h.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %v message from %q containing %q within 30s; got %+v", level, component,
				text, h.all())
		}
	}
}

// ingestEvents ingests events 0..n-1 in batches of 10 and waits until all are durable.
func ingestEvents(t *testing.T, stream *zerobus.Stream, n int64) {
	t.Helper()
	for id := int64(0); id < n; id += 10 {
		batch := make([][]byte, 0, 10)
		for i := id; i < min(id+10, n); i++ {
			batch = append(batch, encodeEvent(i, payloadOf(i)))
		}
		if _, err := stream.IngestBatch(batch); err != nil {
			t.Fatalf("IngestBatch at %d: %v", id, err)
		}
	}
	// Not within(): the leak test calls this many times, and its cleanups would pile up.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := stream.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestLoggerReportsStreamsAndRecoveries(t *testing.T) {
	server := startServer(t, "--fault",
		eventsTable+":fail_after_records=300,fail_status=UNAVAILABLE")
	handler := newCaptureHandler(slog.LevelDebug)
	sdk := server.newSDK(append(fastRecovery, zerobus.WithLogger(slog.New(handler)))...)
	handler.await(t, slog.LevelInfo, "sdk", "SDK for 127.0.0.1:")

	stream := openProto(t, sdk)
	handler.await(t, slog.LevelDebug, "connection", "connecting to 127.0.0.1:")
	opened := handler.await(t, slog.LevelInfo, "stream", "stream of protobuf records opened")
	if !strings.HasPrefix(opened.message, eventsTable) {
		t.Errorf("a stream's message does not start with its table: %q", opened.message)
	}
	ingestEvents(t, stream, 1000)
	handler.await(t, slog.LevelWarn, "connection", "the connection ended")
	handler.await(t, slog.LevelInfo, "recovery", "recovered on a new connection")

	stats, err := stream.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Recoveries < 1 || stats.Errors.Count < 1 || stats.Errors.Last == nil ||
		stats.Errors.Last.Code != zerobus.ErrTransport || stats.Errors.Last.GRPCStatus != 14 ||
		!stats.Errors.Last.Retryable || stats.Offsets.Acked != 1000 {
		t.Errorf("the stream's statistics after the break: %+v, errors.last %+v", stats,
			stats.Errors.Last)
	}

	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	handler.await(t, slog.LevelInfo, "stream", "closed with all of its 1000 records acknowledged")
	for _, entry := range handler.all() {
		if entry.component == "stream" && !strings.HasPrefix(entry.message, eventsTable+": ") {
			t.Errorf("a stream's message does not start with its table: %q", entry.message)
		}
	}
}

func TestLoggerLevelFiltersInTheLibrary(t *testing.T) {
	t.Run("from the handler", func(t *testing.T) {
		server := startServer(t, "--fault",
			eventsTable+":fail_after_records=30,fail_status=UNAVAILABLE")
		handler := newCaptureHandler(slog.LevelWarn)
		sdk := server.newSDK(append(fastRecovery, zerobus.WithLogger(slog.New(handler)))...)
		// From here on the library, asked for warnings and errors only, sends nothing less.
		handler.refusals.Store(0)
		stream := openProto(t, sdk)
		ingestEvents(t, stream, 100)
		handler.await(t, slog.LevelWarn, "connection", "the connection ended")
		if err := stream.Close(within(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, entry := range handler.all() {
			if entry.level < slog.LevelWarn {
				t.Errorf("below the handler's level: %+v", entry)
			}
		}
		if refused := handler.refusals.Load(); refused != 0 {
			t.Errorf("the library sent %d messages below warn", refused)
		}
	})
	t.Run("log.level overrides", func(t *testing.T) {
		server := startServer(t, "--fault",
			eventsTable+":refuse_streams=-1,refuse_status=PERMISSION_DENIED")
		handler := newCaptureHandler(slog.LevelDebug)
		sdk := server.newSDK(zerobus.WithLogger(slog.New(handler)),
			zerobus.WithConfig("log.level", "error"))
		_, err := sdk.NewProtoStream(within(t, 30*time.Second), eventsTable, eventDescriptor)
		requireCode(t, err, zerobus.ErrTransport)
		failed := handler.await(t, slog.LevelError, "stream", "opening the stream failed")
		if !strings.Contains(failed.message, "PERMISSION_DENIED") {
			t.Errorf("the failure's message does not name the status: %q", failed.message)
		}
		for _, entry := range handler.all() {
			if entry.level != slog.LevelError {
				t.Errorf("log.level=error let through %+v", entry)
			}
		}
	})
}

func TestNothingIsLoggedByDefault(t *testing.T) {
	server := startServer(t, "--fault",
		eventsTable+":fail_after_records=30,fail_status=UNAVAILABLE")
	// Not even to slog's default logger.
	defaultHandler := newCaptureHandler(slog.LevelDebug)
	previous := slog.Default()
	slog.SetDefault(slog.New(defaultHandler))
	t.Cleanup(func() { slog.SetDefault(previous) })
	// A logger given to a stream has no effect: the SDK's logger speaks for its streams.
	streamHandler := newCaptureHandler(slog.LevelDebug)

	stream := openProto(t, server.newSDK(fastRecovery...),
		zerobus.WithLogger(slog.New(streamHandler)))
	ingestEvents(t, stream, 100)
	info, err := stream.Info()
	if err != nil || info.Recoveries < 1 {
		t.Fatalf("Info: %+v, %v; want a recovery, which would have been logged", info, err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if logged := append(defaultHandler.all(), streamHandler.all()...); len(logged) != 0 {
		t.Errorf("logged without WithLogger on the SDK: %+v", logged)
	}
}

func TestStatsReportStreamsAndOffsets(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK()
	proto := openProto(t, sdk)
	jsonStream, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable)
	if err != nil {
		t.Fatal(err)
	}
	ingestEvents(t, proto, 250)
	for id := int64(250); id < 260; id++ {
		record := fmt.Sprintf(`{"id": %d, "payload": %q}`, id, payloadOf(id))
		if _, err := jsonStream.Ingest([]byte(record)); err != nil {
			t.Fatal(err)
		}
	}
	if err := jsonStream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}

	stats, err := sdk.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Version != zerobus.LibraryVersion() || !strings.HasPrefix(stats.Endpoint, "127.0.0.1:") ||
		stats.TimestampMicros < time.Now().Add(-time.Minute).UnixMicro() || len(stats.Streams) != 2 {
		t.Fatalf("SDK statistics: %+v", stats)
	}
	for i, want := range []struct {
		recordType string
		records    uint64
	}{{"proto", 250}, {"json", 10}} {
		got := stats.Streams[i]
		if got.Table != eventsTable || got.RecordType != want.recordType || got.State != "open" ||
			got.ServerStreamID == "" || got.Offsets.Issued != want.records ||
			got.Offsets.Sent != want.records || got.Offsets.Acked != want.records ||
			got.InFlight.Records != 0 || got.InFlight.Bytes != 0 || got.Recoveries != 0 ||
			got.Errors.Count != 0 || got.Errors.Last != nil || got.Wire.Records != want.records ||
			got.Wire.Requests < 1 || got.Wire.Acks < 1 || got.Wire.Bytes == 0 {
			t.Errorf("stream %d: %+v", i, got)
		}
		latency := got.AckLatencyMicros
		if latency.Count < 1 || latency.Min > latency.P50 || latency.P50 > latency.P99 ||
			latency.P99 > latency.P999 || latency.P999 > latency.Max {
			t.Errorf("stream %d: ack latency %+v", i, latency)
		}
	}

	own, err := proto.Stats()
	if err != nil || own.Table != eventsTable || own.Offsets.Acked != 250 ||
		own.ServerStreamID != stats.Streams[0].ServerStreamID {
		t.Errorf("Stream.Stats: %+v, %v", own, err)
	}
	raw, err := jsonStream.StatsJSON()
	var decoded map[string]any
	if err != nil || json.Unmarshal(raw, &decoded) != nil || decoded["record_type"] != "json" {
		t.Errorf("Stream.StatsJSON: %s, %v", raw, err)
	}

	if err := proto.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := proto.Stats(); !errors.Is(err, zerobus.ErrClosed) {
		t.Errorf("Stats of a closed stream: %v, want ErrClosed", err)
	}
	if stats, err := sdk.Stats(); err != nil || len(stats.Streams) != 1 ||
		stats.Streams[0].RecordType != "json" {
		t.Errorf("SDK statistics after a stream closed: %+v, %v", stats, err)
	}
	if err := jsonStream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	_ = sdk.Close()
	if _, err := sdk.StatsJSON(); !errors.Is(err, zerobus.ErrClosed) {
		t.Errorf("StatsJSON of a closed SDK: %v, want ErrClosed", err)
	}
	requireRows(t, server, 260)
}

func TestStatisticsCallbackRunsUntilClose(t *testing.T) {
	server := startServer(t)
	handles := zerobus.LiveCallbackHandles()
	var calls atomic.Int64
	var self atomic.Pointer[zerobus.SDK]
	reports := make(chan zerobus.SDKStats, 1)
	sdk := server.newSDK(zerobus.WithStatistics(10*time.Millisecond, func(data []byte) {
		calls.Add(1)
		// The callback may call the SDK's methods, even while it closes.
		if sdk := self.Load(); sdk != nil {
			if _, err := sdk.StatsJSON(); err != nil && !errors.Is(err, zerobus.ErrClosed) {
				t.Errorf("StatsJSON in the callback: %v", err)
			}
		}
		var stats zerobus.SDKStats
		if err := json.Unmarshal(data, &stats); err != nil {
			t.Errorf("the callback's statistics: %s: %v", data, err)
		}
		select {
		case reports <- stats:
		default: // the test has not read the last one yet
		}
	}))
	self.Store(sdk)
	stream := openProto(t, sdk)
	ingestEvents(t, stream, 40)
	deadline := time.After(30 * time.Second)
	for report := (zerobus.SDKStats{}); len(report.Streams) != 1 ||
		report.Streams[0].Offsets.Acked != 40; {
		select {
		case report = <-reports:
		case <-deadline:
			t.Fatal("no report of the stream with 40 records acked within 30s")
		}
	}

	_ = sdk.Close()
	stopped := calls.Load()
	// Negative: nothing to wait for but time. 20 intervals would bring 20 reports.
	time.Sleep(200 * time.Millisecond)
	if after := calls.Load(); after != stopped {
		t.Errorf("the callback ran %d times after Close returned", after-stopped)
	}
	// The stream outlives the SDK and still works.
	ingestEvents(t, stream, 10)
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if live := zerobus.LiveCallbackHandles(); live != handles {
		t.Errorf("%d callback handles held after everything closed, were %d", live, handles)
	}
}

func TestLoggingAndStatisticsLeakNothing(t *testing.T) {
	server := startServer(t)
	cycle := func() {
		handler := newCaptureHandler(slog.LevelDebug)
		// Not server.newSDK: its cleanup would keep every SDK until the test ends.
		sdk, err := zerobus.NewSDK(server.endpoint, zerobus.WithPlaintext(true),
			zerobus.WithLogger(slog.New(handler)),
			zerobus.WithStatistics(time.Millisecond, func([]byte) {}))
		if err != nil {
			t.Fatal(err)
		}
		stream := openProto(t, sdk)
		ingestEvents(t, stream, 10)
		if _, err := sdk.StatsJSON(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.StatsJSON(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := stream.Close(ctx); err != nil {
			t.Fatal(err)
		}
		_ = sdk.Close()
		handler.await(t, slog.LevelInfo, "stream", "closed with all of its 10 records")
	}
	for range 50 {
		cycle()
	}
	handles := zerobus.LiveCallbackHandles()
	baseline := settle(t, measure(t))
	const cycles = 300
	for range cycles {
		cycle()
	}
	after := settle(t, baseline)
	if live := zerobus.LiveCallbackHandles(); live != handles {
		t.Errorf("%d callback handles held, were %d before %d SDKs", live, handles, cycles)
	}
	heap := int64(after.heapBytes) - int64(baseline.heapBytes)
	t.Logf("%d SDKs with a logger and statistics: resident memory %+d KiB, Go heap %+d KiB",
		cycles, (after.rssBytes-baseline.rssBytes)/1024, heap/1024)
	if heap > 256<<10 {
		t.Errorf("the Go heap grew by %d KiB over %d SDKs", heap/1024, cycles)
	}
	if growth := after.rssBytes - baseline.rssBytes; growth > 16<<20 {
		t.Errorf("resident memory grew by %d KiB over %d SDKs", growth/1024, cycles)
	}
}
