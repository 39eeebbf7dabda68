package zerobus

// #include "zbgo.h"
import "C"

import (
	"encoding/json"
	"runtime/cgo"
	"time"
	"unsafe"
)

// SDKStats is a snapshot of an SDK and its live streams, decoded from the library's statistics
// JSON (docs/STATISTICS.md describes every field). Counters only grow over a stream's life.
type SDKStats struct {
	TimestampMicros int64         `json:"ts_us"`    // when it was taken, µs since the Unix epoch
	Version         string        `json:"version"`  // the library's version
	Endpoint        string        `json:"endpoint"` // host:port
	Streams         []StreamStats `json:"streams"`  // the live streams, in the order they opened
}

// StreamStats is a snapshot of one stream's figures.
type StreamStats struct {
	TimestampMicros int64  `json:"ts_us"`
	Table           string `json:"table"`
	RecordType      string `json:"record_type"` // "proto" or "json"
	State           string `json:"state"`       // "open", "recovering", "paused", "failed", "closed"
	ServerStreamID  string `json:"server_stream_id"`
	Offsets         struct {
		Issued uint64 `json:"issued"` // offsets given to records so far: the next offset
		Sent   uint64 `json:"sent"`   // every offset below it was written at least once
		Acked  uint64 `json:"acked"`  // every offset below it is durable
	} `json:"offsets"`
	InFlight struct {
		Records uint64 `json:"records"`
		Bytes   uint64 `json:"bytes"`
	} `json:"in_flight"`
	Recoveries      uint64 `json:"recoveries"`
	RecordsReplayed uint64 `json:"records_replayed"`
	Errors          struct {
		Count uint64          `json:"count"` // failed connection attempts and broken connections
		Last  *StatsLastError `json:"last"`  // the latest of them, or nil
	} `json:"errors"`
	Wire struct {
		Requests uint64 `json:"requests"`
		Records  uint64 `json:"records"`
		Bytes    uint64 `json:"bytes"`
		Acks     uint64 `json:"acks"`
	} `json:"wire"`
	// From a request's write to the acknowledgement that covered it, in microseconds, over
	// the stream's life.
	AckLatencyMicros struct {
		Count uint64 `json:"count"`
		Min   uint64 `json:"min"`
		Max   uint64 `json:"max"`
		Mean  uint64 `json:"mean"`
		P50   uint64 `json:"p50"`
		P99   uint64 `json:"p99"`
		P999  uint64 `json:"p99_9"`
	} `json:"ack_latency_us"`
}

// StatsLastError is the latest error of a stream's connections, as the statistics report it.
type StatsLastError struct {
	Code       Code   `json:"code"`
	Name       string `json:"name"`        // the code's name, "ZB_ERR_TRANSPORT"
	GRPCStatus int32  `json:"grpc_status"` // -1 when it did not come from gRPC
	Retryable  bool   `json:"retryable"`
	Message    string `json:"message"`
}

// Stats returns a snapshot of the SDK and of every live stream opened from it. Safe to call
// from any goroutine, also from a statistics callback.
//
// Errors: ErrClosed after Close; ErrNoMemory.
func (s *SDK) Stats() (SDKStats, error) {
	var stats SDKStats
	data, err := s.StatsJSON()
	if err == nil {
		err = json.Unmarshal(data, &stats)
	}
	return stats, err
}

// StatsJSON returns the statistics that Stats decodes, as the library writes them, for a
// metrics pipeline that takes JSON.
func (s *SDK) StatsJSON() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return nil, errSDKClosed()
	}
	var text *C.char
	var length C.size_t
	var cerr *C.zb_error
	if status := C.zb_sdk_stats_json(s.c, &text, &length, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	return takeString(text, length), nil
}

// Stats returns a snapshot of the stream's figures, the entry of SDK.Stats for it.
//
// Errors: ErrClosed once the stream is released (after Close); ErrNoMemory.
func (s *Stream) Stats() (StreamStats, error) {
	var stats StreamStats
	data, err := s.StatsJSON()
	if err == nil {
		err = json.Unmarshal(data, &stats)
	}
	return stats, err
}

// StatsJSON returns the statistics that Stats decodes, as the library writes them.
func (s *Stream) StatsJSON() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return nil, errStreamClosed()
	}
	var text *C.char
	var length C.size_t
	var cerr *C.zb_error
	if status := C.zb_stream_stats_json(s.c, &text, &length, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	return takeString(text, length), nil
}

// takeString copies a string the library allocated for the caller into Go, and frees it.
func takeString(text *C.char, length C.size_t) []byte {
	defer C.zb_string_free(text)
	return C.GoBytes(unsafe.Pointer(text), C.int(length))
}

// StatsCallback receives an SDK's statistics JSON, as SDK.StatsJSON returns it (decode it into
// an SDKStats with encoding/json if need be). The slice is the callback's own.
type StatsCallback func(stats []byte)

// WithStatistics hands the SDK's statistics to `callback` every `interval`
// (statistics.interval.ms; 0 never calls it). It applies to NewSDK only; given to a stream, it
// has no effect.
//
// The callback runs on a thread the library keeps for the SDK, one call at a time. It may call
// any method of this package; it should return within the interval, as the reports it overruns
// are skipped. Once Close has returned, it is not running and will not run again. A panic in it
// is recovered and that report dropped.
func WithStatistics(interval time.Duration, callback StatsCallback) Option {
	return Option{key: "statistics.interval.ms", value: milliseconds(interval), stats: callback}
}

// setStatsCallback registers `callback` on `cfg`.
func setStatsCallback(cfg *C.zb_config, callback StatsCallback) error {
	return registerCallback(cfg, callback, func(cfg *C.zb_config, handle C.uintptr_t, err **C.zb_error) C.zb_status {
		return C.zbgo_config_set_stats_callback(cfg, handle, err)
	})
}

// zbgoStats hands one statistics report to the registered callback (through zbgo_stats).
//
//export zbgoStats
func zbgoStats(text *C.char, length C.size_t, handle C.uintptr_t) {
	// A panic must not unwind through the library's frames.
	defer func() { _ = recover() }()
	callback := cgo.Handle(handle).Value().(StatsCallback)
	callback(C.GoBytes(unsafe.Pointer(text), C.int(length)))
}
