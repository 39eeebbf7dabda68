package zerobus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	zerobus "github.com/libzerobus/zerobus-go"
)

// Closing an SDK or a Schema is io.Closer's Close.
var _, _ io.Closer = (*zerobus.SDK)(nil), (*zerobus.Schema)(nil)

// fastRecovery keeps retried connections quick, so that recovery tests take milliseconds.
var fastRecovery = []zerobus.Option{
	zerobus.WithRecoveryBackoff(10 * time.Millisecond),
	zerobus.WithRecoveryBackoffMax(50 * time.Millisecond),
}

// within is a context for one bounded step of a test, cancelled when the test ends.
func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func openProto(t *testing.T, sdk *zerobus.SDK, options ...zerobus.Option) *zerobus.Stream {
	t.Helper()
	return openProtoWith(t, sdk, eventDescriptor, options...)
}

func openProtoWith(t *testing.T, sdk *zerobus.SDK, descriptor []byte,
	options ...zerobus.Option) *zerobus.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := sdk.NewProtoStream(ctx, eventsTable, descriptor, options...)
	if err != nil {
		t.Fatalf("NewProtoStream: %v", err)
	}
	return stream
}

func payloadOf(id int64) string { return fmt.Sprintf("payload-%d", id) }

// ingestJSONAndClose ingests the events with ids 0..n-1 as JSON, closes the stream and checks
// that the server stored them.
func ingestJSONAndClose(t *testing.T, stream *zerobus.Stream, server *testServer, n int64) {
	t.Helper()
	for id := int64(0); id < n; id++ {
		if _, err := stream.Ingest(fmt.Appendf(nil, `{"id": %d, "payload": %q}`, id, payloadOf(id))); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	requireRows(t, server, n)
}

// requireRows checks that the server stored exactly the events with ids 0..n-1, each once.
func requireRows(t *testing.T, server *testServer, n int64) {
	t.Helper()
	rows := server.rows(eventsTable)
	if int64(len(rows)) != n {
		t.Fatalf("the table holds %d rows, want %d", len(rows), n)
	}
	slices.SortFunc(rows, func(a, b row) int { return int(a.ID - b.ID) })
	for i, r := range rows {
		if r.ID != int64(i) || r.Payload != payloadOf(int64(i)) {
			t.Fatalf("row %d is %+v, want id %d payload %q", i, r, i, payloadOf(int64(i)))
		}
	}
}

// requireRowsAtLeastOnce checks that the server stored every event with ids 0..n-1, some
// more than once, but no more extra rows than `replayed`: records stored whose acks the
// break lost are sent again.
func requireRowsAtLeastOnce(t *testing.T, server *testServer, n int64, replayed uint64) {
	t.Helper()
	rows := server.rows(eventsTable)
	seen := make(map[int64]bool)
	for _, r := range rows {
		if r.ID < 0 || r.ID >= n || r.Payload != payloadOf(r.ID) {
			t.Fatalf("unexpected row %+v", r)
		}
		seen[r.ID] = true
	}
	if int64(len(seen)) != n || uint64(len(rows))-uint64(n) > replayed {
		t.Fatalf("the table holds %d rows of %d distinct ids, want all %d ids and at most %d replays",
			len(rows), len(seen), n, replayed)
	}
}

// requireCode checks that err is an *Error with `code`, matched both ways errors allow.
func requireCode(t *testing.T, err error, code zerobus.Code) *zerobus.Error {
	t.Helper()
	var zerr *zerobus.Error
	if !errors.As(err, &zerr) {
		t.Fatalf("error %v (%T) is not a *zerobus.Error", err, err)
	}
	if zerr.Code != code || !errors.Is(err, code) {
		t.Fatalf("error %v has code %v, want %v", err, zerr.Code, code)
	}
	return zerr
}

func TestErrorCodesMatchTheLibrary(t *testing.T) {
	names := []string{"", "ZB_ERR_INVALID_ARG", "ZB_ERR_UNKNOWN_KEY", "ZB_ERR_INVALID_VALUE",
		"ZB_ERR_QUEUE_FULL", "ZB_ERR_TIMEOUT", "ZB_ERR_CLOSED", "ZB_ERR_EMPTY_RECORD",
		"ZB_ERR_RECORD_TOO_LARGE", "ZB_ERR_EMPTY_BATCH", "ZB_ERR_RECORD_TYPE",
		"ZB_ERR_INVALID_TARGET", "ZB_ERR_TRANSPORT", "ZB_ERR_PROTOCOL", "ZB_ERR_AUTH",
		"ZB_ERR_STATE", "ZB_ERR_NO_MEMORY", "ZB_ERR_INTERNAL", "ZB_ERR_INVALID_SCHEMA",
		"ZB_ERR_INVALID_RECORD"}
	codes := []zerobus.Code{0, zerobus.ErrInvalidArg, zerobus.ErrUnknownKey,
		zerobus.ErrInvalidValue, zerobus.ErrQueueFull, zerobus.ErrTimeout, zerobus.ErrClosed,
		zerobus.ErrEmptyRecord, zerobus.ErrRecordTooLarge, zerobus.ErrEmptyBatch,
		zerobus.ErrRecordType, zerobus.ErrInvalidTarget, zerobus.ErrTransport,
		zerobus.ErrProtocol, zerobus.ErrAuth, zerobus.ErrState, zerobus.ErrNoMemory,
		zerobus.ErrInternal, zerobus.ErrInvalidSchema, zerobus.ErrInvalidRecord}
	for number := 1; number < len(names); number++ {
		if int(codes[number]) != number || codes[number].String() != names[number] {
			t.Errorf("code %d is %v (%d), the library calls %d %s", number, codes[number],
				int(codes[number]), number, names[number])
		}
	}
	// The library knows no code past the last one here: this package misses none.
	if unknown := zerobus.Code(len(names)); unknown.String() != fmt.Sprintf("ZB_ERR(%d)", len(names)) {
		t.Errorf("the library knows code %d as %v, which this package lacks", len(names), unknown)
	}
}

func TestConfigurationErrorsCarryTheirCodes(t *testing.T) {
	_, err := zerobus.NewSDK("http://127.0.0.1:1", zerobus.WithConfig("no.such.key", "1"))
	zerr := requireCode(t, err, zerobus.ErrUnknownKey)
	if zerr.Message == "" || zerr.Retryable() || zerr.GRPCStatus != -1 {
		t.Errorf("unknown key: %+v, want a message, not retryable, no gRPC status", zerr)
	}
	_, err = zerobus.NewSDK("http://127.0.0.1:1", zerobus.WithMaxInflightRecords(0))
	requireCode(t, err, zerobus.ErrInvalidValue)
	_, err = zerobus.NewSDK("ftp://127.0.0.1:1")
	requireCode(t, err, zerobus.ErrInvalidTarget)
	if errors.Is(err, zerobus.ErrTimeout) {
		t.Error("an ErrInvalidTarget error matches ErrTimeout")
	}

	// A stream option is checked when the stream is opened.
	server := startServer(t)
	_, err = server.newSDK().NewJSONStream(context.Background(), eventsTable,
		zerobus.WithIngestTimeout(time.Second), zerobus.WithConfig("recovery.retries", "many"))
	requireCode(t, err, zerobus.ErrInvalidValue)
}

func TestProtoRecordsAreStored(t *testing.T) {
	server := startServer(t)
	stream := openProto(t, server.newSDK())
	var next uint64
	expect := func(offset uint64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if offset != next {
			t.Fatalf("offset %d, want %d", offset, next)
		}
		next++
	}
	// Ids 0..99 one by one, 100..199 in batches of 10, then generated messages.
	for id := int64(0); id < 100; id++ {
		expect(stream.Ingest(encodeEvent(id, payloadOf(id))))
	}
	for id := int64(100); id < 200; id += 10 {
		var batch [][]byte
		for i := id; i < id+10; i++ {
			batch = append(batch, encodeEvent(i, payloadOf(i)))
		}
		next += 9
		expect(stream.IngestBatch(batch))
	}
	for id := int64(200); id < 210; id++ {
		expect(stream.IngestMessage(newEvent(id, payloadOf(id))))
	}
	var messages []proto.Message
	for id := int64(210); id < 220; id++ {
		messages = append(messages, newEvent(id, payloadOf(id)))
	}
	next += 9
	expect(stream.IngestMessages(messages))

	if err := stream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	info, err := stream.Info()
	if err != nil || info.RecordsAcked != 220 || info.State != zerobus.StateOpen {
		t.Fatalf("Info after Flush: %+v, %v; want 220 acked, open", info, err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	requireRows(t, server, 220)
}

func TestDescriptorOfOpensAStream(t *testing.T) {
	server := startServer(t)
	descriptor, err := zerobus.DescriptorOf(newEvent(0, ""))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := server.newSDK().NewProtoStream(within(t, 30*time.Second), eventsTable, descriptor)
	if err != nil {
		t.Fatalf("NewProtoStream with DescriptorOf: %v", err)
	}
	if _, err := stream.IngestMessage(newEvent(0, payloadOf(0))); err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 1)
}

func TestJSONRecordsAreStored(t *testing.T) {
	server := startServer(t)
	stream, err := server.newSDK().NewJSONStream(within(t, 30*time.Second), eventsTable)
	if err != nil {
		t.Fatal(err)
	}
	record := func(id int64) []byte {
		return fmt.Appendf(nil, `{"id": %d, "payload": %q}`, id, payloadOf(id))
	}
	for id := int64(0); id < 50; id++ {
		if offset, err := stream.Ingest(record(id)); err != nil || offset != uint64(id) {
			t.Fatalf("Ingest: %d, %v; want offset %d", offset, err, id)
		}
	}
	batch := [][]byte{}
	for id := int64(50); id < 100; id++ {
		batch = append(batch, record(id))
	}
	if last, err := stream.IngestBatch(batch); err != nil || last != 99 {
		t.Fatalf("IngestBatch: %d, %v; want last offset 99", last, err)
	}

	// Misuse is refused with its code, and refuses nothing else.
	_, err = stream.IngestMessage(newEvent(1, "x"))
	requireCode(t, err, zerobus.ErrRecordType)
	_, err = stream.Ingest(nil)
	requireCode(t, err, zerobus.ErrEmptyRecord)
	_, err = stream.IngestBatch(nil)
	requireCode(t, err, zerobus.ErrEmptyBatch)
	_, err = stream.IngestBatch([][]byte{record(100), {}})
	requireCode(t, err, zerobus.ErrEmptyRecord)
	err = stream.WaitForOffset(context.Background(), 100)
	requireCode(t, err, zerobus.ErrInvalidArg)

	if err := stream.WaitForOffset(within(t, 30*time.Second), 99); err != nil {
		t.Fatalf("WaitForOffset(99): %v", err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 100)
}

// collectEvents reads the stream's events until the channel closes.
func collectEvents(stream *zerobus.Stream) <-chan []zerobus.Event {
	collected := make(chan []zerobus.Event, 1)
	events := stream.Events()
	go func() {
		var all []zerobus.Event
		for event := range events {
			all = append(all, event)
		}
		collected <- all
	}()
	return collected
}

func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case value := <-c:
		return value
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30s", what)
		panic("unreachable")
	}
}

func TestAcksArriveInOrder(t *testing.T) {
	server := startServer(t)
	stream := openProto(t, server.newSDK())
	collected := collectEvents(stream)
	const records = 5000
	for id := int64(0); id < records; id++ {
		if _, err := stream.Ingest(encodeEvent(id, payloadOf(id))); err != nil {
			t.Fatal(err)
		}
		if id%1000 == 0 { // some acks come while ingest goes on
			if err := stream.WaitForOffset(within(t, 30*time.Second), uint64(id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	events := receive(t, collected, "end of the events")
	var next uint64
	for _, event := range events {
		if event.Kind != zerobus.EventAck || event.Err != nil || event.FirstOffset != next ||
			event.LastOffset < event.FirstOffset {
			t.Fatalf("event %+v after offset %d: want an ack starting at %d", event, next, next)
		}
		next = event.LastOffset + 1
	}
	if next != records {
		t.Fatalf("acks cover offsets below %d, want %d (%d events)", next, records, len(events))
	}
	if len(events) < 2 {
		t.Errorf("%d ack events for %d records acknowledged while ingest went on", len(events), records)
	}
	requireRows(t, server, records)
}

// WithLanes: one stream over 8 server streams keeps contiguous offsets and cumulative acks,
// and every record is stored once, whatever lane carried it.
func TestLanesKeepOneOffsetSpace(t *testing.T) {
	server := startServer(t)
	stream := openProto(t, server.newSDK(), zerobus.WithLanes(8))
	collected := collectEvents(stream)
	const records = 3000
	for id := int64(0); id < records; id++ {
		offset, err := stream.Ingest(encodeEvent(id, payloadOf(id)))
		if err != nil {
			t.Fatal(err)
		}
		if offset != uint64(id) {
			t.Fatalf("record %d got offset %d", id, offset)
		}
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	var next uint64
	for _, event := range receive(t, collected, "end of the events") {
		if event.Kind != zerobus.EventAck || event.FirstOffset != next {
			t.Fatalf("event %+v after offset %d: want an ack starting at %d", event, next, next)
		}
		next = event.LastOffset + 1
	}
	if next != records {
		t.Fatalf("acks cover offsets below %d, want %d", next, records)
	}
	requireRows(t, server, records)
}

func TestWaitsEndWithTheirContextWhileAcksAreWithheld(t *testing.T) {
	server := startServer(t, "--fault", eventsTable+":withhold_acks=true")
	stream := openProto(t, server.newSDK())
	for id := int64(0); id < 10; id++ {
		if _, err := stream.Ingest(encodeEvent(id, payloadOf(id))); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := stream.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush with acks withheld: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Flush returned %v after its deadline of 200ms", elapsed)
	}

	// Cancelled while waiting, not only by a deadline.
	for name, wait := range map[string]func(context.Context) error{
		"Flush":         stream.Flush,
		"WaitForOffset": func(ctx context.Context) error { return stream.WaitForOffset(ctx, 3) },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		result := make(chan error, 1)
		go func() { result <- wait(ctx) }()
		select {
		case err := <-result:
			t.Fatalf("%s returned %v before any ack", name, err)
		case <-time.After(50 * time.Millisecond):
		}
		cancel()
		if err := receive(t, result, name+" result"); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s after cancel: %v, want context.Canceled", name, err)
		}
	}

	// Once the server acknowledges again, the same records become durable.
	server.clearFault(eventsTable)
	if err := stream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Flush once acks flow: %v", err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 10)
}

func TestCloseEndedByItsContextKeepsTheUnacked(t *testing.T) {
	server := startServer(t, "--fault", eventsTable+":withhold_acks=true")
	stream := openProto(t, server.newSDK())
	collected := collectEvents(stream)
	var sent [][]byte
	for id := int64(0); id < 5; id++ {
		sent = append(sent, encodeEvent(id, payloadOf(id)))
		if _, err := stream.Ingest(sent[id]); err != nil {
			t.Fatal(err)
		}
	}
	waiter := make(chan error, 1)
	go func() { waiter <- stream.WaitForOffset(context.Background(), 4) }()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := stream.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want it to match context.DeadlineExceeded", err)
	}
	requireCode(t, err, zerobus.ErrTimeout)
	if again := stream.Close(context.Background()); again != err {
		t.Errorf("second Close: %v, want the first's %v", again, err)
	}

	// The waiter learns the records' fate instead of hanging.
	if err := receive(t, waiter, "WaitForOffset result"); err == nil {
		t.Error("WaitForOffset(4) succeeded for a record never acknowledged")
	}
	unacked, err := stream.Unacked()
	if err != nil || len(unacked) != len(sent) {
		t.Fatalf("Unacked after Close: %d records, %v; want %d", len(unacked), err, len(sent))
	}
	for i, record := range unacked {
		if record.Offset != uint64(i) || string(record.Data) != string(sent[i]) {
			t.Fatalf("unacked record %d: offset %d, %x; want offset %d, %x", i, record.Offset,
				record.Data, i, sent[i])
		}
	}
	events := receive(t, collected, "end of the events")
	var failedFirst, failedLast uint64 = 1, 0
	for _, event := range events {
		if event.Kind == zerobus.EventError {
			if failedFirst > failedLast {
				failedFirst = event.FirstOffset
			}
			failedLast = event.LastOffset
		} else {
			t.Errorf("unexpected %+v", event)
		}
	}
	if failedFirst != 0 || failedLast != 4 {
		t.Errorf("error events cover %d..%d, want 0..4 (%+v)", failedFirst, failedLast, events)
	}

	_, err = stream.Ingest(sent[0])
	requireCode(t, err, zerobus.ErrClosed)
	if info, err := stream.Info(); err != nil || info.RecordsAccepted != 5 || info.RecordsAcked != 0 {
		t.Errorf("Info after Close: %+v, %v; want 5 accepted, none acked", info, err)
	}
}

func TestRecoversFromAServerSideBreak(t *testing.T) {
	server := startServer(t, "--fault",
		eventsTable+":fail_after_records=300,fail_status=UNAVAILABLE")
	stream := openProto(t, server.newSDK(), fastRecovery...)
	const records = 1000
	for id := int64(0); id < records; id += 10 {
		batch := make([][]byte, 0, 10)
		for i := id; i < id+10; i++ {
			batch = append(batch, encodeEvent(i, payloadOf(i)))
		}
		if _, err := stream.IngestBatch(batch); err != nil {
			t.Fatalf("IngestBatch at %d: %v", id, err)
		}
	}
	if err := stream.Flush(within(t, 60*time.Second)); err != nil {
		t.Fatalf("Flush through the break: %v", err)
	}
	info, err := stream.Info()
	if err != nil || info.Recoveries < 1 || info.RecordsAcked != records {
		t.Fatalf("Info: %+v, %v; want a recovery and %d acked", info, err, records)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRowsAtLeastOnce(t, server, records, info.RecordsReplayed)
}

// A stream that failed for good is carried on by Recreate: the records it never got
// acknowledged go into a new stream, which the same drainer serves, and every record is stored
// once. A healthy stream and a closed one refuse.
func TestRecreateCarriesOnAfterAFailure(t *testing.T) {
	server := startServer(t, "--fault",
		eventsTable+":fail_after_records=20,fail_status=PERMISSION_DENIED")
	stream := openProto(t, server.newSDK(), fastRecovery...)
	if _, err := stream.Recreate(); !errors.Is(err, zerobus.ErrState) {
		t.Fatalf("Recreate of an open stream: %v, want ErrState", err)
	}
	for id := int64(0); id < 20; id++ {
		if _, err := stream.Ingest(encodeEvent(id, payloadOf(id))); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Flush before the break: %v", err)
	}
	// One call: the server refuses the request that takes the table past 20 records and the
	// stream fails once that answer is back, which ten calls could meet before their last
	// record was taken.
	var unacked [][]byte
	for id := int64(20); id < 30; id++ {
		unacked = append(unacked, encodeEvent(id, payloadOf(id)))
	}
	if _, err := stream.IngestBatch(unacked); err != nil {
		t.Fatal(err)
	}
	requireCode(t, stream.Flush(within(t, 30*time.Second)), zerobus.ErrTransport)
	server.clearFault(eventsTable)

	recreated, err := stream.Recreate()
	if err != nil {
		t.Fatalf("Recreate of the failed stream: %v", err)
	}
	collected := collectEvents(recreated)
	for id := int64(30); id < 40; id++ {
		offset, err := recreated.Ingest(encodeEvent(id, payloadOf(id)))
		if err != nil || offset != uint64(id-20) {
			t.Fatalf("Ingest into the recreated stream: offset %d, %v; want %d", offset, err, id-20)
		}
	}
	if err := recreated.Close(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Close of the recreated stream: %v", err)
	}
	var next uint64
	for _, event := range receive(t, collected, "the recreated stream's events") {
		if event.Kind != zerobus.EventAck || event.FirstOffset != next {
			t.Fatalf("event %+v, want an ack from offset %d", event, next)
		}
		next = event.LastOffset + 1
	}
	if next != 20 {
		t.Fatalf("the recreated stream's acks end before offset %d, want 20", next)
	}
	requireCode(t, stream.Close(within(t, 30*time.Second)), zerobus.ErrTransport)
	if _, err := stream.Recreate(); !errors.Is(err, zerobus.ErrClosed) {
		t.Fatalf("Recreate after Close: %v, want ErrClosed", err)
	}
	requireRows(t, server, 40)
}

func TestFatalErrorsSurfaceWithTheirCodes(t *testing.T) {
	t.Run("stream refused", func(t *testing.T) {
		server := startServer(t, "--fault",
			eventsTable+":refuse_streams=-1,refuse_status=PERMISSION_DENIED")
		_, err := server.newSDK(fastRecovery...).NewProtoStream(within(t, 30*time.Second),
			eventsTable, eventDescriptor)
		zerr := requireCode(t, err, zerobus.ErrTransport)
		if zerr.GRPCStatus != 7 || zerr.Retryable() {
			t.Errorf("%v: gRPC status %d, retryable %v; want 7 (PERMISSION_DENIED), not retryable",
				zerr, zerr.GRPCStatus, zerr.Retryable())
		}
	})
	t.Run("unknown table", func(t *testing.T) {
		server := startServer(t)
		_, err := server.newSDK().NewJSONStream(within(t, 30*time.Second), "bench.default.missing")
		if zerr := requireCode(t, err, zerobus.ErrTransport); zerr.GRPCStatus != 5 {
			t.Errorf("%v: gRPC status %d, want 5 (NOT_FOUND)", zerr, zerr.GRPCStatus)
		}
	})
	t.Run("stream broken for good", func(t *testing.T) {
		server := startServer(t, "--fault",
			eventsTable+":fail_after_records=20,fail_status=PERMISSION_DENIED")
		stream := openProto(t, server.newSDK(), fastRecovery...)
		collected := collectEvents(stream)
		for id := int64(0); id < 20; id++ {
			if _, err := stream.Ingest(encodeEvent(id, payloadOf(id))); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.Flush(within(t, 30*time.Second)); err != nil {
			t.Fatalf("Flush before the break: %v", err)
		}
		var lost [][]byte
		for id := int64(20); id < 30; id++ {
			lost = append(lost, encodeEvent(id, payloadOf(id)))
		}
		if _, err := stream.IngestBatch(lost); err != nil {
			t.Fatal(err)
		}
		failure := stream.Flush(within(t, 30*time.Second))
		zerr := requireCode(t, failure, zerobus.ErrTransport)
		if zerr.GRPCStatus != 7 || zerr.Retryable() {
			t.Fatalf("Flush: %v (gRPC %d, retryable %v), want PERMISSION_DENIED, not retryable",
				zerr, zerr.GRPCStatus, zerr.Retryable())
		}
		_, err := stream.Ingest(lost[0])
		requireCode(t, err, zerobus.ErrTransport)
		if info, err := stream.Info(); err != nil || info.State != zerobus.StateFailed {
			t.Errorf("Info: %+v, %v; want failed", info, err)
		}
		unacked, err := stream.Unacked()
		if err != nil || len(unacked) != len(lost) || unacked[0].Offset != 20 ||
			string(unacked[9].Data) != string(lost[9]) {
			t.Fatalf("Unacked: %d records from %v, %v; want offsets 20..29", len(unacked), unacked, err)
		}
		requireCode(t, stream.Close(within(t, 30*time.Second)), zerobus.ErrTransport)
		events := receive(t, collected, "end of the events")
		last := events[len(events)-1]
		if last.Kind != zerobus.EventError || last.LastOffset != 29 ||
			!errors.Is(last.Err, zerobus.ErrTransport) {
			t.Errorf("last event %+v, want an error ending at offset 29", last)
		}
		requireRows(t, server, 20)
	})
}

func TestConcurrentProducers(t *testing.T) {
	server := startServer(t)
	stream := openProto(t, server.newSDK())
	const producers, perProducer = 8, 500
	offsets := make([][]uint64, producers)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				id := int64(p*perProducer + i)
				if i%50 == 49 { // now and then a batch of one, among single ingests
					offset, err := stream.IngestBatch([][]byte{encodeEvent(id, payloadOf(id))})
					if err != nil {
						t.Error(err)
						return
					}
					offsets[p] = append(offsets[p], offset)
					if err := stream.WaitForOffset(within(t, 30*time.Second), offset); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				offset, err := stream.Ingest(encodeEvent(id, payloadOf(id)))
				if err != nil {
					t.Error(err)
					return
				}
				offsets[p] = append(offsets[p], offset)
			}
			if err := stream.Flush(within(t, 30*time.Second)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Add(1)
	go func() { // a watcher reading the counters meanwhile
		defer wg.Done()
		for i := 0; i < 100; i++ {
			if _, err := stream.Info(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	if t.Failed() {
		return
	}
	var all []uint64
	for _, some := range offsets {
		if !slices.IsSorted(some) {
			t.Errorf("one producer's offsets go backwards: %v", some)
		}
		all = append(all, some...)
	}
	slices.Sort(all)
	for i, offset := range all {
		if offset != uint64(i) {
			t.Fatalf("offsets are not 0..%d each once: position %d holds %d", len(all)-1, i, offset)
		}
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, producers*perProducer)
}

func TestConcurrentCloseAndIngest(t *testing.T) {
	server := startServer(t)
	stream := openProto(t, server.newSDK())
	var wg, underWay sync.WaitGroup
	accepted := make([]int, 4)
	for p := range accepted {
		wg.Add(1)
		underWay.Add(1)
		go func() {
			defer wg.Done()
			for id := int64(p * 1_000_000); ; id++ {
				if _, err := stream.Ingest(encodeEvent(id, payloadOf(id))); err != nil {
					if !errors.Is(err, zerobus.ErrClosed) {
						t.Errorf("Ingest racing Close: %v, want ErrClosed", err)
					}
					if accepted[p] < 100 {
						underWay.Done()
					}
					return
				}
				if accepted[p]++; accepted[p] == 100 {
					underWay.Done()
				}
			}
		}()
	}
	underWay.Wait() // every producer has ingested 100 records and goes on
	closers := make(chan error, 3)
	for range 3 {
		go func() { closers <- stream.Close(within(t, 30*time.Second)) }()
	}
	for range 3 {
		if err := receive(t, closers, "Close result"); err != nil {
			// A record accepted between Close's wait and its end is reported, never lost.
			requireCode(t, err, zerobus.ErrTimeout)
		}
	}
	wg.Wait()
	info, _ := stream.Info()
	unacked, _ := stream.Unacked()
	total := 0
	for _, n := range accepted {
		total += n
	}
	if uint64(total) != info.RecordsAccepted ||
		info.RecordsAcked+uint64(len(unacked)) != info.RecordsAccepted {
		t.Fatalf("%d ingested; Info %+v; %d unacked: every accepted record must be acked or unacked",
			total, info, len(unacked))
	}
	if got := len(server.rows(eventsTable)); uint64(got) < info.RecordsAcked {
		t.Fatalf("the table holds %d rows, fewer than the %d acked", got, info.RecordsAcked)
	}
}

func TestNewStreamEndsWithItsContext(t *testing.T) {
	server := startServer(t, "--fault", eventsTable+":stall=true")
	sdk := server.newSDK(zerobus.WithRecoveryTimeout(5 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := sdk.NewJSONStream(ctx, eventsTable); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NewJSONStream against a stalled server: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("NewJSONStream returned %v after a deadline of 200ms", elapsed)
	}
	server.clearFault(eventsTable)
	stream, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestSDKClose(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK()
	stream := openProto(t, sdk)
	if err := sdk.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sdk.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := sdk.NewJSONStream(context.Background(), eventsTable)
	requireCode(t, err, zerobus.ErrClosed)
	// A stream outlives the SDK it came from.
	if _, err := stream.Ingest(encodeEvent(0, payloadOf(0))); err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 1)
}

func TestFullWindowPushesBack(t *testing.T) {
	server := startServer(t, "--fault", eventsTable+":withhold_acks=true")
	sdk := server.newSDK()
	record := encodeEvent(0, payloadOf(0))

	// Without waiting: the third record finds the window full at once.
	stream := openProto(t, sdk, zerobus.WithMaxInflightRecords(2), zerobus.WithIngestTimeout(0))
	for range 2 {
		if _, err := stream.Ingest(record); err != nil {
			t.Fatal(err)
		}
	}
	_, err := stream.Ingest(record)
	requireCode(t, err, zerobus.ErrQueueFull)
	requireCode(t, stream.Close(within(t, 100*time.Millisecond)), zerobus.ErrTimeout)

	// Waiting without limit: Close ends the wait of an ingest blocked on the full window.
	stream = openProto(t, sdk, zerobus.WithMaxInflightRecords(2), zerobus.WithIngestTimeout(-1))
	for range 2 {
		if _, err := stream.Ingest(record); err != nil {
			t.Fatal(err)
		}
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := stream.Ingest(record)
		blocked <- err
	}()
	select {
	case err := <-blocked:
		t.Fatalf("an ingest into a full window returned %v instead of waiting", err)
	case <-time.After(50 * time.Millisecond):
	}
	start := time.Now()
	err = stream.Close(within(t, 100*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Close took %v with an ingest blocked", elapsed)
	}
	requireCode(t, receive(t, blocked, "the blocked ingest's result"), zerobus.ErrClosed)
}
