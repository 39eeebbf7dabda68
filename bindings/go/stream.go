package zerobus

// #include "zbgo.h"
import "C"

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Stream is a stream of records into one table. All methods are safe to call from any number
// of goroutines at once; ingest calls made concurrently get distinct offsets.
//
// Every record gets an offset, 0, 1, 2, ... in the order the stream accepted it. A record is
// durable once an acknowledgement covers its offset: watch Events, or wait with
// WaitForOffset or Flush. Close the stream when done: Close waits for the acknowledgements,
// releases the native stream, and keeps whatever was left unacknowledged for Unacked.
type Stream struct {
	// The state lives apart so that the goroutines serving the stream do not keep the Stream
	// reachable: a Stream dropped without Close is then released by its finalizer.
	*stream
}

// stream is the state of a Stream shared with its goroutines.
type stream struct {
	// mu is read-held by every call into the library and write-held while c is destroyed, so
	// that no call can run on a freed stream.
	mu         sync.RWMutex
	c          *C.zb_stream // nil once destroyed
	recordType C.zb_record_type
	identity   *persistentIdentity // a persistent stream's; nil for an ephemeral one

	// closing turns on when Close starts: ingest is refused from then on.
	closing  atomic.Bool
	closed   chan struct{} // closed when the first Close has finished
	closeErr error         // what the first Close returned

	// Written once, when c is destroyed, and read only after that (under mu).
	finalInfo StreamInfo
	leftOver  []Record

	wakeups  *wakeupGroup // whose drainer polls the stream
	drainMu  sync.Mutex   // serializes polling, so that events are handled in their order
	polled   [pollCapacity]C.zb_event
	progress progress
	events   eventQueue
	pins     arrowPins // the pinned Go memory of Arrow batches not yet durable
}

// pollCapacity is how many events one cgo crossing may take.
const pollCapacity = 64

// finishOpen wraps a stream that zb_stream_new returned, or cleans up after its failure.
func finishOpen(opened openedStream, recordType C.zb_record_type,
	wakeups *os.File) (*Stream, error) {
	if opened.err != nil {
		wakeups.Close()
		return nil, opened.err
	}
	return wrapStream(opened.c, recordType, opened.identity, newWakeupGroup(wakeups)), nil
}

// wrapStream wraps native stream c, whose wakeups `group` reads.
func wrapStream(c *C.zb_stream, recordType C.zb_record_type, identity *persistentIdentity,
	group *wakeupGroup) *Stream {
	st := &stream{c: c, recordType: recordType, identity: identity, wakeups: group,
		closed: make(chan struct{})}
	st.progress.init()
	st.events.init()
	group.add(st)
	s := &Stream{st}
	// Only a safety net, which abandons unacknowledged records: Close is the way to release a
	// stream.
	runtime.SetFinalizer(s, func(s *Stream) { s.release(false) })
	return s
}

// emptyRecord stands in for the data of a zero-length record, so that the library sees a
// valid pointer and reports ErrEmptyRecord rather than a null argument.
var emptyRecord [1]byte

func recordPointer(record []byte) unsafe.Pointer {
	if len(record) == 0 {
		return unsafe.Pointer(&emptyRecord[0])
	}
	return unsafe.Pointer(&record[0])
}

// Ingest accepts one record: a serialized protobuf message on a stream opened with
// NewProtoStream, one JSON object on a stream opened with NewJSONStream, one raw Avro datum of
// the writer schema on a stream opened with NewAvroStream or NewAvroStreamFromSchema. The bytes are copied
// before Ingest returns, so the caller may reuse them at once. It returns the record's offset.
// When the in-flight window is full, Ingest waits for room as WithIngestTimeout says.
//
// Errors: ErrEmptyRecord; ErrRecordTooLarge; ErrQueueFull; ErrClosed once Close has started;
// after the stream failed, the error it failed with.
func (s *Stream) Ingest(record []byte) (uint64, error) {
	return s.ingest(s.recordType, record)
}

func (s *Stream) ingest(recordType C.zb_record_type, record []byte) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil || s.closing.Load() {
		return 0, errStreamClosed()
	}
	result := C.zbgo_ingest(s.c, recordType, recordPointer(record), C.size_t(len(record)))
	if result.status != C.ZB_OK {
		return 0, takeError(result.status, result.err)
	}
	return uint64(result.offset), nil
}

// IngestBatch accepts `records` as one unit, all of them or none, as Ingest accepts one. They
// get consecutive offsets and travel in one request; it returns the offset of the last.
//
// Errors: those of Ingest, and ErrEmptyBatch for no records.
func (s *Stream) IngestBatch(records [][]byte) (uint64, error) {
	return s.ingestBatch(s.recordType, records)
}

func (s *Stream) ingestBatch(recordType C.zb_record_type, records [][]byte) (uint64, error) {
	// The library reads the records through an array of pointers. Go memory passed to C may
	// hold Go pointers only when they are pinned; the pins last for the call, which copies
	// every record.
	pointers := make([]unsafe.Pointer, len(records)+1) // never empty: &pointers[0] is valid
	lengths := make([]C.size_t, len(records)+1)
	var pinner runtime.Pinner
	defer pinner.Unpin()
	for i, record := range records {
		pointers[i] = recordPointer(record)
		pinner.Pin(pointers[i])
		lengths[i] = C.size_t(len(record))
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil || s.closing.Load() {
		return 0, errStreamClosed()
	}
	result := C.zbgo_ingest_batch(s.c, recordType, &pointers[0], &lengths[0], C.size_t(len(records)))
	if result.status != C.ZB_OK {
		return 0, takeError(result.status, result.err)
	}
	return uint64(result.offset), nil
}

// WaitForOffset waits until the record at `offset` is durable, or ctx ends. It blocks no
// operating-system thread: the stream's acknowledgements reach it from the goroutine that
// drains them.
//
// Errors: ctx.Err() when ctx ends first; ErrInvalidArg for an offset never issued; the error
// the record failed with when it will never be acknowledged (the stream failed, or was closed
// before the acknowledgement came).
func (s *Stream) WaitForOffset(ctx context.Context, offset uint64) error {
	info, err := s.info()
	if err != nil {
		return err
	}
	if offset >= info.RecordsAccepted {
		return newError(ErrInvalidArg, fmt.Sprintf(
			"offset %d was never issued (the stream accepted %d records)", offset, info.RecordsAccepted))
	}
	return s.waitDurable(ctx, offset)
}

// Flush waits until every record accepted before the call is durable, or ctx ends.
//
// Errors: ctx.Err() when ctx ends first; the error a record failed with when one of them will
// never be acknowledged.
func (s *Stream) Flush(ctx context.Context) error { return s.flush(ctx) }

// Close closes the stream gracefully and releases it: it stops accepting records, waits
// until every record accepted is durable or ctx ends, ends the call to the server, delivers
// the last events, and frees the native stream. Records left unacknowledged stay available
// from Unacked, and Events reports them as an error event.
//
// Close is io.Closer's Close with a context: idempotent (later calls return what the first
// returned, once it has finished, or ctx.Err() if their ctx ends before that), safe to call
// concurrently with any other method, and the end of every resource the stream holds.
//
// Errors: nil when every record was acknowledged. When ctx ended first, an error that matches
// both ctx.Err() and ErrTimeout (its message counts the records left). After a failure, the
// error the stream failed with.
func (s *Stream) Close(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		select {
		case <-s.closed:
			return s.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	runtime.SetFinalizer(s, nil)
	s.closeErr = s.close(ctx)
	close(s.closed)
	return s.closeErr
}

func (s *stream) close(ctx context.Context) error {
	waited := s.flush(ctx)
	s.mu.RLock()
	var cerr *C.zb_error
	// Everything accepted is durable by now unless the wait ended early; then close gives up on
	// the rest at once, reporting it.
	status := C.zb_stream_close(s.c, 0, &cerr)
	s.mu.RUnlock()
	s.release(true)
	if status == C.ZB_OK {
		return nil
	}
	closeErr := takeError(status, cerr)
	if ctxErr := ctx.Err(); ctxErr != nil && waited == ctxErr {
		return fmt.Errorf("%w: %w", ctxErr, closeErr)
	}
	return closeErr
}

func (s *stream) flush(ctx context.Context) error {
	info, err := s.info()
	if err != nil || info.RecordsAccepted == 0 {
		return err
	}
	return s.waitDurable(ctx, info.RecordsAccepted-1)
}

// release takes the last events and destroys the native stream, keeping what is left
// unacknowledged when `keepUnacked`. Idempotent.
func (s *stream) release(keepUnacked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return
	}
	s.finalInfo, _ = s.readInfo()
	if keepUnacked {
		s.leftOver, _ = s.readUnacked()
	}
	s.drainMu.Lock()
	s.pollAll()
	s.drainMu.Unlock()
	// Once no other stream of its group writes it, the library then closes the wakeup pipe, and
	// the drainer ends.
	C.zb_stream_destroy(s.c)
	s.c = nil
	s.wakeups.remove(s)
	s.unpinAll()
	s.progress.end(errStreamClosed())
	s.events.finish()
}

// Record is a record the stream accepted, with its offset. Data is the caller's own copy.
type Record struct {
	Offset uint64
	Data   []byte
}

// Unacked returns a copy of every record the stream accepted and that is not yet durable, in
// offset order. After a failure or a Close that ended early, these are exactly the records
// the error events reported; they stay available after Close.
//
// Errors: ErrNoMemory.
func (s *Stream) Unacked() ([]Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return append([]Record(nil), s.leftOver...), nil
	}
	return s.readUnacked()
}

func (s *stream) readUnacked() ([]Record, error) {
	var list *C.zb_records
	var cerr *C.zb_error
	if status := C.zb_stream_unacked(s.c, &list, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	defer C.zb_records_free(list)
	records := make([]Record, C.zb_records_count(list))
	for i := range records {
		var data unsafe.Pointer
		var length C.size_t
		var offset C.uint64_t
		status := C.zb_records_get(list, C.size_t(i), &data, &length, &offset, &cerr)
		if status != C.ZB_OK {
			return nil, takeError(status, cerr)
		}
		records[i] = Record{Offset: uint64(offset), Data: C.GoBytes(data, C.int(length))}
	}
	return records, nil
}

// Recreate opens a new stream like this one (same SDK, table, record format, options and
// callbacks) and ingests into it, in order, every record this one did not get acknowledged:
// the way to carry on after the stream failed. Replayed records may be stored twice if the
// server had made them durable without acknowledging them (at-least-once). The new stream's
// offsets start at 0, and its events come on its own Events channel; this stream is
// unchanged and still has to be closed. An Arrow stream's batches not yet durable go out
// again from the same memory, which stays pinned until the new stream makes them durable; a
// persistent stream is resumed under the same id.
//
// Errors: ErrState while the stream has not failed; ErrClosed once Close has run (it
// releases the native stream: Unacked still returns the records); any error of opening a
// stream or of ingest.
func (s *Stream) Recreate() (*Stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return nil, errStreamClosed()
	}
	info, err := s.readInfo()
	if err != nil {
		return nil, err
	}
	var fresh *C.zb_stream
	var cerr *C.zb_error
	if status := C.zb_stream_recreate(s.c, &fresh, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	identity := s.identity
	if identity != nil {
		// The resumed stream's own watermark.
		if identity, err = readIdentity(fresh); err != nil {
			C.zb_stream_destroy(fresh)
			return nil, err
		}
	}
	recreated := wrapStream(fresh, s.recordType, identity, s.wakeups)
	s.handOverPins(recreated.stream, info.RecordsAcked)
	// Events it queued before it joined the group may have come with a wakeup that the drainer
	// read for the others.
	recreated.drainQueued()
	return recreated, nil
}

// StreamState is the state of a stream.
type StreamState int32

// The states of a stream.
const (
	StateOpen       StreamState = C.ZB_STREAM_OPEN       // records flow to the server
	StateRecovering StreamState = C.ZB_STREAM_RECOVERING // reconnecting after a retryable failure
	StatePaused     StreamState = C.ZB_STREAM_PAUSED     // the server announced it will close the call
	StateFailed     StreamState = C.ZB_STREAM_FAILED     // failed for good
	StateClosed     StreamState = C.ZB_STREAM_CLOSED     // closed
)

// String returns the library's name for the state, such as "recovering", or "StreamState(N)"
// for a state the loaded library does not know.
func (s StreamState) String() string {
	if name := C.zb_stream_state_name(C.zb_stream_state(s)); name != nil {
		return C.GoString(name)
	}
	return fmt.Sprintf("StreamState(%d)", int32(s))
}

// StreamInfo is a snapshot of a stream's state and counters.
type StreamInfo struct {
	State           StreamState
	RecordsAccepted uint64 // offsets issued so far: the next offset
	RecordsAcked    uint64 // every offset below this is durable
	RecordsInFlight uint64 // accepted and not yet acknowledged
	BytesInFlight   uint64 // their bytes, framing included
	Recoveries      uint64 // connections re-established after a failure or close signal
	RecordsReplayed uint64 // records sent again on a new connection
}

// Info returns the stream's state and counters; after Close, as they were when the native
// stream was released. It never fails on a stream this package opened; the error is the
// library's ErrInvalidArg, should it ever refuse.
func (s *Stream) Info() (StreamInfo, error) { return s.info() }

func (s *stream) info() (StreamInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return s.finalInfo, nil
	}
	return s.readInfo()
}

func (s *stream) readInfo() (StreamInfo, error) {
	info := C.zb_stream_info{struct_size: C.uint32_t(unsafe.Sizeof(C.zb_stream_info{}))}
	var cerr *C.zb_error
	if status := C.zb_stream_get_info(s.c, &info, &cerr); status != C.ZB_OK {
		return StreamInfo{}, takeError(status, cerr)
	}
	return StreamInfo{
		State:           StreamState(info.state),
		RecordsAccepted: uint64(info.records_accepted),
		RecordsAcked:    uint64(info.records_acked),
		RecordsInFlight: uint64(info.records_in_flight),
		BytesInFlight:   uint64(info.bytes_in_flight),
		Recoveries:      uint64(info.recoveries),
		RecordsReplayed: uint64(info.records_replayed),
	}, nil
}

func errStreamClosed() *Error { return newError(ErrClosed, "the stream is closed") }

// IngestJSON accepts one JSON object on a stream of NewStreamFromSchema or
// NewAvroStreamFromSchema, encoded to a protobuf record or an Avro datum first, or on a stream
// of NewJSONStream, as Ingest does.
//
// Errors: those of Ingest; ErrInvalidRecord, naming the column, for an object the schema does
// not take; ErrRecordType on a stream of NewProtoStream or NewAvroStream.
func (s *Stream) IngestJSON(json []byte) (uint64, error) {
	return s.ingest(C.ZB_RECORD_JSON, json)
}

// IngestJSONBatch accepts JSON objects as one unit, as IngestJSON accepts one and IngestBatch
// accepts a batch: when one does not fit, ErrInvalidRecord says which and none is accepted.
func (s *Stream) IngestJSONBatch(records [][]byte) (uint64, error) {
	return s.ingestBatch(C.ZB_RECORD_JSON, records)
}
