package zerobus_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

func TestSchemaFromDDLEncodesJSONForAProtoStream(t *testing.T) {
	server := startServer(t)
	schema, err := zerobus.SchemaFromDDL(eventsDDL)
	if err != nil {
		t.Fatal(err)
	}
	defer schema.Close()
	if schema.TableName() != eventsTable || !strings.Contains(schema.ProtoSource(), "payload") {
		t.Fatalf("schema of %q with source %q", schema.TableName(), schema.ProtoSource())
	}

	stream := openProtoWith(t, server.newSDK(), schema.Descriptor())
	var record []byte
	for id := int64(0); id < 20; id++ {
		json := fmt.Appendf(nil, `{"id": %d, "payload": %q}`, id, payloadOf(id))
		record, err = schema.EncodeJSON(record[:0], json)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Ingest(record); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireRows(t, server, 20)

	// A record longer than its JSON text and the room first given for it, appended to what
	// dst holds.
	arrays, err := zerobus.SchemaFromDDL("main.default.arrays (v ARRAY<BIGINT>)")
	if err != nil {
		t.Fatal(err)
	}
	defer arrays.Close()
	json := []byte(`{"v": [-1, -1, -1, -1, -1, -1, -1, -1]}`)
	encoded, err := arrays.EncodeJSON([]byte("prefix"), json)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(encoded, []byte("prefix")) || len(encoded)-len("prefix") <= len(json)+16 {
		t.Fatalf("EncodeJSON(%s) = %x: want the prefix kept and a record of 8 ten-byte varints",
			json, encoded)
	}

	_, err = schema.EncodeJSON(nil, []byte(`{"id": "twenty"}`))
	requireCode(t, err, zerobus.ErrInvalidRecord)
	_, err = zerobus.SchemaFromDDL("main.default.broken (id NOT_A_TYPE)")
	requireCode(t, err, zerobus.ErrInvalidSchema)

	if err := schema.Close(); err != nil {
		t.Fatal(err)
	}
	if err := schema.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = schema.EncodeJSON(nil, []byte(`{"id": 1}`))
	requireCode(t, err, zerobus.ErrClosed)
}

func TestStreamFromSchemaTakesJSONAndProtobuf(t *testing.T) {
	server := startServer(t)
	schema, err := zerobus.SchemaFromDDL(eventsDDL)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := server.newSDK().NewStreamFromSchema(within(t, 30*time.Second), schema)
	if err != nil {
		t.Fatal(err)
	}
	record, err := schema.EncodeJSON(nil, []byte(`{"id": 3, "payload": "three"}`))
	if err != nil {
		t.Fatal(err)
	}
	// The stream keeps what it needs of the schema.
	if err := schema.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.IngestJSON([]byte(`{"id": 1, "payload": "one"}`)); err != nil {
		t.Fatal(err)
	}
	_, err = stream.IngestJSON([]byte(`{"id": "two"}`))
	requireCode(t, err, zerobus.ErrInvalidRecord)
	if _, err := stream.IngestJSONBatch([][]byte{[]byte(`{"id": 2}`)}); err != nil {
		t.Fatal(err)
	}
	if offset, err := stream.Ingest(record); err != nil || offset != 2 {
		t.Fatalf("Ingest = %d, %v; want offset 2", offset, err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireStoredRows(t, server, eventsTable, `{"id": 1, "payload": "one"}`,
		`{"id": 2, "payload": null}`, `{"id": 3, "payload": "three"}`)
	// A closed schema opens no stream.
	_, err = server.newSDK().NewStreamFromSchema(within(t, 30*time.Second), schema)
	requireCode(t, err, zerobus.ErrClosed)
}

func TestSchemaFromTableJSONMatchesTheDDL(t *testing.T) {
	server := startServer(t)
	request, err := http.NewRequest(http.MethodGet,
		server.workspace+"/api/2.1/unity-catalog/tables/"+eventsTable, nil)
	if err != nil {
		t.Fatal(err)
	}
	request.Close = true // an idle connection would hold up the server's stop
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	description, err := io.ReadAll(response.Body)
	response.Body.Close()
	if err != nil || response.StatusCode != http.StatusOK {
		t.Fatalf("GET the table: %s, %v", response.Status, err)
	}
	fromTable, err := zerobus.SchemaFromTableJSON(description)
	if err != nil {
		t.Fatal(err)
	}
	defer fromTable.Close()
	fromDDL, err := zerobus.SchemaFromDDL(eventsDDL)
	if err != nil {
		t.Fatal(err)
	}
	defer fromDDL.Close()
	if fromTable.TableName() != eventsTable ||
		!bytes.Equal(fromTable.Descriptor(), fromDDL.Descriptor()) {
		t.Fatalf("from the table description: %q, %x; from DDL: %x", fromTable.TableName(),
			fromTable.Descriptor(), fromDDL.Descriptor())
	}
	_, err = zerobus.SchemaFromTableJSON([]byte("{}"))
	requireCode(t, err, zerobus.ErrInvalidSchema)
}
