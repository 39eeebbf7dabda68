package zerobus_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// resources are what a leak would make grow: goroutines (drainers, event feeders), file
// descriptors (wakeup pipes), the process's resident memory (the library's allocations) and
// the Go heap.
type resources struct {
	goroutines int
	fds        int
	rssBytes   int64
	heapBytes  uint64
}

func measure(t *testing.T) resources {
	t.Helper()
	runtime.GC()
	var memory runtime.MemStats
	runtime.ReadMemStats(&memory)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(statm))
	residentPages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatalf("/proc/self/statm: %q: %v", statm, err)
	}
	return resources{
		goroutines: runtime.NumGoroutine(),
		fds:        len(fds),
		rssBytes:   residentPages * int64(os.Getpagesize()),
		heapBytes:  memory.HeapAlloc,
	}
}

// settle measures until goroutines and descriptors are back to `baseline`: the goroutines of
// a released stream end shortly after it, once the library has closed their pipe.
func settle(t *testing.T, baseline resources) resources {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := measure(t)
		if now.goroutines <= baseline.goroutines && now.fds <= baseline.fds {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %d goroutines and %d descriptors, were %d and %d",
				now.goroutines, now.fds, baseline.goroutines, baseline.fds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLongLoopLeaksNothing(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK()
	record := encodeEvent(1, payloadOf(1))
	batch := [][]byte{record, record, record, record, record, record, record, record, record, record}
	cycle := func() {
		stream := openProto(t, sdk)
		events := collectEvents(stream)
		for range 100 {
			if _, err := stream.Ingest(record); err != nil {
				t.Fatal(err)
			}
		}
		for range 10 {
			if _, err := stream.IngestBatch(batch); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := stream.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		info, err := stream.Info()
		if err != nil || info.RecordsAcked != 200 || info.RecordsInFlight != 0 ||
			info.BytesInFlight != 0 {
			t.Fatalf("Info after Flush: %+v, %v; want 200 acked and nothing in flight", info, err)
		}
		if err := stream.Close(ctx); err != nil {
			t.Fatal(err)
		}
		receive(t, events, "end of the events")
	}

	// The first streams bring the SDK's connection and the library's threads up, and the
	// allocators' caches grow for a while: measured here, they level off within 1000 streams
	// while a leak would go on growing.
	for range 600 {
		cycle()
	}
	const cycles = 400
	var growth [2]resources
	baseline := settle(t, measure(t))
	for half := range growth {
		for range cycles {
			cycle()
		}
		after := settle(t, baseline)
		growth[half] = resources{rssBytes: after.rssBytes - baseline.rssBytes,
			heapBytes: after.heapBytes - min(after.heapBytes, baseline.heapBytes)}
		t.Logf("%d streams of 200 records: resident memory %+d KiB, Go heap +%d KiB", cycles,
			growth[half].rssBytes/1024, growth[half].heapBytes/1024)
		baseline = after
	}
	// A native stream left open would keep its call to the server open.
	if open := server.openStreams(); open != 0 {
		t.Errorf("the server still has %d streams open", open)
	}
	// Resident memory is noisy (allocator caches, and under -race the detector's shadow
	// memory), so this bound catches leaks of some 20 KiB per stream and more.
	if growth[1].rssBytes > 8<<20 {
		t.Errorf("resident memory grew by %d KiB over the last %d streams",
			growth[1].rssBytes/1024, cycles)
	}
	if growth[1].heapBytes > 128<<10 {
		t.Errorf("the Go heap grew by %d KiB over the last %d streams", growth[1].heapBytes/1024, cycles)
	}
}

func TestLongStreamLeaksNothing(t *testing.T) {
	server := startServer(t, "--null-sink")
	stream := openProto(t, server.newSDK())
	record := encodeEvent(1, payloadOf(1))
	round := func() {
		for range 10_000 {
			if _, err := stream.Ingest(record); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := stream.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		info, err := stream.Info()
		if err != nil || info.RecordsInFlight != 0 || info.BytesInFlight != 0 {
			t.Fatalf("Info after Flush: %+v, %v; want nothing in flight", info, err)
		}
	}
	for range 5 {
		round()
	}
	baseline := measure(t)
	const rounds = 30
	for range rounds {
		round()
	}
	after := measure(t)
	t.Logf("%d more records: resident memory %+d KiB, Go heap %+d KiB", rounds*10_000,
		(after.rssBytes-baseline.rssBytes)/1024, (int64(after.heapBytes)-int64(baseline.heapBytes))/1024)
	if growth := after.rssBytes - baseline.rssBytes; growth > 8<<20 {
		t.Errorf("resident memory grew by %d KiB over %d records", growth/1024, rounds*10_000)
	}
	if growth := int64(after.heapBytes) - int64(baseline.heapBytes); growth > 1<<20 {
		t.Errorf("the Go heap grew by %d KiB over %d records", growth/1024, rounds*10_000)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestFinalizerReleasesAnAbandonedStream(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK()
	// The first stream brings the SDK's connection up.
	if err := openProto(t, sdk).Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	baseline := settle(t, measure(t))
	func() {
		stream := openProto(t, sdk)
		if _, err := stream.Ingest(encodeEvent(0, payloadOf(0))); err != nil {
			t.Fatal(err)
		}
		if err := stream.Flush(within(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if open := server.openStreams(); open != 1 {
			t.Fatalf("the server counts %d open streams, want 1", open)
		}
	}() // dropped without Close
	// The collector runs the finalizer, which closes the stream: the server sees it go.
	deadline := time.Now().Add(10 * time.Second)
	for server.openStreams() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned stream is still open after 10s of garbage collection")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	settle(t, baseline) // its pipe and its goroutine are gone too
	requireRows(t, server, 1)
}

func TestIngestAllocatesNothingInGo(t *testing.T) {
	server := startServer(t, "--null-sink")
	stream := openProto(t, server.newSDK())
	record := encodeEvent(1, payloadOf(1))
	allocations := testing.AllocsPerRun(10_000, func() {
		if _, err := stream.Ingest(record); err != nil {
			t.Fatal(err)
		}
	})
	if allocations != 0 {
		t.Errorf("Ingest allocates %v times per call", allocations)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
}
