// Command ingest-proto streams protobuf records into a table and waits until they are durable.
//
// Against a local server:
//
//	zerobus serve --data-dir /tmp/zb --table 'main.default.events (id BIGINT, payload STRING)'
//	go run ./examples/ingest-proto -endpoint http://127.0.0.1:50051
//	zerobus rows main.default.events --data-dir /tmp/zb
//
// The endpoint defaults to $ZEROBUS_ENDPOINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	zerobus "github.com/libzerobus/zerobus-go"
)

// The table's columns. A protobuf stream is opened with the message descriptor of its records,
// and the library derives it from the columns: no .proto file, no protoc. A program with
// generated message types passes zerobus.DescriptorOf(&pb.Event{}) instead, and ingests with
// Stream.IngestMessage.
const tableDDL = "main.default.events (id BIGINT, payload STRING)"

func main() {
	endpoint := flag.String("endpoint", os.Getenv("ZEROBUS_ENDPOINT"),
		"the Zerobus endpoint (default $ZEROBUS_ENDPOINT)")
	records := flag.Int("records", 1000, "how many records to send")
	flag.Parse()
	if *endpoint == "" {
		log.Fatal("no endpoint: give -endpoint or set ZEROBUS_ENDPOINT")
	}
	if err := run(*endpoint, *records); err != nil {
		log.Fatal(err)
	}
}

// encodeEvent writes the record `zerobus schema --ddl` describes for the table:
// message Event { optional int64 id = 1; optional string payload = 2; }
func encodeEvent(buffer []byte, id int64, payload string) []byte {
	buffer = protowire.AppendTag(buffer, 1, protowire.VarintType)
	buffer = protowire.AppendVarint(buffer, uint64(id))
	buffer = protowire.AppendTag(buffer, 2, protowire.BytesType)
	return protowire.AppendString(buffer, payload)
}

func run(endpoint string, records int) error {
	schema, err := zerobus.SchemaFromDDL(tableDDL)
	if err != nil {
		return err
	}
	defer schema.Close()

	// A local server speaks plaintext, which the SDK only does when told to; a workspace needs
	// credentials instead (zerobus.WithConfig("auth.client.id", ...), see the README).
	plaintext := strings.HasPrefix(endpoint, "http://")
	sdk, err := zerobus.NewSDK(endpoint, zerobus.WithPlaintext(plaintext))
	if err != nil {
		return err
	}
	defer sdk.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := sdk.NewProtoStream(ctx, schema.TableName(), schema.Descriptor())
	if err != nil {
		return err
	}
	// Nobody reads stream.Events() here: Flush and Close wait for the acks themselves.

	// Ingest copies the record before it returns, so one buffer serves every record.
	var record []byte
	for id := range int64(records) {
		record = encodeEvent(record[:0], id, fmt.Sprintf("event %d", id))
		if _, err := stream.Ingest(record); err != nil {
			return err
		}
	}
	if err := stream.Close(ctx); err != nil {
		// What was not acknowledged is still there, to be sent again on a new stream.
		unacked, _ := stream.Unacked()
		return fmt.Errorf("%d records not acknowledged: %w", len(unacked), err)
	}
	fmt.Printf("%d protobuf records durable in %s\n", records, schema.TableName())
	return nil
}
