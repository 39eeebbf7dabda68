package zerobus_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

// identityProvider is `zerobus idp`: a key pair in a directory of the test's, and JWTs signed
// with it, so that the test needs no crypto code of its own.
type identityProvider struct {
	t   *testing.T
	bin string
	dir string
}

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	p := &identityProvider{t: t, bin: serverBinary(t), dir: t.TempDir()}
	if output, err := exec.Command(p.bin, "idp", "keygen", p.dir).CombinedOutput(); err != nil {
		t.Fatalf("zerobus idp keygen: %v: %s", err, output)
	}
	return p
}

// publicKey is the PEM file `zerobus serve --federation-key` takes.
func (p *identityProvider) publicKey() string { return filepath.Join(p.dir, "idp.pem") }

// sign is a JWT signed with the provider's key, good for ten minutes.
func (p *identityProvider) sign() (string, error) {
	output, err := exec.Command(p.bin, "idp", "sign", filepath.Join(p.dir, "idp-key.pem")).Output()
	if err != nil {
		return "", fmt.Errorf("zerobus idp sign: %w", err)
	}
	return strings.TrimSpace(string(output)), nil
}

// A stream whose SubjectTokenProvider hands the library a JWT of the identity provider that
// `zerobus serve --federation-key` trusts ingests; one that hands it a JWT of another
// provider, or fails, is refused with ErrAuth.
func TestTokenFederation(t *testing.T) {
	trusted := newIdentityProvider(t)
	server := startServer(t, "--federation-key", trusted.publicKey())
	sdk := server.newSDK(zerobus.WithConfig("workspace.url", server.workspace))

	var calls atomic.Int64
	stream, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable,
		zerobus.WithTokenFederation(func() (string, error) {
			calls.Add(1)
			return trusted.sign()
		}))
	if err != nil {
		t.Fatalf("NewJSONStream with token federation: %v", err)
	}
	ingestJSONAndClose(t, stream, server, 10)
	if calls.Load() != 1 {
		t.Errorf("the provider ran %d times for one stream; want 1", calls.Load())
	}

	other := newIdentityProvider(t)
	refusals := map[string]zerobus.SubjectTokenProvider{
		"a JWT of another identity provider": other.sign,
		"an error":                           func() (string, error) { return "", errors.New("no token today") },
		"an empty token":                     func() (string, error) { return "", nil },
		"a panic":                            func() (string, error) { panic("the provider broke") },
	}
	for name, provider := range refusals {
		_, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable,
			zerobus.WithTokenFederation(provider), zerobus.WithRecoveryRetries(0))
		if !errors.Is(err, zerobus.ErrAuth) {
			t.Errorf("NewJSONStream with %s: %v; want ErrAuth", name, err)
		}
	}
}

// WithFederationClientID names the service principal of workload identity federation: a
// server whose one client is another refuses the exchange.
func TestTokenFederationClientID(t *testing.T) {
	idp := newIdentityProvider(t)
	server := startServer(t, "--federation-key", idp.publicKey(), "--auth", "the-sp:its-secret")
	sdk := server.newSDK(zerobus.WithConfig("workspace.url", server.workspace),
		zerobus.WithTokenFederation(idp.sign))
	for clientID, want := range map[string]error{"the-sp": nil, "someone-else": zerobus.ErrAuth} {
		stream, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable,
			zerobus.WithFederationClientID(clientID), zerobus.WithRecoveryRetries(0))
		if !errors.Is(err, want) {
			t.Errorf("NewJSONStream as %s: %v; want %v", clientID, err, want)
		}
		if err == nil {
			if err := stream.Close(within(t, 30*time.Second)); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	}
}
