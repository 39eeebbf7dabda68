package zerobus

// #include <stdlib.h>
// #include "zbgo.h"
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Schema is a table's protobuf shape, made by the library from the table's description: the
// descriptor a protobuf stream of the table is opened with, its .proto source, and an encoder
// from JSON records to protobuf ones (docs/SCHEMAS.md gives the type mapping and the JSON
// forms). All methods are safe to call from any number of goroutines at once.
type Schema struct {
	// mu is read-held by every call that uses c and write-held while c is released.
	mu sync.RWMutex
	c  *C.zb_schema // nil once closed

	table       string
	descriptor  []byte
	protoSource string
}

// SchemaFromDDL builds the schema of one Delta DDL statement, such as
// "main.default.events (id BIGINT NOT NULL, tags ARRAY<STRING>)".
//
// Errors: ErrInvalidSchema when the statement is malformed or has a type the service cannot
// take (the message says which column and why).
func SchemaFromDDL(ddl string) (*Schema, error) {
	cddl := C.CString(ddl)
	defer C.free(unsafe.Pointer(cddl))
	var schema *C.zb_schema
	var cerr *C.zb_error
	if status := C.zb_schema_from_ddl(cddl, &schema, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	return newSchema(schema)
}

// SchemaFromTableJSON builds the schema of a Unity Catalog table description: the JSON body of
// GET /api/2.1/unity-catalog/tables/{full_name}.
//
// Errors: ErrInvalidSchema when the text is not such a description or names a type the
// service cannot take.
func SchemaFromTableJSON(description []byte) (*Schema, error) {
	var schema *C.zb_schema
	var cerr *C.zb_error
	status := C.zb_schema_from_table_json((*C.char)(recordPointer(description)),
		C.size_t(len(description)), &schema, &cerr)
	if status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	return newSchema(schema)
}

// newSchema copies what never changes out of `c` once, so that reading it costs no cgo call.
func newSchema(c *C.zb_schema) (*Schema, error) {
	var data unsafe.Pointer
	var length C.size_t
	var cerr *C.zb_error
	if status := C.zb_schema_descriptor(c, &data, &length, &cerr); status != C.ZB_OK {
		C.zb_schema_destroy(c)
		return nil, takeError(status, cerr)
	}
	s := &Schema{
		c:           c,
		table:       C.GoString(C.zb_schema_table_name(c)),
		descriptor:  C.GoBytes(data, C.int(length)),
		protoSource: C.GoString(C.zb_schema_proto_source(c)),
	}
	// Only a safety net: Close is the way to release a schema.
	runtime.SetFinalizer(s, (*Schema).release)
	return s, nil
}

// TableName returns the table's name, "catalog.schema.table".
func (s *Schema) TableName() string { return s.table }

// Descriptor returns the serialized DescriptorProto that NewProtoStream takes for the table.
// The slice is the caller's own copy.
func (s *Schema) Descriptor() []byte { return append([]byte(nil), s.descriptor...) }

// ProtoSource returns the descriptor's proto2 source, as protoc would compile it.
func (s *Schema) ProtoSource() string { return s.protoSource }

// EncodeJSON appends to `dst` the protobuf record of the JSON object `json`, and returns the
// extended slice; pass nil for a new one.
//
// Errors: ErrInvalidRecord when the object does not fit the schema (the message names the
// column and the reason); ErrClosed after Close.
func (s *Schema) EncodeJSON(dst, json []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return dst, newError(ErrClosed, "the schema is closed")
	}
	// A record is rarely much longer than its JSON text; when it is, the library tells the
	// size it needs and a second call encodes into that.
	start := len(dst)
	dst = append(dst, make([]byte, len(json)+16)...)
	for {
		size := C.size_t(len(dst) - start)
		var cerr *C.zb_error
		status := C.zb_schema_encode_json(s.c, (*C.char)(recordPointer(json)), C.size_t(len(json)),
			recordPointer(dst[start:]), &size, &cerr)
		if status != C.ZB_OK {
			return dst[:start], takeError(status, cerr)
		}
		if int(size) <= len(dst)-start {
			return dst[:start+int(size)], nil
		}
		dst = append(dst, make([]byte, int(size)-(len(dst)-start))...)
	}
}

// Close releases the schema. Streams opened with its descriptor keep working. Idempotent;
// always returns nil (it implements io.Closer).
func (s *Schema) Close() error {
	runtime.SetFinalizer(s, nil)
	s.release()
	return nil
}

func (s *Schema) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	C.zb_schema_destroy(s.c)
	s.c = nil
}

// openStream runs zb_stream_new_from_schema (or zb_stream_new_avro_from_schema for an Avro
// stream) on the schema, which stays open for the call.
func (s *Schema) openStream(sdk *C.zb_sdk, recordType C.zb_record_type,
	cfg *C.zb_config) openedStream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return openedStream{err: newError(ErrClosed, "the schema is closed")}
	}
	var opened openedStream
	var cerr *C.zb_error
	var status C.zb_status
	if recordType == C.ZB_RECORD_AVRO {
		status = C.zb_stream_new_avro_from_schema(sdk, s.c, cfg, &opened.c, &cerr)
	} else {
		status = C.zb_stream_new_from_schema(sdk, s.c, cfg, &opened.c, &cerr)
	}
	if status != C.ZB_OK {
		opened.err = takeError(status, cerr)
	}
	return opened
}
