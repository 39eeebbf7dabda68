package zerobus_test

// Persistent streams (Experimental) against the tests' own zerobus serve: offsets continue
// after the watermark, a broken call resumes without storing a record twice (where an
// ephemeral stream stores the lost acks' records again), the refusals carry their gRPC
// status, and a producer process killed with SIGKILL is completed by this one resuming its
// stream by id, every record exactly once.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

const (
	grpcInvalidArgument    = 3
	grpcNotFound           = 5
	grpcFailedPrecondition = 9
)

// producerEnv makes the test binary the producer that
// TestKilledProducerIsCompletedByAnotherProcess kills: "ENDPOINT ID_FILE COUNT".
const producerEnv = "ZEROBUS_GO_PERSISTENT_PRODUCER"

func TestMain(m *testing.M) {
	if arguments := os.Getenv(producerEnv); arguments != "" {
		if err := producePersistent(arguments); err != nil {
			fmt.Fprintln(os.Stderr, "persistent producer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// producePersistent creates a persistent stream, saves its id durably before any record is
// sent, then ingests Event{id = offset} for offsets 0..count-1, one call each.
func producePersistent(arguments string) error {
	var endpoint, idFile string
	var count int64
	if _, err := fmt.Sscan(arguments, &endpoint, &idFile, &count); err != nil {
		return err
	}
	sdk, err := zerobus.NewSDK(endpoint, zerobus.WithPlaintext(true))
	if err != nil {
		return err
	}
	defer sdk.Close()
	ctx := context.Background()
	stream, err := sdk.NewPersistentStream(ctx, eventsTable, zerobus.PersistentProto(eventDescriptor))
	if err != nil {
		return err
	}
	id, err := stream.PersistentID()
	if err != nil {
		return err
	}
	if err := saveDurably(idFile, id); err != nil {
		return err
	}
	for i := int64(0); i < count; i++ {
		offset, err := stream.Ingest(encodeEvent(i, payloadOf(i)))
		if err != nil {
			return err
		}
		if offset != uint64(i) {
			return fmt.Errorf("record %d got offset %d", i, offset)
		}
	}
	return stream.Close(ctx)
}

// saveDurably writes `text` to `path` so that a crash leaves it whole or absent.
func saveDurably(path, text string) error {
	scratch := path + ".tmp"
	file, err := os.Create(scratch)
	if err != nil {
		return err
	}
	if _, err := file.WriteString(text); err != nil {
		file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	return os.Rename(scratch, path)
}

// tableCounters are a table's counters of /admin/stats: records stored (counted once they are
// ready to acknowledge) and requests received.
type tableCounters struct {
	Records  int64 `json:"records"`
	Requests int64 `json:"requests"`
}

func (s *testServer) tableCounters(table string) tableCounters {
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
		Tables map[string]tableCounters `json:"tables"`
	}
	if err := json.NewDecoder(response.Body).Decode(&stats); err != nil {
		s.t.Fatalf("GET /admin/stats: %v", err)
	}
	return stats.Tables[table]
}

// waitStored waits until the server stored at least `records` records in the events table,
// polling its own count until a deadline, and returns the count.
func (s *testServer) waitStored(records int64) int64 {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		stored := s.tableCounters(eventsTable).Records
		if stored >= records {
			return stored
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d records stored after 60s, not %d", stored, records)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var eventFormat = zerobus.PersistentProto(eventDescriptor)

func ingestRange(t *testing.T, stream *zerobus.Stream, from, to int64) uint64 {
	t.Helper()
	var last uint64
	for id := from; id < to; id++ {
		offset, err := stream.Ingest(encodeEvent(id, payloadOf(id)))
		if err != nil {
			t.Fatalf("Ingest %d: %v", id, err)
		}
		last = offset
	}
	return last
}

func requireGRPCStatus(t *testing.T, err error, status int32, what string) {
	t.Helper()
	var zerr *zerobus.Error
	if !errors.As(err, &zerr) || zerr.Code != zerobus.ErrTransport || zerr.GRPCStatus != status {
		t.Fatalf("%s: %v, want ErrTransport with gRPC status %d", what, err, status)
	}
	if zerr.Retryable() {
		t.Fatalf("%s: %v is retryable; a final refusal is not", what, err)
	}
}

func TestPersistentResumeContinuesAfterTheWatermark(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK()
	created, err := sdk.NewPersistentStream(within(t, 30*time.Second), eventsTable, eventFormat)
	if err != nil {
		t.Fatal(err)
	}
	if _, committed, err := created.ResumeWatermark(); err != nil || committed {
		t.Fatalf("a created stream's watermark: committed %v, %v", committed, err)
	}
	if last := ingestRange(t, created, 0, 40); last != 39 {
		t.Fatalf("last offset %d, want 39", last)
	}
	if err := created.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	id, err := created.PersistentID() // still readable after Close
	if err != nil || id == "" {
		t.Fatalf("PersistentID: %q, %v", id, err)
	}

	resumed, err := sdk.ResumePersistentStream(within(t, 30*time.Second), eventsTable, id,
		eventFormat, fastRecovery...)
	if err != nil {
		t.Fatal(err)
	}
	if same, _ := resumed.PersistentID(); same != id {
		t.Fatalf("resumed id %q, want %q", same, id)
	}
	last, committed, err := resumed.ResumeWatermark()
	if err != nil || !committed || last != 39 {
		t.Fatalf("watermark %d (committed %v, %v), want 39", last, committed, err)
	}
	if offset := ingestRange(t, resumed, 40, 41); offset != 40 {
		t.Fatalf("first offset after the resume %d, want 40", offset)
	}
	batch := make([][]byte, 0, 9)
	for id := int64(41); id < 50; id++ {
		batch = append(batch, encodeEvent(id, payloadOf(id)))
	}
	if offset, err := resumed.IngestBatch(batch); err != nil || offset != 49 {
		t.Fatalf("IngestBatch: %d, %v; want 49", offset, err)
	}
	if err := resumed.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 50)
	// One wire request per record, batches included.
	if requests := server.tableCounters(eventsTable).Requests; requests != 50 {
		t.Fatalf("%d requests for 50 records", requests)
	}
}

// storedAfterLostAcks has the server store 60 records withholding their acks, then fail the
// call at the next request; the stream reconnects. A persistent stream learns from the resume
// that the 60 are committed and sends again only the refused record; an ephemeral one
// replays them all.
func storedAfterLostAcks(t *testing.T, server *testServer, persistent bool) []row {
	sdk := server.newSDK(fastRecovery...)
	server.setFault(eventsTable, map[string]any{"withhold_acks": true, "fail_after_records": 60})
	var stream *zerobus.Stream
	var err error
	if persistent {
		stream, err = sdk.NewPersistentStream(within(t, 30*time.Second), eventsTable, eventFormat)
	} else {
		stream, err = sdk.NewProtoStream(within(t, 30*time.Second), eventsTable, eventDescriptor)
	}
	if err != nil {
		t.Fatal(err)
	}
	ingestRange(t, stream, 0, 60)
	server.waitStored(60)
	ingestRange(t, stream, 60, 61) // the request that breaks the call
	if persistent {
		server.waitStored(61)
	} else {
		server.waitStored(121)
	}
	server.clearFault(eventsTable)
	ingestRange(t, stream, 61, 62) // withheld acks go out with this request's
	if err := stream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	info, _ := stream.Info()
	if info.Recoveries != 1 || (persistent && info.RecordsReplayed != 1) {
		t.Fatalf("recoveries %d, replayed %d", info.Recoveries, info.RecordsReplayed)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	return server.rows(eventsTable)
}

func TestPersistentBrokenCallResumesWithoutStoringTwice(t *testing.T) {
	server := startServer(t)
	storedAfterLostAcks(t, server, true)
	requireRows(t, server, 62)
}

func TestEphemeralStreamStoresTheLostAcksRecordsTwice(t *testing.T) {
	server := startServer(t)
	// The 60 records whose acks were lost are stored twice; the refused one once.
	if rows := storedAfterLostAcks(t, server, false); len(rows) != 122 {
		t.Fatalf("%d rows stored, want 122", len(rows))
	}
}

func TestPersistentRefusals(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK(zerobus.WithRecoveryRetries(1), zerobus.WithRecoveryBackoff(time.Millisecond))
	created, err := sdk.NewPersistentStream(within(t, 30*time.Second), eventsTable, eventFormat)
	if err != nil {
		t.Fatal(err)
	}
	ingestRange(t, created, 0, 1)
	if err := created.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	id, _ := created.PersistentID()

	_, err = sdk.ResumePersistentStream(within(t, 30*time.Second), eventsTable, id,
		zerobus.PersistentJSON())
	requireGRPCStatus(t, err, grpcInvalidArgument, "resume with another record type")
	_, err = sdk.ResumePersistentStream(within(t, 30*time.Second), eventsTable, "no-such-stream",
		eventFormat)
	requireGRPCStatus(t, err, grpcNotFound, "resume of an unknown id")
	err = sdk.RetirePersistentStream(within(t, 30*time.Second), eventsTable, "no-such-stream")
	requireGRPCStatus(t, err, grpcNotFound, "retire of an unknown id")
	for range 2 { // idempotent
		if err := sdk.RetirePersistentStream(within(t, 30*time.Second), eventsTable, id); err != nil {
			t.Fatal(err)
		}
	}
	_, err = sdk.ResumePersistentStream(within(t, 30*time.Second), eventsTable, id, eventFormat)
	requireGRPCStatus(t, err, grpcFailedPrecondition, "resume of a retired stream")

	_, err = sdk.NewPersistentStream(within(t, 30*time.Second), eventsTable, eventFormat,
		zerobus.WithLanes(2))
	if !errors.Is(err, zerobus.ErrInvalidArg) {
		t.Fatalf("lanes: %v, want ErrInvalidArg", err)
	}
	ephemeral := openProto(t, sdk)
	if _, err := ephemeral.PersistentID(); !errors.Is(err, zerobus.ErrState) {
		t.Fatalf("PersistentID of an ephemeral stream: %v, want ErrState", err)
	}
	if _, _, err := ephemeral.ResumeWatermark(); !errors.Is(err, zerobus.ErrState) {
		t.Fatalf("ResumeWatermark of an ephemeral stream: %v, want ErrState", err)
	}
	if err := ephemeral.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 1)
}

// The producer ingests persistentProduced records and is killed once the server stored
// persistentBeforeKill of them.
const (
	persistentProduced   = 20000
	persistentBeforeKill = 2000
)

func TestKilledProducerIsCompletedByAnotherProcess(t *testing.T) {
	server := startServer(t)
	idFile := filepath.Join(t.TempDir(), "stream-id")
	producer := exec.Command(os.Args[0], "-test.run=^$")
	producer.Env = append(os.Environ(), producerEnv+"="+server.endpoint+" "+idFile+" "+
		strconv.Itoa(persistentProduced))
	producer.Stderr = os.Stderr
	if err := producer.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = producer.Process.Kill()
			_ = producer.Wait()
		}
	}()
	server.waitStored(persistentBeforeKill)
	if err := producer.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	err := producer.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the producer ended with %v, not SIGKILL", err)
	}
	id, err := os.ReadFile(idFile)
	if err != nil {
		t.Fatal(err)
	}

	// The server may not have ended the killed producer's call yet: ABORTED, retried.
	sdk := server.newSDK()
	resumed, err := sdk.ResumePersistentStream(within(t, 60*time.Second), eventsTable,
		string(id), eventFormat, zerobus.WithRecoveryBackoff(20*time.Millisecond),
		zerobus.WithRecoveryRetries(100))
	if err != nil {
		t.Fatal(err)
	}
	last, committed, _ := resumed.ResumeWatermark()
	stored := int64(len(server.rows(eventsTable)))
	t.Logf("producer killed after %d records stored; resumed at committed offset %d", stored, last)
	if !committed || stored < persistentBeforeKill || stored >= persistentProduced ||
		last+1 != uint64(stored) {
		t.Fatalf("watermark %d (committed %v) with %d records stored", last, committed, stored)
	}
	ingestRange(t, resumed, stored, persistentProduced)
	if err := resumed.Close(within(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, persistentProduced)
}
