// Command ingest-persistent streams JSON records through a persistent stream (Experimental):
// half of them, then, as a process restarted after a crash would, resumes the stream by its
// id and sends only what the server has not committed; finally it retires the stream.
//
// Against a local server:
//
//	zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
//	go run ./examples/ingest-persistent -endpoint http://127.0.0.1:50051
//	zerobus rows main.default.events --data-dir /tmp/zb
//
// The endpoint defaults to $ZEROBUS_ENDPOINT.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

const table = "main.default.events"

func main() {
	endpoint := flag.String("endpoint", os.Getenv("ZEROBUS_ENDPOINT"),
		"the Zerobus endpoint (default $ZEROBUS_ENDPOINT)")
	records := flag.Int64("records", 1000, "how many records to send")
	flag.Parse()
	if *endpoint == "" {
		log.Fatal("no endpoint: give -endpoint or set ZEROBUS_ENDPOINT")
	}
	if err := run(*endpoint, *records); err != nil {
		log.Fatal(err)
	}
}

// send ingests the records with ids from..to-1; record i goes at offset i.
func send(stream *zerobus.Stream, from, to int64) error {
	for id := from; id < to; id++ {
		record, err := json.Marshal(map[string]any{"id": id, "payload": fmt.Sprintf("event %d", id)})
		if err != nil {
			return err
		}
		if _, err := stream.Ingest(record); err != nil {
			return err
		}
	}
	return nil
}

func run(endpoint string, records int64) error {
	sdk, err := zerobus.NewSDK(endpoint, zerobus.WithPlaintext(strings.HasPrefix(endpoint, "http://")))
	if err != nil {
		return err
	}
	defer sdk.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	stream, err := sdk.NewPersistentStream(ctx, table, zerobus.PersistentJSON())
	if err != nil {
		return err
	}
	// A real producer saves the id durably here, before sending what it covers.
	id, err := stream.PersistentID()
	if err != nil {
		return err
	}
	if err := send(stream, 0, records/2); err != nil {
		return err
	}
	if err := stream.Close(ctx); err != nil {
		return err
	}
	fmt.Printf("stream %s: %d records sent, stream closed\n", id, records/2)

	// What a restarted process does: resume by the id, ask where the server stands.
	stream, err = sdk.ResumePersistentStream(ctx, table, id, zerobus.PersistentJSON())
	if err != nil {
		return err
	}
	first := int64(0)
	if last, committed, _ := stream.ResumeWatermark(); committed {
		first = int64(last) + 1
	}
	fmt.Printf("resumed: sending %d..%d\n", first, records-1)
	if err := send(stream, first, records); err != nil {
		return err
	}
	if err := stream.Close(ctx); err != nil {
		return err
	}
	// Nothing more goes into this stream: the server refuses every resume from now on.
	return sdk.RetirePersistentStream(ctx, table, id)
}
