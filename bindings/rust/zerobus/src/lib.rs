//! A Rust client for Databricks Zerobus Ingest over libzerobus, the native C library: stream
//! protobuf or JSON records into a Unity Catalog table, with durable acknowledgements,
//! recovery and at-least-once delivery.
//!
//! An [`Sdk`] names an endpoint; [`Sdk::create_stream`] opens a [`Stream`] into a table (or
//! [`Sdk::create_stream_from_schema`], with a [`Schema`] that also encodes JSON records).
//! Ingest copies each record, gives it an offset and returns; an [`Ack`] later says which
//! offsets became durable (or which never will). Acks go to a closure
//! ([`StreamOptions::on_ack`]) or wait in the stream for [`Stream::acks`]. Both types are
//! `Send + Sync`; dropping a stream destroys it, and when drop returns no callback of it runs
//! any more.
//!
//! ```no_run
//! use std::time::Duration;
//! use zerobus::{Ack, RecordFormat, Sdk, SdkOptions, StreamOptions};
//!
//! # fn main() -> zerobus::Result<()> {
//! let sdk = Sdk::with_options("http://127.0.0.1:50051", &SdkOptions::new().plaintext(true))?;
//! let options = StreamOptions::new().on_ack(|ack| {
//!     if let Ack::Failed { error, .. } = &ack {
//!         eprintln!("records {:?} not delivered: {error}", ack.offsets());
//!     }
//! });
//! let stream = sdk.create_stream("main.default.events", RecordFormat::Json, &options)?;
//! let offset = stream.ingest_json(r#"{"id": 1, "payload": "hello"}"#)?;
//! stream.wait_for_offset(offset, Duration::from_secs(10))?;
//! stream.close(Duration::from_secs(10))?;
//! # Ok(())
//! # }
//! ```
//!
//! # Async
//!
//! Every wait has an `async` form, woken by the stream's events (no thread and no timer per
//! wait, with any executor; with the `tokio` feature, a stream made inside a tokio runtime
//! without `on_ack` or `on_wakeup` is woken by the runtime's reactor, which watches a
//! descriptor the library writes at each event):
//! [`Stream::wait_for_offset_async`], [`Stream::flush_async`], [`Stream::close_async`], and
//! [`Stream::ack_events`], a [`futures_core::Stream`] of acks. Ingest never blocks in its
//! `try_*` forms ([`Stream::try_ingest_proto`] fails with [`ErrorCode::QUEUE_FULL`] on a
//! full window) nor in its `*_async` forms ([`Stream::ingest_proto_async`] waits for room).
//! The library has no open that does not block; with the `tokio` feature,
//! `Sdk::create_stream_async` and `Stream::recreate_async` run it on tokio's blocking pool.
//!
//! ```no_run
//! # async fn run() -> zerobus::Result<()> {
//! use zerobus::{RecordFormat, Sdk, SdkOptions, StreamOptions};
//!
//! let sdk = Sdk::with_options("http://127.0.0.1:50051", &SdkOptions::new().plaintext(true))?;
//! let stream = sdk.create_stream("main.default.events", RecordFormat::Json, &StreamOptions::new())?;
//! let offset = stream.ingest_json_async(r#"{"id": 1, "payload": "hello"}"#).await?;
//! stream.wait_for_offset_async(offset).await?;
//! stream.close_async().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Arrow
//!
//! With the `arrow` feature, `Sdk::arrow_stream` opens a stream of Arrow record batches
//! (`arrow_array::RecordBatch`), which `Stream::ingest_arrow` moves into the library through
//! the Arrow C Data Interface without a copy, one offset per batch; the library releases each
//! batch once the server has acknowledged it. Without the feature no arrow crate is built.
//!
//! The library's log messages go to the [`log`] facade (targets `zerobus::<component>`), at
//! the level [`log::max_level()`] allows when the SDK is created unless
//! [`SdkOptions::log_level`] says otherwise: silent while no logger is installed.
//! [`Sdk::stats_json`] and [`Stream::stats_json`] return statistics as JSON, and
//! [`SdkOptions::on_statistics`] delivers them periodically.
//!
//! Errors are [`Error`] values with a [`code`](Error::code), a [`message`](Error::message) and
//! [`is_retryable`](Error::is_retryable). The library is found through pkg-config when the
//! `zerobus-sys` crate builds.
#![warn(missing_docs)]

mod ack;
#[cfg(feature = "arrow")]
mod arrow;
#[cfg(feature = "tokio")]
mod blocking;
mod callbacks;
mod error;
mod events;
mod logging;
mod options;
#[cfg(feature = "experimental-persistent")]
mod persistent;
#[cfg(feature = "tokio")]
mod reactor;
mod schema;
mod sdk;
mod stream;

use std::ffi::{CString, c_char};
use std::time::Duration;

pub use ack::Ack;
pub use error::{Error, ErrorCode, Result};
pub use events::AckEvents;
pub use options::{SdkOptions, StreamOptions};
pub use schema::Schema;
pub use sdk::{RecordFormat, Sdk};
pub use stream::{Acks, Record, Records, Stream, StreamInfo, StreamState};
use zerobus_sys as sys;

/// The version of the libzerobus loaded at run time, as "MAJOR.MINOR.PATCH".
pub fn library_version() -> &'static str {
    // SAFETY: zb_version_str() returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(sys::zb_version_str()) }
        .to_str()
        .unwrap_or_default()
}

/// A timeout in the C ABI's milliseconds: rounded up, so that a short timeout still waits;
/// one too long for it (over 24 days, `Duration::MAX` say) waits without limit.
pub(crate) fn timeout_ms(timeout: Duration) -> i32 {
    i32::try_from(timeout.as_nanos().div_ceil(1_000_000)).unwrap_or(sys::ZB_TIMEOUT_INFINITE)
}

/// `text` as a C string for an argument named `what`.
pub(crate) fn c_string(what: &str, text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| {
        Error::new(
            ErrorCode::INVALID_ARG,
            format!("the {what} contains a NUL byte"),
        )
    })
}

/// Copies a string the library allocated for the caller (`len` bytes at `text`) and frees it.
///
/// # Safety
/// `text` comes from the library, holds `len` bytes and is not used after this call.
pub(crate) unsafe fn take_library_string(text: *mut c_char, len: usize) -> String {
    // SAFETY: as the function's contract says.
    let copy = String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(text.cast(), len) })
        .into_owned();
    // SAFETY: the library allocated it; nothing refers to it any more.
    unsafe { sys::zb_string_free(text) };
    copy
}

/// Without the `tokio` feature no stream has a reactor: each keeps the event callback.
#[cfg(not(feature = "tokio"))]
mod reactor {
    use std::task::Waker;

    /// Never made.
    pub(crate) enum Reactor {}

    impl Reactor {
        pub(crate) fn poll_wakeup(&self, _: &mut Option<u64>, _: &Waker) -> crate::Result<bool> {
            match *self {}
        }

        pub(crate) fn forget(&self, _: &mut Option<u64>) {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_milliseconds_and_saturate_to_infinite() {
        assert_eq!(timeout_ms(Duration::ZERO), 0);
        assert_eq!(timeout_ms(Duration::from_nanos(1)), 1);
        assert_eq!(timeout_ms(Duration::from_micros(1500)), 2);
        assert_eq!(timeout_ms(Duration::from_millis(i32::MAX as u64)), i32::MAX);
        assert_eq!(timeout_ms(Duration::from_millis(i32::MAX as u64 + 1)), -1);
        assert_eq!(timeout_ms(Duration::MAX), sys::ZB_TIMEOUT_INFINITE);
    }

    #[test]
    fn a_nul_byte_is_an_invalid_argument() {
        let error = c_string("table name", "a\0b").unwrap_err();
        assert_eq!(error.code(), ErrorCode::INVALID_ARG);
        assert_eq!(error.message(), "the table name contains a NUL byte");
    }

    #[test]
    fn the_library_version_is_the_one_declared() {
        let declared = format!(
            "{}.{}.{}",
            sys::ZB_VERSION_MAJOR,
            sys::ZB_VERSION_MINOR,
            sys::ZB_VERSION_PATCH
        );
        assert_eq!(library_version(), declared);
    }
}
