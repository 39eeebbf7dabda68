// Command ingest-json streams JSON records into a table and reports what became durable.
//
// Against a local server:
//
//	zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
//	go run ./examples/ingest-json -endpoint http://127.0.0.1:50051 -table main.default.events
//	zerobus rows main.default.events --data-dir /tmp/zb
//
// The endpoint defaults to $ZEROBUS_ENDPOINT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

type event struct {
	ID      int64  `json:"id"`
	Payload string `json:"payload"`
}

func main() {
	endpoint := flag.String("endpoint", os.Getenv("ZEROBUS_ENDPOINT"),
		"the Zerobus endpoint (default $ZEROBUS_ENDPOINT)")
	table := flag.String("table", "main.default.events", "the table, catalog.schema.table")
	records := flag.Int("records", 1000, "how many records to send")
	flag.Parse()
	if *endpoint == "" {
		log.Fatal("no endpoint: give -endpoint or set ZEROBUS_ENDPOINT")
	}
	if err := run(*endpoint, *table, *records); err != nil {
		log.Fatal(err)
	}
}

func run(endpoint, table string, records int) error {
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
	stream, err := sdk.NewJSONStream(ctx, table)
	if err != nil {
		var zerr *zerobus.Error
		if errors.As(err, &zerr) && zerr.Retryable() {
			return fmt.Errorf("the server is unavailable for now, try again: %w", err)
		}
		return err
	}

	// Events arrive in offset order on their own goroutine, one per server ack: acks are
	// cumulative, so a few events cover many records.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for event := range stream.Events() {
			switch event.Kind {
			case zerobus.EventAck:
				fmt.Printf("durable: offsets %d..%d\n", event.FirstOffset, event.LastOffset)
			case zerobus.EventError:
				fmt.Printf("lost: offsets %d..%d: %v\n", event.FirstOffset, event.LastOffset, event.Err)
			}
		}
	}()

	for id := range int64(records) {
		record, err := json.Marshal(event{ID: id, Payload: fmt.Sprintf("record %d", id)})
		if err != nil {
			return err
		}
		if _, err := stream.Ingest(record); err != nil {
			return err
		}
	}

	// Close waits until every record is durable (or ctx ends) and releases the stream. What
	// it could not deliver stays available, to be sent again on a new stream.
	closeErr := stream.Close(ctx)
	<-done
	if closeErr != nil {
		unacked, err := stream.Unacked()
		if err != nil {
			return errors.Join(closeErr, err)
		}
		return fmt.Errorf("%d records not acknowledged: %w", len(unacked), closeErr)
	}
	fmt.Printf("%d records durable in %s\n", records, table)
	return nil
}
