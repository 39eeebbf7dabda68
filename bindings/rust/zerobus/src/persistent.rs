//! Persistent streams, experimental (the `experimental-persistent` feature): the library's
//! `ZB_EXPERIMENTAL_PERSISTENT` section, which may change or go in any release, as the
//! service marks the calls beneath it "in development".

use std::ffi::CString;
use std::ptr::null_mut;

use zerobus_sys as sys;

use crate::error::call;
use crate::sdk::Opening;
use crate::{RecordFormat, Result, Sdk, Stream, StreamOptions, c_string, take_library_string};

impl Sdk {
    /// Experimental: opens a new persistent stream into `table`, as
    /// [`create_stream`](Self::create_stream) opens a stream. Its durable id
    /// ([`Stream::persistent_id`]) lets any process [resume](Self::resume_stream) it from the
    /// last offset the server committed, so that nothing is stored twice and nothing is lost,
    /// across a dropped connection or a crashed process. Each record is one request on the
    /// wire, so the offset ingest returns is the durable offset the server commits.
    /// `stream.lanes` must be 1.
    ///
    /// # Errors
    /// As [`create_stream`](Self::create_stream), plus
    /// [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG) for lanes above 1 and
    /// [`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT) with `FAILED_PRECONDITION` (9)
    /// from a server that keeps no persistent streams (`zerobus serve --null-sink`).
    pub fn create_persistent_stream(
        &self,
        table: &str,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let table = c_string("table name", table)?;
        self.raw.open_as(
            &Opening::Persistent,
            &table,
            format.into(),
            options.config()?,
        )
    }

    /// Experimental: resumes the persistent stream `stream_id` of `table` with the record
    /// format it was created with: [`Stream::resume_watermark`] then tells what the server had
    /// committed, and the next offset ingest returns is that watermark + 1 (0 when nothing
    /// was committed). A process that crashed learns from the watermark alone which of its
    /// records are durable: every offset at or below it, none above.
    ///
    /// # Errors
    /// As [`create_persistent_stream`](Self::create_persistent_stream), plus
    /// [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG) for an empty id, and
    /// [`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT) with the
    /// [gRPC status](crate::Error::grpc_status): `NOT_FOUND` (5) for an id the server does not
    /// know, `FAILED_PRECONDITION` (9) for a retired stream, `INVALID_ARGUMENT` (3) for another
    /// record format or descriptor, `ABORTED` (10) while another call holds the stream (retried
    /// within the options' recovery retries first).
    pub fn resume_stream(
        &self,
        table: &str,
        stream_id: &str,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let opening = Opening::Resume(c_string("stream id", stream_id)?);
        let table = c_string("table name", table)?;
        self.raw
            .open_as(&opening, &table, format.into(), options.config()?)
    }

    /// Experimental: retires the persistent stream `stream_id` of `table` for good: the server
    /// refuses every resume of it afterwards, and a call still open on it stores nothing more.
    /// Idempotent. One call within the options' recovery timeout, authenticated as a stream of
    /// `options` would be, not retried.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG) for an empty id;
    /// [`ErrorCode::INVALID_TARGET`](crate::ErrorCode::INVALID_TARGET) for a malformed table
    /// name; [`ErrorCode::AUTH`](crate::ErrorCode::AUTH);
    /// [`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT) with `NOT_FOUND` (5) for an id the
    /// server does not know for that table, or `UNAVAILABLE` / `DEADLINE_EXCEEDED` (retryable).
    pub fn retire_stream(
        &self,
        table: &str,
        stream_id: &str,
        options: &StreamOptions,
    ) -> Result<()> {
        let table = c_string("table name", table)?;
        let stream_id = c_string("stream id", stream_id)?;
        retire(self, &table, &stream_id, options)
    }

    /// Experimental: [`create_persistent_stream`](Self::create_persistent_stream) on tokio's
    /// blocking pool, as [`create_stream_async`](Self::create_stream_async) opens a stream.
    ///
    /// # Errors
    /// As [`create_persistent_stream`](Self::create_persistent_stream).
    #[cfg(feature = "tokio")]
    pub async fn create_persistent_stream_async(
        &self,
        table: &str,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let table = c_string("table name", table)?;
        self.open_in_background(Opening::Persistent, table, format, options)
            .await
    }

    /// Experimental: [`resume_stream`](Self::resume_stream) on tokio's blocking pool, as
    /// [`create_stream_async`](Self::create_stream_async) opens a stream.
    ///
    /// # Errors
    /// As [`resume_stream`](Self::resume_stream).
    #[cfg(feature = "tokio")]
    pub async fn resume_stream_async(
        &self,
        table: &str,
        stream_id: &str,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let opening = Opening::Resume(c_string("stream id", stream_id)?);
        let table = c_string("table name", table)?;
        self.open_in_background(opening, table, format, options)
            .await
    }

    /// Experimental: [`retire_stream`](Self::retire_stream) on tokio's blocking pool.
    ///
    /// # Errors
    /// As [`retire_stream`](Self::retire_stream).
    #[cfg(feature = "tokio")]
    pub async fn retire_stream_async(
        &self,
        table: &str,
        stream_id: &str,
        options: &StreamOptions,
    ) -> Result<()> {
        let table = c_string("table name", table)?;
        let stream_id = c_string("stream id", stream_id)?;
        let (sdk, options) = (self.clone_handle(), options.clone());
        crate::blocking::run(move || retire(&sdk, &table, &stream_id, &options)).await
    }

    #[cfg(feature = "tokio")]
    async fn open_in_background(
        &self,
        opening: Opening,
        table: CString,
        format: RecordFormat<'_>,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let format = crate::sdk::FormatBuf::from(format);
        let config = options.config()?;
        let sdk = std::sync::Arc::clone(&self.raw);
        crate::blocking::run(move || sdk.open_as(&opening, &table, format.borrow(), config)).await
    }

    /// Another handle on the same SDK, for a call in the background.
    #[cfg(feature = "tokio")]
    fn clone_handle(&self) -> Sdk {
        Sdk {
            raw: std::sync::Arc::clone(&self.raw),
        }
    }
}

/// `zb_stream_retire()`.
fn retire(sdk: &Sdk, table: &CString, stream_id: &CString, options: &StreamOptions) -> Result<()> {
    let config = options.config()?;
    // SAFETY: the SDK and config are live; the strings are borrowed for the call.
    call(|err| unsafe {
        sys::zb_stream_retire(
            sdk.raw.as_ptr(),
            table.as_ptr(),
            stream_id.as_ptr(),
            config.config.as_ptr(),
            err,
        )
    })
}

impl Stream {
    /// Experimental: the durable id of a persistent stream, to save for
    /// [`Sdk::resume_stream`] and [`Sdk::retire_stream`].
    ///
    /// # Errors
    /// [`ErrorCode::STATE`](crate::ErrorCode::STATE) for a stream that is not persistent.
    pub fn persistent_id(&self) -> Result<String> {
        let (mut text, mut len) = (null_mut(), 0);
        // SAFETY: the stream is live; `text` and `len` are out parameters.
        call(|err| unsafe {
            sys::zb_stream_persistent_id(self.raw_ptr(), &mut text, &mut len, err)
        })?;
        // SAFETY: the call succeeded: `text` is the caller's, `len` bytes long.
        Ok(unsafe { take_library_string(text, len) })
    }

    /// Experimental: the last offset the server had committed when
    /// [`Sdk::resume_stream`] opened this stream, or `None` when it had committed none (and
    /// for a stream [`Sdk::create_persistent_stream`] created).
    ///
    /// # Errors
    /// [`ErrorCode::STATE`](crate::ErrorCode::STATE) for a stream that is not persistent.
    pub fn resume_watermark(&self) -> Result<Option<u64>> {
        let (mut has_committed, mut last_committed) = (0, 0);
        // SAFETY: the stream is live; the others are out parameters.
        call(|err| unsafe {
            sys::zb_stream_resume_watermark(
                self.raw_ptr(),
                &mut has_committed,
                &mut last_committed,
                err,
            )
        })?;
        Ok((has_committed != 0).then_some(last_committed))
    }
}
