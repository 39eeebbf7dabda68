// Package zerobus streams records into Databricks Zerobus Ingest through libzerobus, the
// native client, over its C ABI.
//
// An SDK stands for one endpoint; each Stream sends records (serialized protobuf messages or
// JSON objects) into one table and learns from the server which of them are durable:
//
//	sdk, err := zerobus.NewSDK("https://WORKSPACE.zerobus.REGION.cloud.databricks.com",
//		zerobus.WithToken(token))
//	...
//	defer sdk.Close()
//	stream, err := sdk.NewJSONStream(ctx, "main.default.events")
//	...
//	offset, err := stream.Ingest([]byte(`{"id": 1, "payload": "hello"}`))
//	...
//	err = stream.WaitForOffset(ctx, offset) // or stream.Flush(ctx) for everything so far
//	...
//	err = stream.Close(ctx)
//
// # Delivery
//
// Ingest copies the record into the stream's in-flight window and returns its offset at
// once; the library sends records in the background, coalescing them into large requests,
// reconnects and replays the window after retryable failures, and acknowledges records
// cumulatively. Every accepted record ends either acknowledged or reported: as an
// EventError on Events, through the error of WaitForOffset, Flush or Close, and in Unacked.
// Recreate carries on after a failure: a new stream into which the library ingests every
// record the failed one did not get acknowledged.
//
// Acknowledgements reach Go without the library calling into Go: one goroutine per stream
// (and the streams recreated from it) sleeps on a pipe that the library writes to from the
// thread that queues an event (zb_config_set_wakeup_fd), and takes the queued events in
// batches, one cgo call per batch. WaitForOffset and Flush wait on what that goroutine learns,
// so any number of goroutines can wait, each ended by its context, without holding an
// operating-system thread.
//
// # Concurrency and lifetime
//
// SDK and Stream methods are safe to call from any number of goroutines. Close releases the
// native objects exactly once; a finalizer releases an SDK or Stream that was dropped without
// Close, only as a safety net (an abandoned stream loses what was not yet acknowledged).
// The library keeps no Go memory after a call returns: records are copied before Ingest
// returns. Arrow record batches (NewArrowStream, IngestArrow) are not copied: the stream holds
// a reference to each batch's data, pinned, until the batch is durable.
//
// # Persistent streams
//
// Experimental: NewPersistentStream, ResumePersistentStream, RetirePersistentStream and the
// names that go with them may change or be removed in a later release, as the service's
// calls behind them may. A persistent stream has a durable id with which any process resumes
// it from the last offset the server committed: nothing stored twice, nothing lost.
//
// # Logging and statistics
//
// The library logs nothing unless WithLogger gives the SDK a *slog.Logger; its messages then
// arrive at slog's levels with a "component" attribute. SDK.Stats and Stream.Stats return
// snapshots of every stream's offsets, in-flight records, recoveries, errors and ack latency
// (StatsJSON the library's JSON as is); WithStatistics delivers the SDK's periodically.
//
// # Errors
//
// Failures are *Error values carrying the library's Code, its message, the gRPC status and
// whether retrying may help; errors.Is(err, zerobus.ErrQueueFull) matches by code. Waits
// ended by their context return the context's error.
//
// # Building
//
// The package uses cgo and finds libzerobus through pkg-config (`pkg-config zerobus`): set
// PKG_CONFIG_PATH to PREFIX/lib/pkgconfig for a library installed under PREFIX, and let the
// loader find libzerobus.so.0 at run time (its standard paths, LD_LIBRARY_PATH, or an rpath).
// The header is checked at build time and the loaded library's version at package
// initialization; NewSDK refuses an incompatible one.
package zerobus
