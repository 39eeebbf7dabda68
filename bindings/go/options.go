package zerobus

// #include <stdlib.h>
// #include "zbgo.h"
import "C"

import (
	"log/slog"
	"strconv"
	"time"
	"unsafe"
)

// Option sets one configuration key of libzerobus (docs/CONFIGURATION.md lists them all with
// their defaults), or a callback: the headers provider, the token federation callback, the
// logger, the statistics callback. Options given to NewSDK apply to the SDK and are
// the defaults of every stream it opens; options given to NewProtoStream or NewJSONStream
// apply to that stream only and override the SDK's. A key that does not exist or a value out
// of range is reported by the constructor that receives it, as ErrUnknownKey or
// ErrInvalidValue.
//
// An Option is a plain value: safe to share and reuse.
type Option struct {
	key, value string
	headers    HeadersProvider      // set instead of key and value by WithHeadersProvider
	federation SubjectTokenProvider // set instead of key and value by WithTokenFederation
	logger     *slog.Logger         // set instead of key and value by WithLogger
	stats      StatsCallback        // set with statistics.interval.ms by WithStatistics
}

// WithConfig sets any configuration key by its name and textual value, for keys that have
// no typed option here.
func WithConfig(key, value string) Option { return Option{key: key, value: value} }

// WithLanes carries the stream over n server streams ("lanes", 1 to 64) of its table, for
// more than one stream's quota, behind the same API: offsets stay contiguous and the ack
// watermark cumulative across lanes. Rows of different lanes land in the table in no
// particular order; with one lane (the default) they land in offset order. A lane that fails
// for good fails the stream (stream.lanes).
func WithLanes(n int) Option {
	return Option{key: "stream.lanes", value: strconv.Itoa(n)}
}

// WithMaxInflightRecords bounds the records a stream holds until they are acknowledged
// (stream.max.inflight.records).
func WithMaxInflightRecords(n int64) Option {
	return Option{key: "stream.max.inflight.records", value: strconv.FormatInt(n, 10)}
}

// WithMaxInflightBytes bounds the bytes of the records a stream holds until they are
// acknowledged (stream.max.inflight.bytes).
func WithMaxInflightBytes(n int64) Option {
	return Option{key: "stream.max.inflight.bytes", value: strconv.FormatInt(n, 10)}
}

// WithMaxRequestBytes bounds the size of one request to the server; larger records and
// batches are refused with ErrRecordTooLarge (stream.max.request.bytes).
func WithMaxRequestBytes(n int64) Option {
	return Option{key: "stream.max.request.bytes", value: strconv.FormatInt(n, 10)}
}

// WithMaxPayloadBytes bounds the record bytes of one Ingest or IngestBatch call; a call with
// more is refused at once with ErrRecordTooLarge (stream.max.payload.bytes).
func WithMaxPayloadBytes(n int64) Option {
	return Option{key: "stream.max.payload.bytes", value: strconv.FormatInt(n, 10)}
}

// WithIngestTimeout sets how long an ingest waits for room in a full window before it fails
// with ErrQueueFull: 0 never waits, a negative duration waits without limit
// (stream.ingest.timeout.ms).
func WithIngestTimeout(d time.Duration) Option {
	return Option{key: "stream.ingest.timeout.ms", value: millisecondsOrInfinite(d)}
}

// WithAckTimeout sets how long a stream waits for the server while requests are
// unacknowledged before it treats the connection as dead (stream.ack.timeout.ms).
func WithAckTimeout(d time.Duration) Option {
	return Option{key: "stream.ack.timeout.ms", value: milliseconds(d)}
}

// WithRecovery turns the retrying of retryable failures on (the default) or off
// (recovery.enable).
func WithRecovery(enabled bool) Option {
	return Option{key: "recovery.enable", value: strconv.FormatBool(enabled)}
}

// WithRecoveryTimeout bounds one connection attempt (recovery.timeout.ms).
func WithRecoveryTimeout(d time.Duration) Option {
	return Option{key: "recovery.timeout.ms", value: milliseconds(d)}
}

// WithRecoveryRetries sets the connection attempts after the first before a failure is final
// (recovery.retries).
func WithRecoveryRetries(n int) Option {
	return Option{key: "recovery.retries", value: strconv.Itoa(n)}
}

// WithRecoveryBackoff sets the delay before the first retried connection attempt; it doubles
// with each further attempt (recovery.backoff.ms).
func WithRecoveryBackoff(d time.Duration) Option {
	return Option{key: "recovery.backoff.ms", value: milliseconds(d)}
}

// WithRecoveryBackoffMax sets the longest delay between two connection attempts
// (recovery.backoff.max.ms).
func WithRecoveryBackoffMax(d time.Duration) Option {
	return Option{key: "recovery.backoff.max.ms", value: milliseconds(d)}
}

// WithPausedMaxWait bounds how long a stream told by the server that its call will close
// keeps collecting acks before it reconnects; a negative duration waits as long as the
// server grants (stream.paused.max.wait.ms).
func WithPausedMaxWait(d time.Duration) Option {
	return Option{key: "stream.paused.max.wait.ms", value: millisecondsOrInfinite(d)}
}

// WithPlaintext lets an SDK speak plaintext HTTP/2, without TLS, as an "http://" endpoint
// requires: for a local server such as `zerobus serve` only (transport.plaintext).
func WithPlaintext(enabled bool) Option {
	return Option{key: "transport.plaintext", value: strconv.FormatBool(enabled)}
}

// WithTLSCAFile makes an SDK trust only the certificate authorities of this PEM file, instead
// of the system's, for the endpoint and the workspace (tls.ca.file). WithTLSCAPEM takes the
// PEM text itself (tls.ca.pem).
func WithTLSCAFile(path string) Option { return Option{key: "tls.ca.file", value: path} }

// WithTLSCAPEM is WithTLSCAFile with the certificates as PEM text (tls.ca.pem).
func WithTLSCAPEM(pem string) Option { return Option{key: "tls.ca.pem", value: pem} }

// WithTLSCertFile makes an SDK present the client certificate (chain) of this PEM file to the
// endpoint and the workspace: mutual TLS, with WithTLSKeyFile or WithTLSKeyPEM (tls.cert.file).
// NewSDK reads it; a certificate without a key, or the reverse, is ErrInvalidValue.
func WithTLSCertFile(path string) Option { return Option{key: "tls.cert.file", value: path} }

// WithTLSCertPEM is WithTLSCertFile with the certificate as PEM text (tls.cert.pem).
func WithTLSCertPEM(pem string) Option { return Option{key: "tls.cert.pem", value: pem} }

// WithTLSKeyFile gives the private key of the client certificate as an unencrypted PEM file
// (tls.key.file).
func WithTLSKeyFile(path string) Option { return Option{key: "tls.key.file", value: path} }

// WithTLSKeyPEM is WithTLSKeyFile with the key as PEM text, which never appears in errors
// (tls.key.pem).
func WithTLSKeyPEM(pem string) Option { return Option{key: "tls.key.pem", value: pem} }

// WithTLSServerName sets the name the server certificates of the endpoint and the workspace are
// checked against, and sent in SNI, instead of the hosts of their URLs (tls.server.name).
func WithTLSServerName(name string) Option { return Option{key: "tls.server.name", value: name} }

// WithApplicationName names the application to the service, which attributes traffic by the
// user-agent: "libzerobus/<version> go/<Go version> <name>" (sdk.application.name). An SDK
// option; the binding adds its part even without one.
func WithApplicationName(name string) Option {
	return Option{key: "sdk.application.name", value: name}
}

// WithToken sets the bearer token a stream sends (auth.token).
func WithToken(token string) Option { return Option{key: "auth.token", value: token} }

// WithDispatchThreads sets how many threads of the SDK deliver its streams' events to the Go
// side (dispatch.threads): a callback that blocks holds one of them. It applies to NewSDK only.
func WithDispatchThreads(n int) Option {
	return Option{key: "dispatch.threads", value: strconv.Itoa(n)}
}

// WithSupervisionThreads sets how many threads of the SDK reconnect its streams and watch their
// acknowledgements (supervision.threads). It applies to NewSDK only.
func WithSupervisionThreads(n int) Option {
	return Option{key: "supervision.threads", value: strconv.Itoa(n)}
}

// milliseconds rounds up, so that a positive duration never turns into 0, which several keys
// read as "do not wait".
func milliseconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

func millisecondsOrInfinite(d time.Duration) string {
	if d < 0 {
		return strconv.Itoa(C.ZB_TIMEOUT_INFINITE)
	}
	return milliseconds(d)
}

// configScope tells what a config is made for: the SDK reads the logger and the statistics
// callback, a stream does not, so a stream's config does without them.
type configScope int

const (
	sdkScope configScope = iota
	streamScope
)

// newConfig makes a library config holding `options`, later ones winning. The caller destroys
// it with C.zb_config_destroy.
func newConfig(options []Option, scope configScope) (*C.zb_config, error) {
	var cfg *C.zb_config
	var cerr *C.zb_error
	if status := C.zb_config_new(&cfg, &cerr); status != C.ZB_OK {
		return nil, takeError(status, cerr)
	}
	for _, option := range options {
		if err := applyOption(cfg, option, scope); err != nil {
			C.zb_config_destroy(cfg)
			return nil, err
		}
	}
	return cfg, nil
}

func applyOption(cfg *C.zb_config, option Option, scope configScope) error {
	switch {
	case option.headers != nil:
		return setHeadersProvider(cfg, option.headers)
	case option.federation != nil:
		return setTokenFederation(cfg, option.federation)
	case option.logger != nil:
		if scope == sdkScope {
			return setLogger(cfg, option.logger)
		}
		return nil
	case option.stats != nil && scope == sdkScope:
		if err := setStatsCallback(cfg, option.stats); err != nil {
			return err
		}
	}
	var cerr *C.zb_error
	key, value := C.CString(option.key), C.CString(option.value)
	defer C.free(unsafe.Pointer(key))
	defer C.free(unsafe.Pointer(value))
	if status := C.zb_config_set(cfg, key, value, &cerr); status != C.ZB_OK {
		return takeError(status, cerr)
	}
	return nil
}
