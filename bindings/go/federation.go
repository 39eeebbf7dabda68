package zerobus

// #include <stdlib.h>
// #include "zbgo.h"
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// SubjectTokenProvider supplies the subject token of token federation (RFC 8693): a JWT from
// an external identity provider (Entra ID, a Kubernetes service account, ...), which the library
// exchanges at the workspace's /oidc/v1/token for a token scoped to the stream's table. The
// library calls it whenever a stream needs a new Zerobus token (when it opens, and when a
// reconnection finds the kept token expiring or refused), on a thread of its own, never
// concurrently; it may block (to ask the identity provider), which delays the connection.
//
// An error, an empty token or a panic fails the connection attempt with ErrAuth (retried as
// the recovery options say); the provider's error itself does not reach the caller. Neither
// the subject token nor the exchanged one appears in a log line or an error message.
type SubjectTokenProvider func() (token string, err error)

// WithTokenFederation makes streams authenticate by token federation instead of a client
// secret: `provider` supplies the identity provider's JWT, and the SDK's workspace.url is
// where it is exchanged. It is a stream's one source of credentials: with a client secret,
// WithToken or WithHeadersProvider as well, opening the stream fails with ErrInvalidArg. Given
// to NewSDK, it is shared by every stream of the SDK. Add WithFederationClientID for workload
// identity federation; without it, the exchange is account-level federation.
func WithTokenFederation(provider SubjectTokenProvider) Option {
	return Option{federation: provider}
}

// WithFederationClientID names the service principal whose federation policy accepts the
// identity provider's token (workload identity federation), sent as client_id in the token
// exchange (auth.federation.client.id).
func WithFederationClientID(clientID string) Option {
	return Option{key: "auth.federation.client.id", value: clientID}
}

// setTokenFederation registers `provider` on `cfg`, held through a cgo.Handle (callbacks.go).
func setTokenFederation(cfg *C.zb_config, provider SubjectTokenProvider) error {
	return registerCallback(cfg, provider, func(cfg *C.zb_config, handle C.uintptr_t, err **C.zb_error) C.zb_status {
		return C.zbgo_config_set_token_federation(cfg, handle, err)
	})
}

// zbgoProvideSubjectToken runs a SubjectTokenProvider for the library (through
// zbgo_subject_token).
//
//export zbgoProvideSubjectToken
func zbgoProvideSubjectToken(sink *C.zb_token_sink, handle C.uintptr_t) (status C.zb_status) {
	// A panic must not unwind through the library's frames.
	defer func() {
		if recover() != nil {
			status = C.ZB_ERR_AUTH
		}
	}()
	provider := cgo.Handle(handle).Value().(SubjectTokenProvider)
	token, err := provider()
	if err != nil || token == "" {
		return C.ZB_ERR_AUTH
	}
	ctoken := C.CString(token)
	defer C.free(unsafe.Pointer(ctoken))
	return C.zb_token_sink_set(sink, ctoken, nil)
}
