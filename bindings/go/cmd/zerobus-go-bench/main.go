// Command zerobus-go-bench measures the Go binding's ingest throughput: one goroutine ingests
// records of a fixed size, one Ingest call per record, into one stream, and the clock stops
// once every record is acknowledged. It prints "records/s: N" last. Before that, unless
// -compare=false, the same run made from C through the C API against the same server gives
// the figure to compare with.
//
// Without -endpoint it starts `zerobus serve --null-sink` (from -zerobus, or
// $ZEROBUS_SERVE_BIN) on loopback and stops it at the end:
//
//	go run ./cmd/zerobus-go-bench -zerobus PREFIX/bin/zerobus
package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	zerobus "github.com/libzerobus/zerobus-go"
	"github.com/libzerobus/zerobus-go/internal/localserver"
)

const (
	table = "bench.default.events"
	// message Event { optional int64 id = 1; optional string payload = 2; } as a serialized
	// DescriptorProto.
	eventDescriptorHex = "0a054576656e74120a0a026964180120012803120f0a077061796c6f6164180220012809"
)

func main() {
	records := flag.Int("records", 1_000_000, "records to ingest")
	size := flag.Int("size", 100, "bytes per record (an encoded Event, its payload padded)")
	endpoint := flag.String("endpoint", "", "an endpoint serving "+table+"; empty starts a server")
	server := flag.String("zerobus", os.Getenv("ZEROBUS_SERVE_BIN"), "the zerobus program to start")
	compare := flag.Bool("compare", true, "first make the same run through the C API from C")
	flag.Parse()

	if *endpoint == "" {
		if *server == "" {
			log.Fatal("give -endpoint, or -zerobus (or ZEROBUS_SERVE_BIN) to start a server")
		}
		address, stop, err := startServer(*server)
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
		*endpoint = address
	}
	descriptor, err := hex.DecodeString(eventDescriptorHex)
	if err != nil {
		log.Fatal(err)
	}
	if *compare {
		elapsed, err := runCAPI(*endpoint, descriptor, *records, *size)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("C API records/s: %.0f (the same run from C, against the same server)\n",
			float64(*records)/elapsed.Seconds())
	}
	if err := run(*endpoint, descriptor, *records, *size); err != nil {
		log.Fatal(err)
	}
}

// startServer runs `zerobus serve --null-sink` on a free loopback port and returns its
// endpoint, read from the ready file it writes once it listens.
func startServer(program string) (string, func(), error) {
	server, err := localserver.Start(program, []string{"--listen", "127.0.0.1:0", "--null-sink",
		"--table", table + " (id BIGINT, payload STRING)"}, nil, os.Stderr, 30*time.Second)
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		if err := server.Stop(30 * time.Second); err != nil {
			log.Print(err)
		}
	}
	return server.GRPC.URL, stop, nil
}

// encodeEvent appends an Event whose payload pads the record to `size` bytes.
func encodeEvent(record []byte, id int64, size int) []byte {
	record = protowire.AppendTag(record, 1, protowire.VarintType)
	record = protowire.AppendVarint(record, uint64(id))
	record = protowire.AppendTag(record, 2, protowire.BytesType)
	// The payload's length prefix takes one byte while the payload is under 128 bytes.
	padding := max(size-len(record)-1, 0)
	record = protowire.AppendVarint(record, uint64(padding))
	for range padding {
		record = append(record, 'x')
	}
	return record
}

func run(endpoint string, descriptor []byte, records, size int) error {
	sdk, err := zerobus.NewSDK(endpoint, zerobus.WithPlaintext(strings.HasPrefix(endpoint, "http://")))
	if err != nil {
		return err
	}
	defer sdk.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stream, err := sdk.NewProtoStream(ctx, table, descriptor)
	if err != nil {
		return err
	}

	record := make([]byte, 0, size)
	start := time.Now()
	for id := range int64(records) {
		record = encodeEvent(record[:0], id, size)
		if _, err := stream.Ingest(record); err != nil {
			return err
		}
	}
	ingested := time.Since(start)
	if err := stream.Flush(ctx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := stream.Close(ctx); err != nil {
		return err
	}
	fmt.Printf("Go binding: %d records of %d bytes, ingest calls took %.3fs, all acknowledged "+
		"after %.3fs\n", records, len(record), ingested.Seconds(), elapsed.Seconds())
	fmt.Printf("records/s: %.0f\n", float64(records)/elapsed.Seconds())
	return nil
}
