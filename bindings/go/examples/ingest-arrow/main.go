// Command ingest-arrow streams Arrow record batches, built with arrow-go, into a table over
// Arrow Flight and reports what became durable: each batch has one offset.
//
// Against a local server:
//
//	zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
//	go run ./examples/ingest-arrow -endpoint http://127.0.0.1:50051 -records 1000
//	zerobus rows main.default.events --data-dir /tmp/zb
//
// The endpoint defaults to $ZEROBUS_ENDPOINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	zerobus "github.com/libzerobus/zerobus-go"
)

// The batches' schema: the table's columns, by name, in the Arrow types docs/SCHEMAS.md maps
// them to.
var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "payload", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("ZEROBUS_ENDPOINT"),
		"the Zerobus endpoint (default $ZEROBUS_ENDPOINT)")
	table := flag.String("table", "main.default.events", "the table, catalog.schema.table")
	records := flag.Int("records", 1000, "how many rows to send")
	batchRows := flag.Int("batch", 100, "rows per record batch")
	flag.Parse()
	if *endpoint == "" {
		log.Fatal("no endpoint: give -endpoint or set ZEROBUS_ENDPOINT")
	}
	if *batchRows < 1 {
		log.Fatal("-batch must be 1 or more")
	}
	if err := run(*endpoint, *table, *records, *batchRows); err != nil {
		log.Fatal(err)
	}
}

func run(endpoint, table string, records, batchRows int) error {
	var options []zerobus.Option
	if strings.HasPrefix(endpoint, "http://") {
		options = append(options, zerobus.WithPlaintext(true))
	}
	if token := os.Getenv("ZEROBUS_TOKEN"); token != "" {
		options = append(options, zerobus.WithToken(token))
	}
	sdk, err := zerobus.NewSDK(endpoint, options...)
	if err != nil {
		return err
	}
	defer sdk.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := sdk.NewArrowStream(ctx, table, schema)
	if err != nil {
		return err
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for event := range stream.Events() {
			switch event.Kind {
			case zerobus.EventAck:
				fmt.Printf("durable: batches %d..%d\n", event.FirstOffset, event.LastOffset)
			case zerobus.EventError:
				fmt.Printf("lost: batches %d..%d: %v\n", event.FirstOffset, event.LastOffset, event.Err)
			}
		}
	}()

	builder := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer builder.Release()
	for first := 0; first < records; first += batchRows {
		for id := first; id < min(first+batchRows, records); id++ {
			builder.Field(0).(*array.Int64Builder).Append(int64(id))
			builder.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("record %d", id))
		}
		batch := builder.NewRecordBatch()
		// The stream keeps its own reference to the batch's data until the batch is durable:
		// this one can go at once.
		_, err := stream.IngestArrow(batch)
		batch.Release()
		if err != nil {
			return err
		}
	}

	// Close waits until every batch is durable (or ctx ends). What it could not deliver stays
	// available from Unacked, each batch as Arrow IPC stream bytes.
	closeErr := stream.Close(ctx)
	<-done
	if closeErr != nil {
		unacked, err := stream.Unacked()
		if err != nil {
			return errors.Join(closeErr, err)
		}
		return fmt.Errorf("%d batches not acknowledged: %w", len(unacked), closeErr)
	}
	fmt.Printf("%d rows durable in %s\n", records, table)
	return nil
}
