//! The SDK: one endpoint, one shared connection, and the streams opened through it.

use std::ffi::CString;
use std::ptr::{NonNull, null, null_mut};
use std::sync::Arc;

use zerobus_sys as sys;

use crate::error::{Result, call};
use crate::options::StreamConfig;
use crate::{Schema, SdkOptions, Stream, StreamOptions, c_string, take_library_string};

/// The format of a stream's records, fixed when the stream is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat<'a> {
    /// Serialized protobuf messages, described by this serialized
    /// `google.protobuf.DescriptorProto` of the record message (copied by the library).
    Proto(&'a [u8]),
    /// JSON objects, one per record, as UTF-8 text.
    Json,
    /// Raw Avro datums, one per record, without framing, written with this writer schema (the
    /// Avro JSON of a record, copied by the library), which the server checks against the
    /// table (`docs/SCHEMAS.md`, "Avro").
    Avro(&'a str),
}

/// A Zerobus endpoint. Streams opened through one `Sdk` share one HTTP/2 connection.
///
/// `Send + Sync`: share it between threads by reference or in an `Arc`. Dropping it releases
/// the caller's reference only: streams opened through it keep working, and the connection
/// closes when the last of them is dropped.
#[derive(Debug)]
pub struct Sdk {
    // Shared with the opens under way in the background (the `tokio` feature's async forms).
    pub(crate) raw: Arc<RawSdk>,
}

#[derive(Debug)]
pub(crate) struct RawSdk(NonNull<sys::zb_sdk>);

// SAFETY: zerobus.h documents an SDK as thread-safe; the only call that ends it is in Drop.
unsafe impl Send for RawSdk {}
// SAFETY: as above.
unsafe impl Sync for RawSdk {}

impl RawSdk {
    pub(crate) fn as_ptr(&self) -> *mut sys::zb_sdk {
        self.0.as_ptr()
    }

    /// Opens a stream as `zb_stream_new()` does, blocking until the server accepts it.
    fn open(
        &self,
        table: &CString,
        format: OwnedFormat<'_>,
        config: StreamConfig,
    ) -> Result<Stream> {
        self.open_as(&Opening::New, table, format, config)
    }

    /// Opens a stream as `opening` says, blocking until the server accepts it.
    pub(crate) fn open_as(
        &self,
        opening: &Opening,
        table: &CString,
        format: OwnedFormat<'_>,
        config: StreamConfig,
    ) -> Result<Stream> {
        let (record_type, descriptor, descriptor_len) = match format {
            OwnedFormat::Proto(descriptor) => (
                sys::ZB_RECORD_PROTO,
                descriptor.as_ptr().cast(),
                descriptor.len(),
            ),
            OwnedFormat::Json => (sys::ZB_RECORD_JSON, null(), 0),
            OwnedFormat::Avro(writer_schema) => (
                sys::ZB_RECORD_AVRO,
                writer_schema.as_ptr().cast(),
                writer_schema.len(),
            ),
        };
        let mut raw = null_mut();
        let (sdk, table, cfg) = (self.as_ptr(), table.as_ptr(), config.config.as_ptr());
        // SAFETY: the SDK is live; everything else is borrowed for the call; `raw` is an out
        // parameter.
        call(|err| unsafe {
            match opening {
                Opening::New => sys::zb_stream_new(
                    sdk,
                    table,
                    record_type,
                    descriptor,
                    descriptor_len,
                    cfg,
                    &mut raw,
                    err,
                ),
                #[cfg(feature = "experimental-persistent")]
                Opening::Persistent => sys::zb_stream_new_persistent(
                    sdk,
                    table,
                    record_type,
                    descriptor,
                    descriptor_len,
                    cfg,
                    &mut raw,
                    err,
                ),
                #[cfg(feature = "experimental-persistent")]
                Opening::Resume(stream_id) => sys::zb_stream_resume(
                    sdk,
                    table,
                    stream_id.as_ptr(),
                    record_type,
                    descriptor,
                    descriptor_len,
                    cfg,
                    &mut raw,
                    err,
                ),
            }
        })?;
        // SAFETY: zb_stream_new() succeeded, so `raw` is a new stream the caller owns, made
        // with the config's event callback.
        Ok(unsafe { Stream::from_raw(raw, config.hub, config.timeouts) })
    }

    /// Opens a stream as `zb_stream_new_from_schema()` does, or as
    /// `zb_stream_new_avro_from_schema()` does when `avro` is set.
    fn open_from_schema(
        &self,
        schema: &Schema,
        avro: bool,
        config: StreamConfig,
    ) -> Result<Stream> {
        let new = if avro {
            sys::zb_stream_new_avro_from_schema
        } else {
            sys::zb_stream_new_from_schema
        };
        let mut raw = null_mut();
        // SAFETY: the SDK and schema are live; the config is borrowed for the call; `raw` is
        // an out parameter.
        call(|err| unsafe {
            new(
                self.as_ptr(),
                schema.as_ptr(),
                config.config.as_ptr(),
                &mut raw,
                err,
            )
        })?;
        // SAFETY: as in open().
        Ok(unsafe { Stream::from_raw(raw, config.hub, config.timeouts) })
    }
}

/// Which stream an open makes.
pub(crate) enum Opening {
    /// An ephemeral stream (`zb_stream_new()`).
    New,
    /// A new persistent stream (`zb_stream_new_persistent()`).
    #[cfg(feature = "experimental-persistent")]
    Persistent,
    /// The persistent stream of this id, resumed (`zb_stream_resume()`).
    #[cfg(feature = "experimental-persistent")]
    Resume(CString),
}

/// A record format whose descriptor is borrowed for the open.
#[derive(Clone, Copy)]
pub(crate) enum OwnedFormat<'a> {
    Proto(&'a [u8]),
    Json,
    Avro(&'a str),
}

/// A record format whose descriptor is the format's own, for an open in the background.
#[cfg(feature = "tokio")]
pub(crate) enum FormatBuf {
    Proto(Vec<u8>),
    Json,
    Avro(String),
}

#[cfg(feature = "tokio")]
impl FormatBuf {
    pub(crate) fn borrow(&self) -> OwnedFormat<'_> {
        match self {
            FormatBuf::Proto(descriptor) => OwnedFormat::Proto(descriptor),
            FormatBuf::Json => OwnedFormat::Json,
            FormatBuf::Avro(writer_schema) => OwnedFormat::Avro(writer_schema),
        }
    }
}

#[cfg(feature = "tokio")]
impl From<RecordFormat<'_>> for FormatBuf {
    fn from(format: RecordFormat<'_>) -> Self {
        match format {
            RecordFormat::Proto(descriptor) => FormatBuf::Proto(descriptor.to_vec()),
            RecordFormat::Json => FormatBuf::Json,
            RecordFormat::Avro(writer_schema) => FormatBuf::Avro(writer_schema.to_owned()),
        }
    }
}

impl<'a> From<RecordFormat<'a>> for OwnedFormat<'a> {
    fn from(format: RecordFormat<'a>) -> Self {
        match format {
            RecordFormat::Proto(descriptor) => OwnedFormat::Proto(descriptor),
            RecordFormat::Json => OwnedFormat::Json,
            RecordFormat::Avro(writer_schema) => OwnedFormat::Avro(writer_schema),
        }
    }
}

impl Sdk {
    /// The library's handle, live while `self` is.
    #[cfg(feature = "arrow")]
    pub(crate) fn raw_ptr(&self) -> *mut sys::zb_sdk {
        self.raw.as_ptr()
    }

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
            raw: Arc::new(RawSdk(
                NonNull::new(raw).expect("zb_sdk_new() succeeded without an SDK"),
            )),
        })
    }

    /// Opens a stream into `table` (`"catalog.schema.table"`) and returns once the server has
    /// accepted it, retrying connection attempts as the options' `recovery_*` settings say.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_TARGET`](crate::ErrorCode::INVALID_TARGET) for a malformed table
    /// name, a descriptor that does not parse or an Avro writer schema that is not the JSON of
    /// a record;
    /// [`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT) with the
    /// [gRPC status](crate::Error::grpc_status) when the server refused the stream (say
    /// `NOT_FOUND` for an unknown table, or `INVALID_ARGUMENT` naming the column for an Avro
    /// writer schema that does not fit the table) or could not be reached;
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
        self.raw.open(&table, format.into(), options.config()?)
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
        self.raw.open_from_schema(schema, false, options.config()?)
    }

    /// Opens an Avro stream into the schema's table with the table's own writer schema
    /// ([`Schema::avro`]), as [`create_stream`](Self::create_stream) does with
    /// [`RecordFormat::Avro`]. Besides datums of that schema ([`Stream::ingest_avro`]), the
    /// stream takes JSON records ([`Stream::ingest_json`]), each encoded to an Avro datum
    /// before it is accepted; [`Stream::unacked`] returns the datums.
    ///
    /// # Errors
    /// As [`create_stream`](Self::create_stream), plus
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for a table with no Avro
    /// form.
    pub fn create_avro_stream_from_schema(
        &self,
        schema: &Schema,
        options: &StreamOptions,
    ) -> Result<Stream> {
        self.raw.open_from_schema(schema, true, options.config()?)
    }

    /// Opens a stream as [`create_stream`](Self::create_stream) does, on tokio's blocking
    /// pool (`spawn_blocking`), since the library has no open that does not block: the
    /// calling task waits without blocking its executor thread, and a thread of the pool
    /// blocks for the open (one server round trip, more when connection attempts are
    /// retried). Must be called within a tokio runtime. Dropping the future does not stop
    /// the open: the stream it makes is then dropped (closed at once).
    ///
    /// # Errors
    /// As [`create_stream`](Self::create_stream).
    #[cfg(feature = "tokio")]
    pub async fn create_stream_async(
        &self,
        table: &str,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let table = c_string("table name", table)?;
        let format = FormatBuf::from(format);
        let config = options.config()?;
        let sdk = Arc::clone(&self.raw);
        crate::blocking::run(move || sdk.open(&table, format.borrow(), config)).await
    }

    /// Opens a stream as [`create_stream_from_schema`](Self::create_stream_from_schema) does,
    /// on tokio's blocking pool, as [`create_stream_async`](Self::create_stream_async) does.
    ///
    /// # Errors
    /// As [`create_stream`](Self::create_stream).
    #[cfg(feature = "tokio")]
    pub async fn create_stream_from_schema_async(
        &self,
        schema: Arc<Schema>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let config = options.config()?;
        let sdk = Arc::clone(&self.raw);
        crate::blocking::run(move || sdk.open_from_schema(&schema, false, config)).await
    }

    /// Opens a stream as
    /// [`create_avro_stream_from_schema`](Self::create_avro_stream_from_schema) does, on
    /// tokio's blocking pool, as [`create_stream_async`](Self::create_stream_async) does.
    ///
    /// # Errors
    /// As [`create_avro_stream_from_schema`](Self::create_avro_stream_from_schema).
    #[cfg(feature = "tokio")]
    pub async fn create_avro_stream_from_schema_async(
        &self,
        schema: Arc<Schema>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let config = options.config()?;
        let sdk = Arc::clone(&self.raw);
        crate::blocking::run(move || sdk.open_from_schema(&schema, true, config)).await
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

impl Drop for RawSdk {
    /// Releases the caller's reference and stops the
    /// [statistics callback](SdkOptions::on_statistics): once drop returns it is not running
    /// and will not run again. An open under way in the background (`create_stream_async`)
    /// holds the SDK until it ends.
    fn drop(&mut self) {
        // SAFETY: the SDK is live and owned by self; streams hold their own references.
        unsafe { sys::zb_sdk_destroy(self.as_ptr()) }
    }
}
