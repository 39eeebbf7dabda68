//! Errors: the library's status codes and error objects, copied into Rust values.

use std::ffi::{CStr, c_char};
use std::fmt;
use std::ptr::null_mut;

use zerobus_sys as sys;

/// The result of every fallible call of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A status code of libzerobus.
///
/// A newtype rather than an enum because the library only ever appends codes: a newer library
/// may return a code this crate has no constant for, and [`name`](Self::name) still names it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(sys::zb_status);

impl ErrorCode {
    /// A required argument was missing, or an argument is out of its documented range.
    pub const INVALID_ARG: ErrorCode = ErrorCode(sys::ZB_ERR_INVALID_ARG);
    /// An option key the library does not know.
    pub const UNKNOWN_KEY: ErrorCode = ErrorCode(sys::ZB_ERR_UNKNOWN_KEY);
    /// An option value that does not parse or is out of range for its key.
    pub const INVALID_VALUE: ErrorCode = ErrorCode(sys::ZB_ERR_INVALID_VALUE);
    /// The in-flight window is full and the ingest could not wait.
    pub const QUEUE_FULL: ErrorCode = ErrorCode(sys::ZB_ERR_QUEUE_FULL);
    /// A wait ended before its condition held.
    pub const TIMEOUT: ErrorCode = ErrorCode(sys::ZB_ERR_TIMEOUT);
    /// The stream was closed; it accepts no more records.
    pub const CLOSED: ErrorCode = ErrorCode(sys::ZB_ERR_CLOSED);
    /// A record of zero bytes.
    pub const EMPTY_RECORD: ErrorCode = ErrorCode(sys::ZB_ERR_EMPTY_RECORD);
    /// A record that cannot fit into one request.
    pub const RECORD_TOO_LARGE: ErrorCode = ErrorCode(sys::ZB_ERR_RECORD_TOO_LARGE);
    /// A batch of zero records.
    pub const EMPTY_BATCH: ErrorCode = ErrorCode(sys::ZB_ERR_EMPTY_BATCH);
    /// Protobuf records on a JSON stream, or JSON records on a protobuf stream.
    pub const RECORD_TYPE: ErrorCode = ErrorCode(sys::ZB_ERR_RECORD_TYPE);
    /// The endpoint, table name or descriptor is malformed.
    pub const INVALID_TARGET: ErrorCode = ErrorCode(sys::ZB_ERR_INVALID_TARGET);
    /// The gRPC call failed or the server ended it; [`Error::grpc_status`] tells how.
    pub const TRANSPORT: ErrorCode = ErrorCode(sys::ZB_ERR_TRANSPORT);
    /// The server broke the protocol.
    pub const PROTOCOL: ErrorCode = ErrorCode(sys::ZB_ERR_PROTOCOL);
    /// Authentication failed or its headers cannot be sent.
    pub const AUTH: ErrorCode = ErrorCode(sys::ZB_ERR_AUTH);
    /// The call is not allowed in the object's current state.
    pub const STATE: ErrorCode = ErrorCode(sys::ZB_ERR_STATE);
    /// Memory could not be allocated.
    pub const NO_MEMORY: ErrorCode = ErrorCode(sys::ZB_ERR_NO_MEMORY);
    /// A bug in the library; the message says where.
    pub const INTERNAL: ErrorCode = ErrorCode(sys::ZB_ERR_INTERNAL);
    /// A table description or DDL that is malformed or has a type the service cannot take.
    pub const INVALID_SCHEMA: ErrorCode = ErrorCode(sys::ZB_ERR_INVALID_SCHEMA);
    /// A JSON record that does not fit the table's schema; the message names the column.
    pub const INVALID_RECORD: ErrorCode = ErrorCode(sys::ZB_ERR_INVALID_RECORD);

    /// The code with this number, known to this crate or not.
    pub const fn from_raw(code: i32) -> ErrorCode {
        ErrorCode(code)
    }

    /// The code's number in the C ABI (`zb_status`).
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// The symbolic name the loaded library gives the code (`"ZB_ERR_QUEUE_FULL"`), or `None`
    /// for a code it does not know.
    pub fn name(self) -> Option<&'static str> {
        // SAFETY: zb_status_name() takes any code and returns NULL or a static string.
        unsafe { static_str(sys::zb_status_name(self.0)) }
    }

    /// A one-sentence description of the code from the loaded library, or `None` for a code
    /// it does not know.
    pub fn description(self) -> Option<&'static str> {
        // SAFETY: as for name().
        unsafe { static_str(sys::zb_status_describe(self.0)) }
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ErrorCode({})", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An error from libzerobus: a code, a message, whether retrying may succeed, and the gRPC
/// status it came from.
///
/// A plain Rust value (the library's error object is copied and freed at once), so it is
/// `Send + Sync`, cheap to clone and outlives the stream it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    retryable: bool,
    grpc_status: Option<i32>,
}

impl Error {
    /// The status code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What went wrong, as the library worded it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the same operation may succeed if tried again (a transient server or network
    /// failure).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The gRPC status code (0..=16) the error came from, or `None` when it did not come from
    /// gRPC.
    pub fn grpc_status(&self) -> Option<i32> {
        self.grpc_status
    }

    /// An error raised on the Rust side, before the library is called.
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            retryable: false,
            grpc_status: None,
        }
    }

    /// Copies `err`, which stays owned by the caller.
    ///
    /// # Safety
    /// `err` points to a live `zb_error`.
    pub(crate) unsafe fn copy_from(err: *const sys::zb_error) -> Error {
        // SAFETY: the caller guarantees `err` is live; the message lives as long as it.
        unsafe {
            let message = CStr::from_ptr(sys::zb_error_message(err));
            let grpc_status = sys::zb_error_grpc_status(err);
            Error {
                code: ErrorCode(sys::zb_error_code(err)),
                message: message.to_string_lossy().into_owned(),
                retryable: sys::zb_error_is_retryable(err) != 0,
                grpc_status: (grpc_status >= 0).then_some(grpc_status),
            }
        }
    }

    /// Copies and frees `err`, which the caller owned.
    ///
    /// # Safety
    /// `err` points to a live `zb_error` that nothing else uses or frees.
    pub(crate) unsafe fn take(err: *mut sys::zb_error) -> Error {
        // SAFETY: the caller hands over a live error it owns.
        unsafe {
            let error = Error::copy_from(err);
            sys::zb_error_free(err);
            error
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Runs one fallible C call, handing it the `zb_error **` out parameter, and turns its status
/// into a `Result`. Every fallible call of this crate goes through here.
pub(crate) fn call(c_call: impl FnOnce(*mut *mut sys::zb_error) -> sys::zb_status) -> Result<()> {
    let mut err = null_mut();
    let status = c_call(&mut err);
    if status == sys::ZB_OK {
        return Ok(());
    }
    if err.is_null() {
        // Only out of memory can leave a failure without its error object.
        return Err(Error::new(ErrorCode(status), ""));
    }
    // SAFETY: a failed call hands the caller a new error object it owns.
    Err(unsafe { Error::take(err) })
}

/// # Safety
/// `text` is NULL or a static NUL-terminated string.
unsafe fn static_str(text: *const c_char) -> Option<&'static str> {
    // SAFETY: the caller guarantees a static string; the library's are ASCII.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_str().unwrap_or_default())
}
