package zerobus_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zerobus "github.com/libzerobus/zerobus-go"
)

// fetchToken runs the OAuth client-credentials flow against the server's token endpoint for
// a token that may write to `table`.
func fetchToken(workspace, clientID, secret, table string) (string, error) {
	parts := strings.Split(table, ".")
	details, err := json.Marshal([]map[string]any{
		{"type": "unity_catalog_privileges", "object_type": "CATALOG",
			"object_full_path": parts[0], "privileges": []string{"USE CATALOG"}},
		{"type": "unity_catalog_privileges", "object_type": "SCHEMA",
			"object_full_path": parts[0] + "." + parts[1], "privileges": []string{"USE SCHEMA"}},
		{"type": "unity_catalog_privileges", "object_type": "TABLE",
			"object_full_path": table, "privileges": []string{"SELECT", "MODIFY"},
			"operations": []string{"zerobuswrite"}},
	})
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"all-apis"},
		"resource":              {"api://databricks/workspaces/1/zerobusDirectWriteApi"},
		"authorization_details": {string(details)},
	}
	request, err := http.NewRequest(http.MethodPost, workspace+"/oidc/v1/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	request.SetBasicAuth(clientID, secret)
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	request.Close = true
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return "", err
	}
	defer response.Body.Close()
	var reply struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	if err := json.NewDecoder(response.Body).Decode(&reply); err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s: %s", response.Status, reply.Error)
	}
	return reply.AccessToken, nil
}

func TestHeadersProviderAuthenticatesStreams(t *testing.T) {
	server := startServer(t, "--auth", "test-client:test-secret")
	var calls atomic.Int32
	provider := func() (map[string]string, error) {
		calls.Add(1)
		token, err := fetchToken(server.workspace, "test-client", "test-secret", eventsTable)
		if err != nil {
			return nil, err
		}
		return map[string]string{"authorization": "Bearer " + token}, nil
	}
	sdk := server.newSDK(fastRecovery...)

	// Without credentials the server refuses the stream: what follows proves the headers
	// reach it.
	_, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable, zerobus.WithRecovery(false))
	if zerr := requireCode(t, err, zerobus.ErrTransport); zerr.GRPCStatus != 16 {
		t.Fatalf("a stream without a token: %v, want UNAUTHENTICATED (16)", zerr)
	}

	stream := openProto(t, sdk, zerobus.WithHeadersProvider(provider))
	if _, err := stream.Ingest(encodeEvent(0, payloadOf(0))); err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(within(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 1 {
		t.Errorf("the provider was called %d times", calls.Load())
	}
	requireRows(t, server, 1)
}

func TestHeadersProviderFailuresFailTheConnection(t *testing.T) {
	server := startServer(t)
	sdk := server.newSDK(zerobus.WithRecovery(false))
	for name, provider := range map[string]zerobus.HeadersProvider{
		"error": func() (map[string]string, error) { return nil, errors.New("no token today") },
		"panic": func() (map[string]string, error) { panic("provider bug") },
		"bad header": func() (map[string]string, error) {
			return map[string]string{"Bad Name": "x"}, nil
		},
		"bad value": func() (map[string]string, error) {
			return map[string]string{"x-ok": "tab\there"}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sdk.NewJSONStream(within(t, 30*time.Second), eventsTable,
				zerobus.WithHeadersProvider(provider))
			requireCode(t, err, zerobus.ErrAuth)
		})
	}
	// A provider given to the SDK serves its streams.
	var calls atomic.Int32
	shared := server.newSDK(zerobus.WithHeadersProvider(func() (map[string]string, error) {
		calls.Add(1)
		return map[string]string{"x-test-header": "1"}, nil
	}))
	for range 2 {
		stream, err := shared.NewJSONStream(within(t, 30*time.Second), eventsTable)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Close(within(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("the SDK's provider was called %d times for two streams", calls.Load())
	}
}
