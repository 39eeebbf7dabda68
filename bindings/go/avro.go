package zerobus

// #include "zbgo.h"
import "C"

import "context"

// NewAvroStream opens a stream of Avro datums into `table`, as NewProtoStream does.
// `writerSchema` is the Avro JSON of the record schema the datums are written with; the server
// checks it against the table's columns (docs/SCHEMAS.md, "Avro", says which writer types a
// column takes). Each record is then one raw datum of that schema, without framing.
//
// Errors: those of NewProtoStream; ErrInvalidTarget for a writer schema that is not the JSON
// of an Avro record; ErrTransport (gRPC INVALID_ARGUMENT, the column named) for one that does
// not fit the table.
func (s *SDK) NewAvroStream(ctx context.Context, table, writerSchema string,
	options ...Option) (*Stream, error) {
	return s.newStream(ctx, table, C.ZB_RECORD_AVRO, []byte(writerSchema), options)
}

// NewAvroStreamFromSchema opens a stream of Avro datums into the schema's table with the
// table's own writer schema (Schema.Avro), as NewAvroStream does. Besides datums of that
// schema (Ingest, IngestBatch), it takes JSON records (IngestJSON, IngestJSONBatch), each
// encoded to a datum before it is accepted; Unacked returns the datums. The stream keeps what
// it needs of the schema: closing the schema afterwards is safe.
//
// Errors: those of NewAvroStream; ErrInvalidSchema for a table with no Avro form; ErrClosed
// for a closed schema.
func (s *SDK) NewAvroStreamFromSchema(ctx context.Context, schema *Schema,
	options ...Option) (*Stream, error) {
	return s.openStream(ctx, &streamRequest{recordType: C.ZB_RECORD_AVRO, avroOf: schema}, nil,
		options)
}

// openAvroStream runs zb_stream_new_avro_from_schema on the schema, which stays open for the
// call.
func (s *Schema) openAvroStream(sdk *C.zb_sdk, cfg *C.zb_config) openedStream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return openedStream{err: newError(ErrClosed, "the schema is closed")}
	}
	var opened openedStream
	var cerr *C.zb_error
	if status := C.zb_stream_new_avro_from_schema(sdk, s.c, cfg, &opened.c, &cerr); status != C.ZB_OK {
		opened.err = takeError(status, cerr)
	}
	return opened
}

// IngestJSON accepts one JSON object on a stream of NewAvroStreamFromSchema, encoded to an
// Avro datum first, or on a stream of NewJSONStream, as Ingest does.
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

// Avro returns the Avro writer schema of the table (Avro JSON), as docs/SCHEMAS.md maps Delta
// types to Avro: what NewAvroStream takes for the table, and what NewAvroStreamFromSchema
// opens with.
//
// Errors: ErrInvalidSchema for a table with no Avro form (a MAP keyed by anything but a
// string; the message names the column); ErrClosed after Close.
func (s *Schema) Avro() (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return "", newError(ErrClosed, "the schema is closed")
	}
	var text *C.char
	var cerr *C.zb_error
	if status := C.zb_schema_avro(s.c, &text, &cerr); status != C.ZB_OK {
		return "", takeError(status, cerr)
	}
	return C.GoString(text), nil
}
