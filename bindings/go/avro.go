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
	return s.openStream(ctx, &streamRequest{recordType: C.ZB_RECORD_AVRO, from: schema}, nil,
		options)
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
