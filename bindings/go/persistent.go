package zerobus

// Persistent streams. Every exported name here is marked Experimental, as grpc-go marks its
// own: the service marks the calls behind them (PersistentStream, RetireStream) "in
// development: may change or be removed", so these may change or go in any release. README.md
// says why doc marking rather than a build tag.

// #include <stdlib.h>
// #include "zbgo.h"
import "C"

import (
	"context"
	"unsafe"
)

// PersistentFormat is the record type of a persistent stream and what describes it:
// PersistentJSON, PersistentProto or PersistentAvro. A resume must give the format the stream
// was created with.
//
// Experimental: this type may change or be removed in a later release.
type PersistentFormat struct {
	recordType C.zb_record_type
	descriptor []byte
}

// PersistentJSON is the format of a persistent stream of JSON records.
//
// Experimental: this function may change or be removed in a later release.
func PersistentJSON() PersistentFormat { return PersistentFormat{recordType: C.ZB_RECORD_JSON} }

// PersistentProto is the format of a persistent stream of protobuf records of `descriptor`, a
// serialized google.protobuf.DescriptorProto (DescriptorOf). A resume must give the same bytes:
// the server compares them.
//
// Experimental: this function may change or be removed in a later release.
func PersistentProto(descriptor []byte) PersistentFormat {
	return PersistentFormat{recordType: C.ZB_RECORD_PROTO, descriptor: descriptor}
}

// PersistentAvro is the format of a persistent stream of raw Avro datums of `writerSchema`, as
// NewAvroStream takes it.
//
// Experimental: this function may change or be removed in a later release.
func PersistentAvro(writerSchema string) PersistentFormat {
	return PersistentFormat{recordType: C.ZB_RECORD_AVRO, descriptor: []byte(writerSchema)}
}

// persistentIdentity is what a persistent stream was opened as: its durable id, and the
// watermark it was resumed at. Read once at the opening, so that it stays readable after
// Close.
type persistentIdentity struct {
	id            string
	lastCommitted uint64
	committed     bool
}

// NewPersistentStream creates a persistent stream into `table` and returns once the server has
// created it. Its durable id (Stream.PersistentID) lets any process resume it with
// ResumePersistentStream from the last offset the server committed, so that nothing is stored
// twice and nothing is lost. Each wire request carries one record, so the offset Ingest
// returns is the durable offset; a new stream issues 0, 1, 2, ... Everything else is a
// Stream's: batches (one request per record), Events, WaitForOffset, Flush, Close, Unacked,
// statistics; a broken connection resumes by the id and sends again only what the server had
// not committed. Close leaves the stream resumable; RetirePersistentStream ends it.
//
// Errors: those of NewProtoStream; ErrInvalidArg for WithLanes above 1; ErrTransport with
// GRPCStatus 9 (FAILED_PRECONDITION) from a server that cannot keep persistent streams.
//
// Experimental: this method may change or be removed in a later release.
func (s *SDK) NewPersistentStream(ctx context.Context, table string, format PersistentFormat,
	options ...Option) (*Stream, error) {
	request := &streamRequest{table: C.CString(table), recordType: format.recordType,
		persistent: true}
	return s.openStream(ctx, request, format.descriptor, options)
}

// ResumePersistentStream resumes persistent stream `streamID` of `table`, of the format it was
// created with, and returns once the server has resumed it: Stream.ResumeWatermark then says
// what the server had committed, and the next offset Ingest returns is that watermark + 1
// (0 when nothing was committed). Records at or below the watermark are durable, none above.
//
// Errors: those of NewPersistentStream, and ErrTransport with GRPCStatus 5 (NOT_FOUND) for an
// id the server does not know, 9 (FAILED_PRECONDITION) for a retired stream, 3
// (INVALID_ARGUMENT) for another format than the creating one, all final; 10 (ABORTED) while
// another call holds the stream, returned once the recovery retries are spent.
//
// Experimental: this method may change or be removed in a later release.
func (s *SDK) ResumePersistentStream(ctx context.Context, table, streamID string,
	format PersistentFormat, options ...Option) (*Stream, error) {
	request := &streamRequest{table: C.CString(table), recordType: format.recordType,
		persistent: true, resumeID: C.CString(streamID)}
	return s.openStream(ctx, request, format.descriptor, options)
}

// openPersistent creates or resumes the persistent stream `request` describes, and reads its
// identity.
func openPersistent(sdk *C.zb_sdk, request *streamRequest) openedStream {
	var opened openedStream
	var cerr *C.zb_error
	var status C.zb_status
	if request.resumeID != nil {
		status = C.zb_stream_resume(sdk, request.table, request.resumeID, request.recordType,
			request.descriptor, request.length, request.cfg, &opened.c, &cerr)
	} else {
		status = C.zb_stream_new_persistent(sdk, request.table, request.recordType,
			request.descriptor, request.length, request.cfg, &opened.c, &cerr)
	}
	if status != C.ZB_OK {
		opened.err = takeError(status, cerr)
		return opened
	}
	if opened.identity, opened.err = readIdentity(opened.c); opened.err != nil {
		C.zb_stream_destroy(opened.c)
		opened.c = nil
	}
	return opened
}

func readIdentity(stream *C.zb_stream) (*persistentIdentity, error) {
	var id *C.char
	var length C.size_t
	var cerr *C.zb_error
	if status := C.zb_stream_persistent_id(stream, &id, &length, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	identity := &persistentIdentity{id: C.GoStringN(id, C.int(length))}
	C.zb_string_free(id)
	var committed C.int32_t
	var last C.uint64_t
	if status := C.zb_stream_resume_watermark(stream, &committed, &last, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	identity.committed, identity.lastCommitted = committed != 0, uint64(last)
	return identity, nil
}

// PersistentID returns the durable id of a persistent stream, to keep for
// ResumePersistentStream and RetirePersistentStream. It stays readable after Close.
//
// Errors: ErrState for a stream that is not persistent.
//
// Experimental: this method may change or be removed in a later release.
func (s *Stream) PersistentID() (string, error) {
	if s.identity == nil {
		return "", errNotPersistent()
	}
	return s.identity.id, nil
}

// ResumeWatermark returns the last offset the server had committed when
// ResumePersistentStream opened the stream, with committed true; committed is false when the
// server had committed nothing, and for a stream NewPersistentStream created. It stays
// readable after Close.
//
// Errors: ErrState for a stream that is not persistent.
//
// Experimental: this method may change or be removed in a later release.
func (s *Stream) ResumeWatermark() (lastCommitted uint64, committed bool, err error) {
	if s.identity == nil {
		return 0, false, errNotPersistent()
	}
	return s.identity.lastCommitted, s.identity.committed, nil
}

func errNotPersistent() *Error { return newError(ErrState, "the stream is not persistent") }

// RetirePersistentStream retires persistent stream `streamID` of `table` for good: every later
// resume of it fails with GRPCStatus 9 (FAILED_PRECONDITION), and a call still open on it
// stores nothing more. Idempotent. One call within the recovery timeout (WithRecoveryTimeout),
// authenticated as a stream with `options` would be, not retried. When ctx ends first it
// returns ctx.Err() at once, and the call finishes in the background.
//
// Errors: ErrInvalidTarget for a malformed table name; ErrAuth; ErrTransport with GRPCStatus 5
// (NOT_FOUND) for an id the server does not know for that table, or UNAVAILABLE or
// DEADLINE_EXCEEDED (retryable) when it could not be reached in time; ErrClosed after Close.
//
// Experimental: this method may change or be removed in a later release.
func (s *SDK) RetirePersistentStream(ctx context.Context, table, streamID string,
	options ...Option) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cfg, err := newConfig(append(s.options[:len(s.options):len(s.options)], options...), streamScope)
	if err != nil {
		return err
	}
	ctable, cid := C.CString(table), C.CString(streamID)
	retire := func() error {
		defer C.zb_config_destroy(cfg)
		defer C.free(unsafe.Pointer(ctable))
		defer C.free(unsafe.Pointer(cid))
		s.mu.RLock()
		defer s.mu.RUnlock()
		if s.c == nil {
			return errSDKClosed()
		}
		var cerr *C.zb_error
		if status := C.zb_stream_retire(s.c, ctable, cid, cfg, &cerr); status != C.ZB_OK {
			return takeError(status, cerr)
		}
		return nil
	}
	if ctx.Done() == nil {
		return retire()
	}
	result := make(chan error, 1)
	go func() { result <- retire() }()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
