package zerobus

// #include "zbgo.h"
import "C"

import "strconv"

// Code is a libzerobus status code (ZB_ERR_* in zerobus.h). Codes are stable: the library
// only appends new ones.
//
// A Code is also an error, so that every *Error can be matched against its code with
// errors.Is:
//
//	if errors.Is(err, zerobus.ErrQueueFull) { ... }
type Code int32

// The codes of this version of the library, in the header's order and with its numbers.
const (
	ErrInvalidArg     Code = C.ZB_ERR_INVALID_ARG      // a bad argument or a misuse
	ErrUnknownKey     Code = C.ZB_ERR_UNKNOWN_KEY      // a configuration key the library does not know
	ErrInvalidValue   Code = C.ZB_ERR_INVALID_VALUE    // a configuration value out of range
	ErrQueueFull      Code = C.ZB_ERR_QUEUE_FULL       // the in-flight window stayed full
	ErrTimeout        Code = C.ZB_ERR_TIMEOUT          // a wait ended before its condition held
	ErrClosed         Code = C.ZB_ERR_CLOSED           // the stream is closed
	ErrEmptyRecord    Code = C.ZB_ERR_EMPTY_RECORD     // a record of zero bytes
	ErrRecordTooLarge Code = C.ZB_ERR_RECORD_TOO_LARGE // a record or batch larger than a request
	ErrEmptyBatch     Code = C.ZB_ERR_EMPTY_BATCH      // a batch of zero records
	ErrRecordType     Code = C.ZB_ERR_RECORD_TYPE      // protobuf on a JSON stream, or the reverse
	ErrInvalidTarget  Code = C.ZB_ERR_INVALID_TARGET   // a malformed endpoint, table or descriptor
	ErrTransport      Code = C.ZB_ERR_TRANSPORT        // the gRPC call failed; see Error.GRPCStatus
	ErrProtocol       Code = C.ZB_ERR_PROTOCOL         // the server broke the protocol
	ErrAuth           Code = C.ZB_ERR_AUTH             // a token request or headers provider failed
	ErrState          Code = C.ZB_ERR_STATE            // not allowed in the object's state
	ErrNoMemory       Code = C.ZB_ERR_NO_MEMORY        // memory could not be allocated
	ErrInternal       Code = C.ZB_ERR_INTERNAL         // a bug in the library
	ErrInvalidSchema  Code = C.ZB_ERR_INVALID_SCHEMA   // a table description or DDL unfit for use
	ErrInvalidRecord  Code = C.ZB_ERR_INVALID_RECORD   // a JSON record that does not fit the schema
)

// String returns the code's symbolic name, such as "ZB_ERR_QUEUE_FULL", or "ZB_ERR(N)" for
// a code the loaded library does not know.
func (c Code) String() string {
	if name := C.zb_status_name(C.zb_status(c)); name != nil {
		return C.GoString(name)
	}
	return "ZB_ERR(" + strconv.Itoa(int(c)) + ")"
}

// Error returns the library's one-sentence description of the code.
func (c Code) Error() string { return "zerobus: " + c.describe() }

func (c Code) describe() string {
	if description := C.zb_status_describe(C.zb_status(c)); description != nil {
		return C.GoString(description)
	}
	return c.String()
}

// Error is what every failed call of this package returns, apart from the context's own
// error when a context ends a wait. It is immutable and safe to share between goroutines.
//
// errors.Is(err, code) reports whether err is an *Error with that Code, and errors.As gives
// the *Error itself:
//
//	var zerr *zerobus.Error
//	if errors.As(err, &zerr) && zerr.Retryable() { ... }
type Error struct {
	// Code says what went wrong.
	Code Code
	// Message is the library's explanation, naming the value or the server's words.
	Message string
	// GRPCStatus is the gRPC status code (0..16) the error came from, or -1 when it did not
	// come from gRPC.
	GRPCStatus int32

	retryable bool
}

// Error formats the error as "zerobus: MESSAGE (CODE)".
func (e *Error) Error() string {
	return "zerobus: " + e.Message + " (" + e.Code.String() + ")"
}

// Retryable reports whether the same operation may succeed if tried again: the failure was
// transient (a server or network outage) rather than a verdict on the request.
func (e *Error) Retryable() bool { return e.retryable }

// Unwrap returns the error's Code, which is what makes errors.Is(err, ErrTimeout) work.
func (e *Error) Unwrap() error { return e.Code }

// takeError converts an error the library handed over and frees it. Out of memory, the
// library may have no error object to hand over, and the status is all there is.
func takeError(status C.zb_status, cerr *C.zb_error) *Error {
	if cerr == nil {
		return newError(Code(status), Code(status).describe())
	}
	fields := C.zbgo_error_read(cerr)
	err := &Error{
		Code:       Code(fields.code),
		Message:    C.GoString(fields.message),
		GRPCStatus: int32(fields.grpc_status),
		retryable:  fields.retryable != 0,
	}
	C.zb_error_free(cerr)
	return err
}

// newError makes an error for a misuse that the binding detects before reaching the library.
func newError(code Code, message string) *Error {
	return &Error{Code: code, Message: message, GRPCStatus: -1}
}
