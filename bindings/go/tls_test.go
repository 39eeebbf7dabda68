package zerobus_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

// A `zerobus serve --tls` that requires client certificates signed by its own authority
// accepts a stream that presents the client certificate it made, and refuses one without.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	server := startServerIn(t, dir, "--tls", "--tls-client-ca", filepath.Join(dir, "ca.pem"))
	trust := zerobus.WithTLSCAFile(filepath.Join(dir, "ca.pem"))

	sdk, err := zerobus.NewSDK(server.endpoint, trust,
		zerobus.WithTLSCertFile(filepath.Join(dir, "client.pem")),
		zerobus.WithTLSKeyFile(filepath.Join(dir, "client-key.pem")))
	if err != nil {
		t.Fatalf("NewSDK with a client certificate: %v", err)
	}
	t.Cleanup(func() { _ = sdk.Close() })
	stream, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable)
	if err != nil {
		t.Fatalf("NewJSONStream with a client certificate: %v", err)
	}
	ingestJSONAndClose(t, stream, server, 10)

	without, err := zerobus.NewSDK(server.endpoint, trust)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = without.Close() })
	_, err = without.NewJSONStream(within(t, 30*time.Second), eventsTable,
		zerobus.WithRecoveryRetries(0))
	if !errors.Is(err, zerobus.ErrTransport) {
		t.Fatalf("NewJSONStream without a client certificate: %v; want ErrTransport", err)
	}

	// A certificate without its key is refused when the SDK is made.
	_, err = zerobus.NewSDK(server.endpoint, trust,
		zerobus.WithTLSCertFile(filepath.Join(dir, "client.pem")))
	if !errors.Is(err, zerobus.ErrInvalidValue) {
		t.Fatalf("NewSDK with a certificate and no key: %v; want ErrInvalidValue", err)
	}
}
