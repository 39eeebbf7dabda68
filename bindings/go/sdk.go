package zerobus

// #include <stdlib.h>
// #include <zerobus/arrow_c_data.h>
// #include "zbgo.h"
import "C"

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
)

// SDK is one Zerobus endpoint. Its streams share one HTTP/2 connection. All methods are safe
// to call from any number of goroutines at once.
//
// Close the SDK when no more streams are to be opened from it; streams already open keep
// working until they are closed themselves.
type SDK struct {
	// mu is read-held by every call that uses c and write-held while c is released.
	mu      sync.RWMutex
	c       *C.zb_sdk // nil once closed
	options []Option
}

// NewSDK creates an SDK for `endpoint`: "host[:port]" or "https://host[:port]" for TLS with
// the system's trust store, or "http://host:port" for a plaintext local server such as
// `zerobus serve`. No network I/O happens here; the connection opens with the first stream.
//
// `options` configure the SDK and are the defaults of each stream it opens.
//
// Errors: ErrInvalidTarget for a malformed endpoint; ErrUnknownKey or ErrInvalidValue for a
// bad option; a plain error when the loaded libzerobus has an incompatible version.
func NewSDK(endpoint string, options ...Option) (*SDK, error) {
	if versionError != nil {
		return nil, versionError
	}
	cfg, err := newConfig(options, sdkScope)
	if err != nil {
		return nil, err
	}
	defer C.zb_config_destroy(cfg)
	if err := nameTheBinding(cfg); err != nil {
		return nil, err
	}
	cendpoint := C.CString(endpoint)
	defer C.free(unsafe.Pointer(cendpoint))
	sdk := &SDK{options: append([]Option(nil), options...)}
	var cerr *C.zb_error
	if status := C.zb_sdk_new(cendpoint, cfg, &sdk.c, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	// Only a safety net: Close is the way to release an SDK.
	runtime.SetFinalizer(sdk, (*SDK).release)
	return sdk, nil
}

// Close releases the SDK. Streams opened from it keep working (and go on logging through
// WithLogger's logger); the connection closes with the last of them. The statistics callback
// stops: once Close returns, it is not running and will not run again. Idempotent; always
// returns nil (it implements io.Closer).
func (s *SDK) Close() error {
	runtime.SetFinalizer(s, nil)
	s.release()
	return nil
}

func (s *SDK) release() {
	s.mu.Lock()
	c := s.c
	s.c = nil
	s.mu.Unlock()
	// Outside mu: zb_sdk_destroy waits for a statistics callback under way, which may be
	// calling methods of this SDK.
	C.zb_sdk_destroy(c)
}

// NewProtoStream opens a stream of protobuf records into `table` ("catalog.schema.table") and
// returns once the server has accepted it. `descriptor` is the record message as a serialized
// google.protobuf.DescriptorProto (DescriptorOf makes one from a generated message); it is
// copied. Connection attempts are retried as the recovery options say.
//
// When ctx ends first, NewProtoStream returns ctx.Err() at once; the attempt under way then
// finishes in the background, and a stream it opens is closed.
//
// Errors: ErrInvalidTarget for a malformed table name or descriptor; ErrTransport with the
// gRPC status when the server refused the stream, could not be reached or did not accept it
// within recovery.timeout.ms (DEADLINE_EXCEEDED); ErrAuth; ErrUnknownKey or ErrInvalidValue
// for a bad option; ErrClosed after Close.
func (s *SDK) NewProtoStream(ctx context.Context, table string, descriptor []byte,
	options ...Option) (*Stream, error) {
	return s.newStream(ctx, table, C.ZB_RECORD_PROTO, descriptor, options)
}

// NewJSONStream opens a stream of JSON records (one object per record) into `table`, as
// NewProtoStream does.
func (s *SDK) NewJSONStream(ctx context.Context, table string, options ...Option) (*Stream, error) {
	return s.newStream(ctx, table, C.ZB_RECORD_JSON, nil, options)
}

// NewStreamFromSchema opens a stream of protobuf records into the schema's table with the
// schema's descriptor, as NewProtoStream does. Besides protobuf records (Ingest, IngestBatch),
// it takes JSON records (IngestJSON, IngestJSONBatch), each encoded to protobuf before it is
// accepted; Unacked returns the protobuf records. The stream keeps what it needs of the
// schema: closing the schema afterwards is safe.
//
// Errors: those of NewProtoStream; ErrClosed for a closed schema.
func (s *SDK) NewStreamFromSchema(ctx context.Context, schema *Schema,
	options ...Option) (*Stream, error) {
	return s.openStream(ctx, &streamRequest{recordType: C.ZB_RECORD_PROTO, from: schema}, nil,
		options)
}

// streamRequest is what zb_stream_new needs, in C memory so that an attempt abandoned by its
// context can go on using it after the caller's slices are gone.
type streamRequest struct {
	table      *C.char
	recordType C.zb_record_type
	descriptor unsafe.Pointer
	length     C.size_t
	cfg        *C.zb_config
	// from, when set, opens the stream from the schema instead (Schema.openStream).
	from *Schema
	// arrowSchema, when set, opens an Arrow stream of it (NewArrowStream).
	arrowSchema *C.struct_ArrowSchema
	// persistent opens a persistent stream: created anew, or resumed when resumeID is set
	// (persistent.go).
	persistent bool
	resumeID   *C.char
}

func (r *streamRequest) free() {
	C.free(unsafe.Pointer(r.table))
	C.free(unsafe.Pointer(r.resumeID))
	C.free(r.descriptor)
	C.zb_config_destroy(r.cfg)
	freeArrowSchema(r.arrowSchema)
}

type openedStream struct {
	c   *C.zb_stream
	err error
	// identity is a persistent stream's, read while the opening had it to itself.
	identity *persistentIdentity
}

func (s *SDK) newStream(ctx context.Context, table string, recordType C.zb_record_type,
	descriptor []byte, options []Option) (*Stream, error) {
	return s.openStream(ctx, &streamRequest{table: C.CString(table), recordType: recordType},
		descriptor, options)
}

// openStream opens the stream `request` describes; it fills in the descriptor and the
// configuration, and owns the request from then on.
func (s *SDK) openStream(ctx context.Context, request *streamRequest, descriptor []byte,
	options []Option) (*Stream, error) {
	if err := ctx.Err(); err != nil {
		request.free()
		return nil, err
	}
	cfg, err := newConfig(append(s.options[:len(s.options):len(s.options)], options...), streamScope)
	if err != nil {
		request.free()
		return nil, err
	}
	request.cfg = cfg
	wakeups, err := newWakeupPipe(cfg)
	if err != nil {
		request.free()
		return nil, err
	}
	recordType := request.recordType
	if len(descriptor) > 0 {
		request.descriptor = C.CBytes(descriptor)
		request.length = C.size_t(len(descriptor))
	}

	if ctx.Done() == nil { // cannot be cancelled: no need for a goroutine
		opened := s.open(request)
		return finishOpen(opened, recordType, wakeups)
	}
	result := make(chan openedStream, 1)
	go func() { result <- s.open(request) }()
	select {
	case opened := <-result:
		return finishOpen(opened, recordType, wakeups)
	case <-ctx.Done():
		go func() {
			if opened := <-result; opened.c != nil {
				C.zb_stream_destroy(opened.c)
			}
			wakeups.Close()
		}()
		return nil, ctx.Err()
	}
}

// open runs zb_stream_new and frees the request.
func (s *SDK) open(request *streamRequest) openedStream {
	defer request.free()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return openedStream{err: errSDKClosed()}
	}
	if request.from != nil {
		return request.from.openStream(s.c, request.recordType, request.cfg)
	}
	if request.persistent {
		return openPersistent(s.c, request)
	}
	var opened openedStream
	var cerr *C.zb_error
	if request.arrowSchema != nil {
		status := C.zb_stream_new_arrow(s.c, request.table, request.arrowSchema, request.cfg,
			&opened.c, &cerr)
		if status != C.ZB_OK {
			opened.err = takeError(status, cerr)
		}
		return opened
	}
	status := C.zb_stream_new(s.c, request.table, request.recordType, request.descriptor,
		request.length, request.cfg, &opened.c, &cerr)
	if status != C.ZB_OK {
		opened.err = takeError(status, cerr)
	}
	return opened
}

func errSDKClosed() *Error { return newError(ErrClosed, "the SDK is closed") }
