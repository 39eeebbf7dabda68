package zerobus_test

import (
	"context"
	"errors"
	"log"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

// Streams JSON records into a local `zerobus serve` and waits until they are durable.
func Example() {
	sdk, err := zerobus.NewSDK("http://127.0.0.1:50051", zerobus.WithPlaintext(true))
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := sdk.NewJSONStream(ctx, "main.default.events")
	if err != nil {
		log.Fatal(err)
	}
	for _, record := range []string{`{"id": 1, "payload": "a"}`, `{"id": 2, "payload": "b"}`} {
		if _, err := stream.Ingest([]byte(record)); err != nil {
			log.Fatal(err)
		}
	}
	if err := stream.Close(ctx); err != nil {
		unacked, _ := stream.Unacked()
		log.Fatalf("%d records not durable: %v", len(unacked), err)
	}
}

// Ingest reports a full in-flight window as ErrQueueFull when it may not wait.
func ExampleStream_Ingest_backpressure() {
	sdk, err := zerobus.NewSDK("http://127.0.0.1:50051", zerobus.WithPlaintext(true))
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close()
	stream, err := sdk.NewProtoStream(context.Background(), "main.default.events", eventDescriptor,
		zerobus.WithMaxInflightBytes(16<<20), zerobus.WithIngestTimeout(0))
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close(context.Background())

	record := encodeEvent(1, "a")
	for {
		_, err := stream.Ingest(record)
		if errors.Is(err, zerobus.ErrQueueFull) {
			// Wait for the acknowledgements to make room, then go on.
			if err := stream.Flush(context.Background()); err != nil {
				log.Fatal(err)
			}
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		break
	}
}

// Errors carry the library's code, the gRPC status and whether a retry may help.
func ExampleError() {
	sdk, err := zerobus.NewSDK("http://127.0.0.1:50051", zerobus.WithPlaintext(true))
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.Close()
	_, err = sdk.NewJSONStream(context.Background(), "main.default.missing")
	var zerr *zerobus.Error
	if errors.As(err, &zerr) {
		log.Printf("code %v, gRPC status %d, retryable %v: %s", zerr.Code, zerr.GRPCStatus,
			zerr.Retryable(), zerr.Message)
	}
}
