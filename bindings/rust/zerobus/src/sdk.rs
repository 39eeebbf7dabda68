//! The SDK: one endpoint, one shared connection, and the streams opened through it.

use std::ptr::{NonNull, null, null_mut};

use zerobus_sys as sys;

use crate::error::{Result, call};
use crate::{Schema, SdkOptions, Stream, StreamOptions, c_string, take_library_string};

/// The format of a stream's records, fixed when the stream is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat<'a> {
    /// Serialized protobuf messages, described by this serialized
    /// `google.protobuf.DescriptorProto` of the record message (copied by the library).
    Proto(&'a [u8]),
    /// JSON objects, one per record, as UTF-8 text.
    Json,
}

/// A Zerobus endpoint. Streams opened through one `Sdk` share one HTTP/2 connection.
///
/// `Send + Sync`: share it between threads by reference or in an `Arc`. Dropping it releases
/// the caller's reference only: streams opened through it keep working, and the connection
/// closes when the last of them is dropped.
#[derive(Debug)]
pub struct Sdk {
    raw: NonNull<sys::zb_sdk>,
}

// SAFETY: zerobus.h documents an SDK as thread-safe; the only call that ends it is in Drop.
unsafe impl Send for Sdk {}
// SAFETY: as above.
unsafe impl Sync for Sdk {}

impl Sdk {
    /// An SDK for `endpoint` with default options. See [`with_options`](Self::with_options).
    pub fn new(endpoint: &str) -> Result<Sdk> {
        Sdk::with_options(endpoint, &SdkOptions::new())
    }

    /// An SDK for `endpoint`: `"host[:port]"` or `"https://host[:port]"` (TLS with the
    /// system's trust store) or `"http://host:port"` (plaintext, for local servers, with
    /// [`SdkOptions::plaintext`]). No network I/O happens here; the connection opens with the
    /// first stream.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_TARGET`](crate::ErrorCode::INVALID_TARGET) for a malformed
    /// endpoint or `http://` without plaintext;
    /// [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG) when it contains a NUL byte;
    /// [`ErrorCode::UNKNOWN_KEY`](crate::ErrorCode::UNKNOWN_KEY) or
    /// [`ErrorCode::INVALID_VALUE`](crate::ErrorCode::INVALID_VALUE) for a bad option.
    pub fn with_options(endpoint: &str, options: &SdkOptions) -> Result<Sdk> {
        let endpoint = c_string("endpoint", endpoint)?;
        let config = options.config()?;
        let mut raw = null_mut();
        // SAFETY: the strings and config are borrowed for the call; `raw` is an out parameter.
        call(|err| unsafe { sys::zb_sdk_new(endpoint.as_ptr(), config.as_ptr(), &mut raw, err) })?;
        Ok(Sdk {
            raw: NonNull::new(raw).expect("zb_sdk_new() succeeded without an SDK"),
        })
    }

    /// Opens a stream into `table` (`"catalog.schema.table"`) and returns once the server has
    /// accepted it, retrying connection attempts as the options' `recovery_*` settings say.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_TARGET`](crate::ErrorCode::INVALID_TARGET) for a malformed table
    /// name or a descriptor that does not parse;
    /// [`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT) with the
    /// [gRPC status](crate::Error::grpc_status) when the server refused the stream (say
    /// `NOT_FOUND` for an unknown table) or could not be reached;
    /// [`ErrorCode::AUTH`](crate::ErrorCode::AUTH);
    /// [`ErrorCode::TIMEOUT`](crate::ErrorCode::TIMEOUT);
    /// a bad option as in [`with_options`](Self::with_options).
    pub fn create_stream(
        &self,
        table: &str,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let table = c_string("table name", table)?;
        let (record_type, descriptor, descriptor_len) = match format {
            RecordFormat::Proto(descriptor) => (
                sys::ZB_RECORD_PROTO,
                descriptor.as_ptr().cast(),
                descriptor.len(),
            ),
            RecordFormat::Json => (sys::ZB_RECORD_JSON, null(), 0),
        };
        let config = options.config()?;
        let mut raw = null_mut();
        // SAFETY: the SDK is live; everything else is borrowed for the call; `raw` is an out
        // parameter.
        call(|err| unsafe {
            sys::zb_stream_new(
                self.raw.as_ptr(),
                table.as_ptr(),
                record_type,
                descriptor,
                descriptor_len,
                config.as_ptr(),
                &mut raw,
                err,
            )
        })?;
        // SAFETY: zb_stream_new() succeeded, so `raw` is a new stream the caller owns.
        Ok(unsafe { Stream::from_raw(raw) })
    }

    /// Opens a protobuf stream into the schema's table with the schema's descriptor, as
    /// [`create_stream`](Self::create_stream) does. The stream also takes JSON records
    /// ([`Stream::ingest_json`]), each encoded to protobuf before it is accepted.
    ///
    /// # Errors
    /// As [`create_stream`](Self::create_stream).
    pub fn create_stream_from_schema(
        &self,
        schema: &Schema,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let config = options.config()?;
        let mut raw = null_mut();
        // SAFETY: the SDK and schema are live; the config is borrowed for the call; `raw` is
        // an out parameter.
        call(|err| unsafe {
            sys::zb_stream_new_from_schema(
                self.raw.as_ptr(),
                schema.as_ptr(),
                config.as_ptr(),
                &mut raw,
                err,
            )
        })?;
        // SAFETY: zb_stream_new_from_schema() succeeded: `raw` is a new stream the caller owns.
        Ok(unsafe { Stream::from_raw(raw) })
    }

    /// The statistics of the SDK and of every live stream opened through it, as JSON: per
    /// stream its state, offsets issued, sent and acked, records and bytes in flight,
    /// recoveries, errors, bytes on the wire and ack latency percentiles (every field is in
    /// `docs/STATISTICS.md`). Parse it with any JSON crate, or pass it on to a metrics system.
    /// A snapshot holds each stream's lock about as briefly as [`Stream::info`] does.
    ///
    /// # Errors
    /// [`ErrorCode::NO_MEMORY`](crate::ErrorCode::NO_MEMORY).
    pub fn stats_json(&self) -> Result<String> {
        let (mut text, mut len) = (null_mut(), 0);
        // SAFETY: the SDK is live; `text` and `len` are out parameters.
        call(|err| unsafe { sys::zb_sdk_stats_json(self.raw.as_ptr(), &mut text, &mut len, err) })?;
        // SAFETY: the call succeeded: `text` is the caller's, `len` bytes long.
        Ok(unsafe { take_library_string(text, len) })
    }
}

impl Drop for Sdk {
    /// Releases the caller's reference and stops the
    /// [statistics callback](SdkOptions::on_statistics): once drop returns it is not running
    /// and will not run again.
    fn drop(&mut self) {
        // SAFETY: the SDK is live and owned by self; streams hold their own references.
        unsafe { sys::zb_sdk_destroy(self.raw.as_ptr()) }
    }
}
