package zerobus_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	zerobus "github.com/libzerobus/zerobus-go"
)

// The Arrow tests' tables: one with a column of each kind of Delta type, one of two columns.
const (
	arrowTypesTable = "main.default.arrow_types_go"
	arrowTypesDDL   = arrowTypesTable + " (id BIGINT NOT NULL, flag BOOLEAN, tiny TINYINT, " +
		"small SMALLINT, i INT, f FLOAT, d DOUBLE, s STRING, raw BINARY, day DATE, " +
		"ts TIMESTAMP, ntz TIMESTAMP_NTZ, price DECIMAL(10,2), tags ARRAY<STRING>, " +
		"pt STRUCT<x: INT, y: STRING>, attrs MAP<STRING, BIGINT>)"
	arrowPairsTable = "main.default.arrow_pairs_go"
	arrowPairsDDL   = arrowPairsTable + " (id BIGINT NOT NULL, s STRING)"
)

var arrowTypesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "tiny", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "small", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "ntz", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "price", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "pt", Type: arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "y", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
	{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64),
		Nullable: true},
}, nil)

// typesRecord builds three rows of arrowTypesSchema with arrow-go's builders: the first full,
// the second all nulls, the third full again.
func typesRecord(mem memory.Allocator) arrow.RecordBatch {
	builder := array.NewRecordBuilder(mem, arrowTypesSchema)
	defer builder.Release()
	for row := int64(0); row < 3; row++ {
		builder.Field(0).(*array.Int64Builder).Append(row + 1)
		if row == 1 {
			for field := 1; field < len(arrowTypesSchema.Fields()); field++ {
				builder.Field(field).AppendNull()
			}
			continue
		}
		builder.Field(1).(*array.BooleanBuilder).Append(row == 0)
		builder.Field(2).(*array.Int8Builder).Append(int8(-row - 1))
		builder.Field(3).(*array.Int16Builder).Append(int16(300 + row))
		builder.Field(4).(*array.Int32Builder).Append(int32(70000 + row))
		builder.Field(5).(*array.Float32Builder).Append(1.5)
		builder.Field(6).(*array.Float64Builder).Append(0.25 + float64(row))
		builder.Field(7).(*array.StringBuilder).Append([]string{"zero", "", "two ünï"}[row])
		builder.Field(8).(*array.BinaryBuilder).Append([]byte{0, 1, byte(255 - row)})
		builder.Field(9).(*array.Date32Builder).Append(arrow.Date32(19782 + row))
		builder.Field(10).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + row))
		builder.Field(11).(*array.TimestampBuilder).Append(arrow.Timestamp(-1 - row))
		builder.Field(12).(*array.Decimal128Builder).Append(decimal128.FromI64(12345 + row))
		tags := builder.Field(13).(*array.ListBuilder)
		tags.Append(true)
		tags.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"a", "b"}[:row/2+1], nil)
		point := builder.Field(14).(*array.StructBuilder)
		point.Append(true)
		point.FieldBuilder(0).(*array.Int32Builder).Append(int32(row))
		point.FieldBuilder(1).(*array.StringBuilder).AppendNull()
		attrs := builder.Field(15).(*array.MapBuilder)
		attrs.Append(true)
		attrs.KeyBuilder().(*array.StringBuilder).Append("k")
		attrs.ItemBuilder().(*array.Int64Builder).Append(row * 10)
	}
	return builder.NewRecordBatch()
}

// pairsRecord is `n` rows of arrowPairsSchema with ids from `first`.
func pairsRecord(mem memory.Allocator, first, n int64) arrow.RecordBatch {
	builder := array.NewRecordBuilder(mem, arrowPairsSchema)
	defer builder.Release()
	for id := first; id < first+n; id++ {
		builder.Field(0).(*array.Int64Builder).Append(id)
		builder.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", int(id%3)))
	}
	return builder.NewRecordBatch()
}

var arrowPairsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func TestArrowStreamStoresEveryDeltaType(t *testing.T) {
	server := startServer(t, "--table", arrowTypesDDL)
	// Every byte the batches hold is counted: after Close the library must have released the
	// references it took, and nothing else may hold any.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowTypesTable,
		arrowTypesSchema)
	if err != nil {
		t.Fatal(err)
	}
	record := typesRecord(mem)
	if offset, err := stream.IngestArrow(record); err != nil || offset != 0 {
		t.Fatalf("IngestArrow = %d, %v; want offset 0", offset, err)
	}
	// A slice: its arrays have a non-zero offset. The caller releases its references at once;
	// the stream's keep the data until it is durable.
	slice := record.NewSlice(1, 3)
	record.Release()
	if offset, err := stream.IngestArrow(slice); err != nil || offset != 1 {
		t.Fatalf("IngestArrow(slice) = %d, %v; want offset 1", offset, err)
	}
	slice.Release()
	if _, err := stream.Ingest([]byte(`{}`)); !errors.Is(err, zerobus.ErrRecordType) {
		t.Fatalf("Ingest on an Arrow stream: %v, want ErrRecordType", err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if unacked, err := stream.Unacked(); err != nil || len(unacked) != 0 {
		t.Fatalf("Unacked = %d batches, %v; want none", len(unacked), err)
	}
	full := func(id, flag, tiny, small, i, d, s, raw, day, ts, ntz, price, tags, x, attr string) string {
		return `{"id": ` + id + `, "flag": ` + flag + `, "tiny": ` + tiny + `, "small": ` + small +
			`, "i": ` + i + `, "f": 1.5, "d": ` + d + `, "s": ` + s + `, "raw": ` + raw +
			`, "day": ` + day + `, "ts": ` + ts + `, "ntz": ` + ntz + `, "price": ` + price +
			`, "tags": ` + tags + `, "pt": {"x": ` + x + `, "y": null}, "attrs": {"k": ` + attr + `}}`
	}
	nulls := `{"id": 2, "flag": null, "tiny": null, "small": null, "i": null, "f": null, ` +
		`"d": null, "s": null, "raw": null, "day": null, "ts": null, "ntz": null, "price": null, ` +
		`"tags": null, "pt": null, "attrs": null}`
	first := full("1", "true", "-1", "300", "70000", "0.25", `"zero"`, `"AAH/"`, "19782",
		"1700000000000000", "-1", `"123.45"`, `["a"]`, "0", "0")
	third := full("3", "false", "-3", "302", "70002", "2.25", `"two ünï"`, `"AAH9"`, "19784",
		"1700000000000002", "-3", `"123.47"`, `["a", "b"]`, "2", "20")
	requireStoredRows(t, server, arrowTypesTable, first, nulls, third, nulls, third)
}

func TestArrowReaderAndIPCBytes(t *testing.T) {
	server := startServer(t, "--table", arrowPairsDDL)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable,
		arrowPairsSchema)
	if err != nil {
		t.Fatal(err)
	}
	events := collectEvents(stream)
	var batches []arrow.RecordBatch
	for first := int64(0); first < 9; first += 3 {
		batches = append(batches, pairsRecord(mem, first, 3))
	}
	reader, err := array.NewRecordReader(arrowPairsSchema, batches)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range batches {
		batch.Release() // the reader holds its own
	}
	if last, count, err := stream.IngestArrowReader(reader); err != nil || last != 2 || count != 3 {
		t.Fatalf("IngestArrowReader = %d, %d, %v; want offset 2, 3 batches", last, count, err)
	}
	reader.Release()

	var encoded bytes.Buffer
	writer := ipc.NewWriter(&encoded, ipc.WithSchema(arrowPairsSchema))
	for _, first := range []int64{9, 11} {
		batch := pairsRecord(memory.DefaultAllocator, first, 2)
		if err := writer.Write(batch); err != nil {
			t.Fatal(err)
		}
		batch.Release()
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	if last, count, err := stream.IngestArrowIPC(encoded.Bytes()); err != nil || last != 4 || count != 2 {
		t.Fatalf("IngestArrowIPC = %d, %d, %v; want offset 4, 2 batches", last, count, err)
	}
	_, _, err = stream.IngestArrowIPC([]byte("not IPC"))
	requireCode(t, err, zerobus.ErrInvalidRecord)
	// Offsets count batches: 5 issued, the last durable in time, the next never issued.
	if err := stream.WaitForOffset(within(t, 30*time.Second), 4); err != nil {
		t.Fatal(err)
	}
	requireCode(t, stream.WaitForOffset(within(t, 30*time.Second), 5), zerobus.ErrInvalidArg)
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The acks cover the five batches, in order, and nothing else happened.
	next := uint64(0)
	for _, event := range receive(t, events, "the stream's events") {
		if event.Kind != zerobus.EventAck || event.FirstOffset != next {
			t.Fatalf("event %+v, want an ack from offset %d", event, next)
		}
		next = event.LastOffset + 1
	}
	if next != 5 {
		t.Fatalf("acks up to offset %d, want 4", next-1)
	}
	var want []string
	for id := 0; id < 13; id++ {
		want = append(want, `{"id": `+strconv.Itoa(id)+`, "s": "`+strings.Repeat("x", id%3)+`"}`)
	}
	requireStoredRows(t, server, arrowPairsTable, want...)
}

func TestArrowUnackedReadBackEqualsWhatWasSent(t *testing.T) {
	server := startServer(t, "--table", arrowPairsDDL, "--fault", arrowPairsTable+":withhold_acks=true")
	stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable,
		arrowPairsSchema, zerobus.WithRecovery(false))
	if err != nil {
		t.Fatal(err)
	}
	// The batches ingested are dropped by the test at once, and counted: the stream holds them
	// while they are unacknowledged, and releases them with the native stream. Their twins are
	// kept to compare with.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sent := []arrow.RecordBatch{pairsRecord(memory.DefaultAllocator, 0, 4), pairsRecord(memory.DefaultAllocator, 4, 2)}
	for i, twin := range sent {
		defer twin.Release()
		batch := pairsRecord(mem, int64(i*4), twin.NumRows())
		if offset, err := stream.IngestArrow(batch); err != nil || offset != uint64(i) {
			t.Fatalf("IngestArrow = %d, %v; want offset %d", offset, err, i)
		}
		batch.Release()
	}
	if mem.CurrentAlloc() == 0 {
		t.Fatal("the unacknowledged batches were released before they were durable")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := stream.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with the acks withheld: %v, want the deadline", err)
	}
	if held := mem.CurrentAlloc(); held != 0 {
		t.Fatalf("%d bytes of batches still held after Close", held)
	}
	unacked, err := stream.Unacked()
	if err != nil || len(unacked) != len(sent) {
		t.Fatalf("Unacked = %d batches, %v; want %d", len(unacked), err, len(sent))
	}
	for i, batch := range unacked {
		reader, err := ipc.NewReader(bytes.NewReader(batch.Data))
		if err != nil {
			t.Fatalf("batch %d: ipc.NewReader: %v", i, err)
		}
		if !reader.Next() {
			t.Fatalf("batch %d holds no record batch: %v", i, reader.Err())
		}
		if batch.Offset != uint64(i) || !array.RecordEqual(reader.RecordBatch(), sent[i]) {
			t.Errorf("unacked batch at offset %d is %v, want offset %d: %v", batch.Offset,
				reader.RecordBatch(), i, sent[i])
		}
		if reader.Next() {
			t.Errorf("batch %d holds more than one record batch", i)
		}
		reader.Release()
	}
}

// An Arrow stream that failed for good is carried on by Recreate: the batches it never got
// acknowledged go out again from the memory they were given in, held until the recreated
// stream makes them durable and released once both streams are closed.
func TestArrowRecreateSendsTheUnacknowledgedBatchesAgain(t *testing.T) {
	server := startServer(t, "--table", arrowPairsDDL, "--fault",
		arrowPairsTable+":fail_after_records=4,fail_status=PERMISSION_DENIED")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable,
		arrowPairsSchema, zerobus.WithRecovery(false))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	ingest := func(into *zerobus.Stream, first, rows int64) {
		t.Helper()
		record := pairsRecord(mem, first, rows)
		defer record.Release()
		if _, err := into.IngestArrow(record); err != nil {
			t.Fatalf("IngestArrow of rows from %d: %v", first, err)
		}
		for id := first; id < first+rows; id++ {
			want = append(want, `{"id": `+strconv.Itoa(int(id))+`, "s": "`+strings.Repeat("x", int(id%3))+`"}`)
		}
	}
	ingest(stream, 0, 2)
	ingest(stream, 2, 2)
	if err := stream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Flush before the break: %v", err)
	}
	// One batch past the fault: the stream fails on it, and a second ingest could meet that
	// failure before it was taken.
	ingest(stream, 4, 4)
	requireCode(t, stream.Flush(within(t, 30*time.Second)), zerobus.ErrTransport)
	server.clearFault(arrowPairsTable)

	recreated, err := stream.Recreate()
	if err != nil {
		t.Fatalf("Recreate of the failed stream: %v", err)
	}
	requireCode(t, stream.Close(within(t, 30*time.Second)), zerobus.ErrTransport)
	ingest(recreated, 8, 2)
	if err := recreated.Close(within(t, 30*time.Second)); err != nil {
		t.Fatalf("Close of the recreated stream: %v", err)
	}
	if info, err := recreated.Info(); err != nil || info.RecordsAcked != 2 {
		t.Fatalf("Info of the recreated stream: %+v, %v; want 2 batches acknowledged", info, err)
	}
	requireStoredRows(t, server, arrowPairsTable, want...)
}

func TestArrowSchemaThatDoesNotFitIsRefused(t *testing.T) {
	server := startServer(t, "--table", arrowPairsDDL)
	wrong := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	_, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable, wrong,
		zerobus.WithRecovery(false))
	zerr := requireCode(t, err, zerobus.ErrTransport)
	if want := "column 'id' is bigint (Arrow int64)"; !strings.Contains(zerr.Message, want) ||
		!strings.HasSuffix(zerr.Message, "the Arrow type string") {
		t.Fatalf("refused with %q, want it to name the column and both types", zerr.Message)
	}
	// A type the library does not carry is refused before any connection.
	unsigned := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Uint64}}, nil)
	_, err = server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable, unsigned)
	zerr = requireCode(t, err, zerobus.ErrInvalidSchema)
	if !strings.Contains(zerr.Message, "column 'id': Arrow type uint64") {
		t.Fatalf("refused with %q, want it to name the column id", zerr.Message)
	}
}

// The library holds each batch's data until the batch is durable, then releases it: with the
// caller's references dropped at once, the allocator is back to nothing once the stream has
// flushed, before Close, and every row arrives intact.
func TestArrowBatchesAreHeldUntilDurableThenReleased(t *testing.T) {
	server := startServer(t, "--table", arrowPairsDDL)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable,
		arrowPairsSchema)
	if err != nil {
		t.Fatal(err)
	}
	const batches, rows = 500, 2
	var want []string
	for i := int64(0); i < batches; i++ {
		record := pairsRecord(mem, i*rows, rows)
		if _, err := stream.IngestArrow(record); err != nil {
			t.Fatal(err)
		}
		record.Release()
		for id := i * rows; id < (i+1)*rows; id++ {
			want = append(want, `{"id": `+strconv.Itoa(int(id))+`, "s": "`+strings.Repeat("x", int(id%3))+`"}`)
		}
	}
	if err := stream.Flush(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The library releases a batch on its own thread once the acknowledgement has come.
	deadline := time.Now().Add(10 * time.Second)
	for mem.CurrentAlloc() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes of batches still held 10s after every batch was durable",
				mem.CurrentAlloc())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	requireStoredRows(t, server, arrowPairsTable, want...)
}

// A long stream of batches in Go memory, each built anew and dropped by the caller at once:
// what the stream holds (the batches' data, their pins) goes once they are durable, so neither
// the Go heap nor resident memory grows with the batches sent (leak_test.go's bounds).
func TestLongArrowStreamLeaksNothing(t *testing.T) {
	server := startServer(t, "--null-sink", "--table", arrowPairsDDL)
	stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable,
		arrowPairsSchema)
	if err != nil {
		t.Fatal(err)
	}
	const batchesPerRound, rows = 1000, 10
	round := func() {
		for i := range int64(batchesPerRound) {
			record := pairsRecord(memory.DefaultAllocator, i*rows, rows)
			if _, err := stream.IngestArrow(record); err != nil {
				t.Fatal(err)
			}
			record.Release()
		}
		if err := stream.Flush(within(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		round()
	}
	baseline := measure(t)
	const rounds = 10
	for range rounds {
		round()
	}
	after := measure(t)
	t.Logf("%d more batches: resident memory %+d KiB, Go heap %+d KiB", rounds*batchesPerRound,
		(after.rssBytes-baseline.rssBytes)/1024, (int64(after.heapBytes)-int64(baseline.heapBytes))/1024)
	if growth := after.rssBytes - baseline.rssBytes; growth > 8<<20 {
		t.Errorf("resident memory grew by %d KiB over %d batches", growth/1024, rounds*batchesPerRound)
	}
	if growth := int64(after.heapBytes) - int64(baseline.heapBytes); growth > 1<<20 {
		t.Errorf("the Go heap grew by %d KiB over %d batches", growth/1024, rounds*batchesPerRound)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// A dictionary-encoded column (expanded by the library; its dictionary's buffers pinned as
// the indices' are) and large_utf8 (accepted for STRING) store the values they stand for.
func TestArrowDictionaryAndLargeStringColumns(t *testing.T) {
	server := startServer(t, "--table", arrowPairsDDL)
	for _, column := range []arrow.DataType{
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String},
		arrow.BinaryTypes.LargeString,
	} {
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "s", Type: column, Nullable: true},
		}, nil)
		stream, err := server.newSDK().NewArrowStream(within(t, 30*time.Second), arrowPairsTable, schema)
		if err != nil {
			t.Fatalf("%v: %v", column, err)
		}
		builder := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for id, value := range []string{"red", "green", "red"} {
			builder.Field(0).(*array.Int64Builder).Append(int64(id))
			switch values := builder.Field(1).(type) {
			case *array.BinaryDictionaryBuilder:
				if err := values.AppendString(value); err != nil {
					t.Fatal(err)
				}
			case *array.LargeStringBuilder:
				values.Append(value)
			}
		}
		record := builder.NewRecordBatch()
		builder.Release()
		if _, err := stream.IngestArrow(record); err != nil {
			t.Fatalf("%v: %v", column, err)
		}
		record.Release()
		if err := stream.Close(within(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	stored := []string{`{"id": 0, "s": "red"}`, `{"id": 1, "s": "green"}`, `{"id": 2, "s": "red"}`}
	requireStoredRows(t, server, arrowPairsTable, append(stored, stored...)...)
}
