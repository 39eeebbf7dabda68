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

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// NewArrowStream opens a stream of Arrow record batches of `schema` into `table`, as
// NewProtoStream opens a stream of records: the batches travel over Arrow Flight, each under
// one offset, durable once every row of it is. The server checks `schema` against the table's
// columns (docs/SCHEMAS.md, "Delta → Arrow") before the stream opens. Take batches with
// IngestArrow, IngestArrowReader and IngestArrowIPC; Unacked gives each unacknowledged batch as
// Arrow IPC stream bytes (its schema and the batch cut to its unacknowledged rows), which
// arrow-go's ipc.NewReader reads. Ingest and the other record methods return ErrRecordType.
//
// Errors: those of NewProtoStream; ErrInvalidSchema, naming the column and the type, for a
// type the library does not carry; ErrTransport (INVALID_ARGUMENT) naming the column and both
// types when the schema does not fit the table.
func (s *SDK) NewArrowStream(ctx context.Context, table string, schema *arrow.Schema,
	options ...Option) (*Stream, error) {
	exported := (*C.struct_ArrowSchema)(C.calloc(1, C.sizeof_struct_ArrowSchema))
	cdata.ExportArrowSchema(schema, (*cdata.CArrowSchema)(unsafe.Pointer(exported)))
	return s.openStream(ctx, &streamRequest{table: C.CString(table),
		recordType: C.ZB_RECORD_ARROW, arrowSchema: exported}, nil, options)
}

// freeArrowSchema releases and frees a schema NewArrowStream exported; nil is a no-op.
func freeArrowSchema(schema *C.struct_ArrowSchema) {
	if schema == nil {
		return
	}
	cdata.ReleaseCArrowSchema((*cdata.CArrowSchema)(unsafe.Pointer(schema)))
	C.free(unsafe.Pointer(schema))
}

// IngestArrow accepts one record batch of the stream's schema under one offset and returns
// it. The batch is not copied: its buffers go to the wire as they are, so they must not be
// changed until the batch is durable. The stream holds a reference to the batch's data until
// then (the caller's own reference is untouched: Release the record when done with it, as
// usual). When the in-flight window is full, IngestArrow waits for room as WithIngestTimeout
// says.
//
// Errors: ErrEmptyBatch for a batch of no rows; ErrInvalidRecord, naming the column, for
// arrays whose shape contradicts the schema; ErrRecordTooLarge when one row does not fit into
// one message; ErrQueueFull; ErrRecordType on a record stream; ErrClosed once Close has
// started; after the stream failed, the error it failed with.
func (s *Stream) IngestArrow(record arrow.RecordBatch) (uint64, error) {
	record = exportable(record)
	defer record.Release()
	var pins runtime.Pinner
	pinRecord(&pins, record)
	batch := (*C.struct_ArrowArray)(C.calloc(1, C.sizeof_struct_ArrowArray))
	defer C.free(unsafe.Pointer(batch))
	cdata.ExportArrowRecordBatch(record, (*cdata.CArrowArray)(unsafe.Pointer(batch)), nil)

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil || s.closing.Load() {
		cdata.ReleaseCArrowArray((*cdata.CArrowArray)(unsafe.Pointer(batch)))
		pins.Unpin()
		return 0, errStreamClosed()
	}
	var offset C.uint64_t
	var cerr *C.zb_error
	status := C.zb_stream_ingest_arrow(s.c, batch, &offset, &cerr)
	if status != C.ZB_OK {
		// The library released the batch, or left it untouched (ZB_ERR_INVALID_ARG).
		if batch.release != nil {
			cdata.ReleaseCArrowArray((*cdata.CArrowArray)(unsafe.Pointer(batch)))
		}
		pins.Unpin()
		return 0, takeError(status, cerr)
	}
	s.holdPins(&pins, uint64(offset))
	return uint64(offset), nil
}

// IngestArrowReader accepts every batch `reader` yields, in order, each under an offset of its
// own as IngestArrow accepts it (batches of no rows are skipped), and returns the offset of the
// last and how many it accepted. The reader's schema must equal the stream's. The stream
// takes a reference to `reader` for the call and releases it; the caller's own is untouched.
// At the first failure it stops: the batches before it stay accepted.
//
// Errors: those of IngestArrow; ErrInvalidSchema when the reader's schema is not the stream's
// (naming the first column that differs); ErrInvalidRecord quoting the reader's error.
func (s *Stream) IngestArrowReader(reader array.RecordReader) (last uint64, count int, err error) {
	var pins runtime.Pinner
	stream := (*C.struct_ArrowArrayStream)(C.calloc(1, C.sizeof_struct_ArrowArrayStream))
	defer C.free(unsafe.Pointer(stream))
	cdata.ExportRecordReader(&pinningReader{RecordReader: reader, pins: &pins},
		(*cdata.CArrowArrayStream)(unsafe.Pointer(stream)))

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil || s.closing.Load() {
		cdata.ReleaseCArrowArrayStream((*cdata.CArrowArrayStream)(unsafe.Pointer(stream)))
		return 0, 0, errStreamClosed()
	}
	var offset C.uint64_t
	var accepted C.size_t
	var cerr *C.zb_error
	status := C.zb_stream_ingest_arrow_stream(s.c, stream, &offset, &accepted, &cerr)
	if stream.release != nil { // ZB_ERR_INVALID_ARG leaves it untouched
		cdata.ReleaseCArrowArrayStream((*cdata.CArrowArrayStream)(unsafe.Pointer(stream)))
	}
	if accepted > 0 {
		s.holdPins(&pins, uint64(offset))
	} else {
		pins.Unpin()
	}
	if status != C.ZB_OK {
		return uint64(offset), int(accepted), takeError(status, cerr)
	}
	return uint64(offset), int(accepted), nil
}

// IngestArrowIPC accepts the record batches of Arrow IPC stream bytes (a schema message, the
// stream's schema, then record batches, as arrow-go's ipc.NewWriter writes them), each under an
// offset of its own; the bytes are copied before it returns. It returns the offset of the last
// batch accepted and how many it accepted. Every batch is decoded before any is accepted.
//
// Errors: those of IngestArrow; ErrInvalidRecord for bytes that do not decode (the message
// says what and where); ErrInvalidSchema for a schema that is not the stream's; ErrEmptyBatch
// when they hold no rows at all.
func (s *Stream) IngestArrowIPC(data []byte) (last uint64, count int, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil || s.closing.Load() {
		return 0, 0, errStreamClosed()
	}
	var offset C.uint64_t
	var accepted C.size_t
	var cerr *C.zb_error
	status := C.zb_stream_ingest_arrow_ipc(s.c, recordPointer(data), C.size_t(len(data)),
		&offset, &accepted, &cerr)
	if status != C.ZB_OK {
		return uint64(offset), int(accepted), takeError(status, cerr)
	}
	return uint64(offset), int(accepted), nil
}

// A batch's buffers may be Go memory, which the library reads after the ingest call returns:
// cgo's rules let C keep a Go pointer only while it is pinned. The stream keeps each batch's
// pins until a later ingest call finds the batch durable, and drops them all when the native
// stream is destroyed. The library may release a durable batch a moment after its pins go:
// harmless, as Go's collector moves no heap memory and the stream's reference keeps the data
// alive until that release. Pinning memory of another allocator (arrow-go's mallocator) does
// nothing.

// heldPins are the pins of the batches up to offset `through`.
type heldPins struct {
	through uint64
	pins    *runtime.Pinner
}

// arrowPins are a stream's pins.
type arrowPins struct {
	mu   sync.Mutex
	held []heldPins
}

// holdPins keeps `pins` until offset `through` is durable, and unpins those of the batches
// durable by now. Called with s.mu read-held.
func (s *stream) holdPins(pins *runtime.Pinner, through uint64) {
	info, err := s.readInfo()
	s.pins.mu.Lock()
	defer s.pins.mu.Unlock()
	s.pins.held = append(s.pins.held, heldPins{through: through, pins: pins})
	if err != nil {
		return
	}
	kept := s.pins.held[:0]
	for _, held := range s.pins.held {
		if held.through < info.RecordsAcked {
			held.pins.Unpin()
		} else {
			kept = append(kept, held)
		}
	}
	clear(s.pins.held[len(kept):])
	s.pins.held = kept
}

// unpinAll drops every pin; called once the native stream, and with it every batch, is gone.
// handOverPins moves to `to`, a stream recreated from this one, the pins of the batches that
// are not durable (offsets from `acked` on): it sends them again from the same memory, the
// first of them as its offset 0.
func (s *stream) handOverPins(to *stream, acked uint64) {
	s.pins.mu.Lock()
	defer s.pins.mu.Unlock()
	to.pins.mu.Lock()
	defer to.pins.mu.Unlock()
	kept := s.pins.held[:0]
	for _, held := range s.pins.held {
		if held.through < acked {
			kept = append(kept, held)
		} else {
			to.pins.held = append(to.pins.held, heldPins{through: held.through - acked,
				pins: held.pins})
		}
	}
	s.pins.held = kept
}

func (s *stream) unpinAll() {
	s.pins.mu.Lock()
	defer s.pins.mu.Unlock()
	for _, held := range s.pins.held {
		held.pins.Unpin()
	}
	s.pins.held = nil
}

// pinRecord pins every buffer of every column of `record`.
func pinRecord(pins *runtime.Pinner, record arrow.RecordBatch) {
	for _, column := range record.Columns() {
		pinArrayData(pins, column.Data())
	}
}

func pinArrayData(pins *runtime.Pinner, data arrow.ArrayData) {
	for _, buffer := range data.Buffers() {
		if buffer != nil && buffer.Len() > 0 {
			pins.Pin(&buffer.Bytes()[0])
		}
	}
	for _, child := range data.Children() {
		pinArrayData(pins, child)
	}
	if data.DataType().ID() == arrow.DICTIONARY {
		pinArrayData(pins, data.Dictionary())
	}
}

// pinningReader yields the records of a RecordReader made exportable and pinned, for the C
// stream to export. The C stream holds the one reference to it: its Release is the last.
type pinningReader struct {
	array.RecordReader
	pins    *runtime.Pinner
	current arrow.RecordBatch
}

func (r *pinningReader) Next() bool {
	r.dropCurrent()
	if !r.RecordReader.Next() {
		return false
	}
	r.current = exportable(r.RecordReader.RecordBatch())
	pinRecord(r.pins, r.current)
	return true
}

func (r *pinningReader) Record() arrow.RecordBatch      { return r.current }
func (r *pinningReader) RecordBatch() arrow.RecordBatch { return r.current }

func (r *pinningReader) Release() {
	r.dropCurrent()
	r.RecordReader.Release()
}

func (r *pinningReader) dropCurrent() {
	if r.current != nil {
		r.current.Release()
		r.current = nil
	}
}

// exportable returns `record`, or a record of the same data with every struct array that has a
// non-zero offset rebuilt at offset 0; the caller releases it. arrow-go's cdata export gives a
// sliced struct array's children already sliced while keeping the struct's offset, which the
// C Data Interface reads as the offset applied twice (the library then refuses the batch: "2
// values where its parent needs 3"). Only the struct's validity bitmap is copied; the children
// are shared.
func exportable(record arrow.RecordBatch) arrow.RecordBatch {
	columns := make([]arrow.Array, record.NumCols())
	rebuilt := false
	for i, column := range record.Columns() {
		var changed bool
		columns[i], changed = unslicedStructs(column)
		if changed {
			defer columns[i].Release()
			rebuilt = true
		}
	}
	if !rebuilt {
		record.Retain()
		return record
	}
	return array.NewRecordBatch(record.Schema(), columns, record.NumRows())
}

// unslicedStructs returns `column` with its struct arrays at offset 0, and whether it is a new
// array (which the caller releases) rather than `column` itself.
func unslicedStructs(column arrow.Array) (arrow.Array, bool) {
	structs, ok := column.(*array.Struct)
	if !ok {
		return column, false
	}
	changed := structs.Data().Offset() != 0
	fields := make([]arrow.ArrayData, structs.NumField())
	for i := range fields {
		field, fieldChanged := unslicedStructs(structs.Field(i)) // sliced to the struct's rows
		if fieldChanged {
			defer field.Release()
			changed = true
		}
		fields[i] = field.Data()
	}
	if !changed {
		return column, false
	}
	var validity *memory.Buffer
	if bitmap := structs.NullBitmapBytes(); structs.NullN() > 0 && len(bitmap) > 0 {
		validity = memory.NewBufferBytes(make([]byte, bitutil.BytesForBits(int64(structs.Len()))))
		bitutil.CopyBitmap(bitmap, structs.Data().Offset(), structs.Len(), validity.Bytes(), 0)
	}
	data := array.NewData(structs.DataType(), structs.Len(), []*memory.Buffer{validity}, fields,
		structs.NullN(), 0)
	defer data.Release()
	return array.MakeFromData(data), true
}
