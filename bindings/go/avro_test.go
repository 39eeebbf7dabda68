package zerobus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	zerobus "github.com/libzerobus/zerobus-go"
)

// The Avro tests' table, with a column of each kind of Avro type a Delta column maps to: a
// plain long, nullable primitives, logical types, bytes and an array.
const (
	avroTable = "main.default.avro_go"
	avroDDL   = avroTable + " (id BIGINT NOT NULL, s STRING, d DOUBLE, day DATE, ts TIMESTAMP, " +
		"raw BINARY, tags ARRAY<STRING>)"
)

// goavroDatum is the datum goavro, an Avro implementation independent of libzerobus, writes for
// `record` (goavro's native form) under `writerSchema`.
func goavroDatum(t *testing.T, writerSchema string, record map[string]any) []byte {
	t.Helper()
	codec, err := goavro.NewCodec(writerSchema)
	if err != nil {
		t.Fatalf("goavro.NewCodec(%s): %v", writerSchema, err)
	}
	datum, err := codec.BinaryFromNative(nil, record)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	return datum
}

// requireStoredRows checks that `table` holds exactly the rows `want` (JSON objects, in
// order), as `zerobus rows` prints them: DATE as days, TIMESTAMP as microseconds, BINARY as
// base64.
func requireStoredRows(t *testing.T, server *testServer, table string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	output, err := exec.CommandContext(ctx, server.bin, "rows", table, "--data-dir",
		server.dataDir).Output()
	if err != nil {
		t.Fatalf("zerobus rows %s: %v", table, err)
	}
	var got []string
	decoder := json.NewDecoder(bytes.NewReader(output))
	for decoder.More() {
		got = append(got, canonicalJSON(t, decoder))
	}
	for i := range want {
		want[i] = canonicalJSON(t, json.NewDecoder(strings.NewReader(want[i])))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s holds\n%s\nwant\n%s", table, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// canonicalJSON reads one JSON value and writes it back with its keys sorted and its numbers
// as written.
func canonicalJSON(t *testing.T, decoder *json.Decoder) string {
	t.Helper()
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		t.Fatal(err)
	}
	text, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

func openAvro(t *testing.T, sdk *zerobus.SDK, writerSchema string) *zerobus.Stream {
	t.Helper()
	stream, err := sdk.NewAvroStream(within(t, 30*time.Second), avroTable, writerSchema)
	if err != nil {
		t.Fatalf("NewAvroStream: %v", err)
	}
	return stream
}

func TestAvroDatumsGoavroWritesAreStoredAsWritten(t *testing.T) {
	server := startServer(t, "--table", avroDDL)
	schema, err := zerobus.SchemaFromDDL(avroDDL)
	if err != nil {
		t.Fatal(err)
	}
	defer schema.Close()
	writer, err := schema.Avro()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(writer, `"logicalType":"timestamp-micros"`) {
		t.Fatalf("Schema.Avro() = %s: want the TIMESTAMP column as timestamp-micros", writer)
	}

	ts := time.Date(2026, 11, 24, 9, 30, 0, 250000000, time.UTC)
	datums := [][]byte{
		goavroDatum(t, writer, map[string]any{
			"id": int64(1), "s": goavro.Union("string", "héllo"), "d": goavro.Union("double", -2.25),
			"day":  goavro.Union("int.date", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)),
			"ts":   goavro.Union("long.timestamp-micros", ts),
			"raw":  goavro.Union("bytes", []byte{0, 1, 0xff}),
			"tags": goavro.Union("array", []any{"x", ""}),
		}),
		goavroDatum(t, writer, map[string]any{"id": int64(-2), "s": nil, "d": nil, "day": nil,
			"ts": nil, "raw": nil, "tags": nil}),
		goavroDatum(t, writer, map[string]any{"id": int64(3), "s": nil, "d": nil, "day": nil,
			"ts": nil, "raw": nil, "tags": goavro.Union("array", []any{})}),
	}

	stream := openAvro(t, server.newSDK(), writer)
	if offset, err := stream.Ingest(datums[0]); err != nil || offset != 0 {
		t.Fatalf("Ingest = %d, %v; want offset 0", offset, err)
	}
	if offset, err := stream.IngestBatch(datums[1:]); err != nil || offset != 2 {
		t.Fatalf("IngestBatch = %d, %v; want offset 2", offset, err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireStoredRows(t, server, avroTable,
		`{"id": 1, "s": "héllo", "d": -2.25, "day": 19782, "ts": 1795512600250000,
		  "raw": "AAH/", "tags": ["x", ""]}`,
		`{"id": -2, "s": null, "d": null, "day": null, "ts": null, "raw": null, "tags": null}`,
		`{"id": 3, "s": null, "d": null, "day": null, "ts": null, "raw": null, "tags": []}`)
}

func TestAvroWriterSchemaOfTheProducersOwn(t *testing.T) {
	server := startServer(t, "--table", avroDDL)
	// Another shape than the table's: int for BIGINT, a string that is not nullable, fields in
	// another order, columns left out.
	writer := `{"type": "record", "name": "Event", "namespace": "producer", "fields": [
		{"name": "s", "type": "string"}, {"name": "id", "type": "int"}]}`
	stream := openAvro(t, server.newSDK(), writer)
	if _, err := stream.IngestBatch([][]byte{
		goavroDatum(t, writer, map[string]any{"s": "a", "id": int32(10)}),
		goavroDatum(t, writer, map[string]any{"s": "b", "id": int32(-11)}),
	}); err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireStoredRows(t, server, avroTable,
		`{"id": 10, "s": "a", "d": null, "day": null, "ts": null, "raw": null, "tags": null}`,
		`{"id": -11, "s": "b", "d": null, "day": null, "ts": null, "raw": null, "tags": null}`)
}

func TestAvroWriterSchemaThatDoesNotFitTheTableIsRefusedNamingTheColumn(t *testing.T) {
	server := startServer(t, "--table", avroDDL)
	sdk := server.newSDK()
	_, err := sdk.NewAvroStream(within(t, 30*time.Second), avroTable,
		`{"type": "record", "name": "E", "fields": [{"name": "id", "type": "string"}]}`,
		zerobus.WithRecovery(false))
	zerr := requireCode(t, err, zerobus.ErrTransport)
	if want := "column 'id': the writer's type is string, the column is bigint"; !strings.Contains(
		zerr.Message, want) {
		t.Fatalf("refused with %q, want it to say %q", zerr.Message, want)
	}
	_, err = sdk.NewAvroStream(within(t, 30*time.Second), avroTable, `"string"`)
	requireCode(t, err, zerobus.ErrInvalidTarget)
}

func TestAvroStreamFromSchemaTakesJSONAndDatums(t *testing.T) {
	server := startServer(t, "--table", avroDDL)
	schema, err := zerobus.SchemaFromDDL(avroDDL)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := server.newSDK().NewAvroStreamFromSchema(within(t, 30*time.Second), schema)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := schema.Avro()
	if err != nil {
		t.Fatal(err)
	}
	// The stream keeps what it needs of the schema.
	if err := schema.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := stream.IngestJSON([]byte(`{"id": 5, "day": "2024-02-29", "tags": ["a"]}`)); err != nil {
		t.Fatal(err)
	}
	_, err = stream.IngestJSON([]byte(`{"id": "five"}`))
	requireCode(t, err, zerobus.ErrInvalidRecord)
	if _, err := stream.IngestJSONBatch([][]byte{[]byte(`{"id": 6, "s": "six"}`),
		[]byte(`{"id": 7, "raw": "AAH/"}`)}); err != nil {
		t.Fatal(err)
	}
	datum := goavroDatum(t, writer, map[string]any{"id": int64(8), "s": nil, "d": goavro.Union("double", 0.5),
		"day": nil, "ts": nil, "raw": nil, "tags": nil})
	if offset, err := stream.Ingest(datum); err != nil || offset != 3 {
		t.Fatalf("Ingest = %d, %v; want offset 3", offset, err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if unacked, err := stream.Unacked(); err != nil || len(unacked) != 0 {
		t.Fatalf("Unacked = %d records, %v; want none", len(unacked), err)
	}
	requireStoredRows(t, server, avroTable,
		`{"id": 5, "s": null, "d": null, "day": 19782, "ts": null, "raw": null, "tags": ["a"]}`,
		`{"id": 6, "s": "six", "d": null, "day": null, "ts": null, "raw": null, "tags": null}`,
		`{"id": 7, "s": null, "d": null, "day": null, "ts": null, "raw": "AAH/", "tags": null}`,
		`{"id": 8, "s": null, "d": 0.5, "day": null, "ts": null, "raw": null, "tags": null}`)

	_, err = stream.Ingest(datum)
	requireCode(t, err, zerobus.ErrClosed)
	// A closed schema opens no stream.
	_, err = server.newSDK().NewAvroStreamFromSchema(within(t, 30*time.Second), schema)
	requireCode(t, err, zerobus.ErrClosed)
}
