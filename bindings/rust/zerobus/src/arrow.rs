//! Arrow streams (the `arrow` feature): record batches of the `arrow` crates cross into the
//! library through the Arrow C Data Interface, without a copy.
//!
//! Every batch goes in as an `FFI_ArrowArrayStream` (a single one as a stream of one), so
//! that the library checks its schema against the stream's: `zb_stream_ingest_arrow()` reads
//! only the array. The library moves the C stream and each of its arrays out of the structs
//! (their `release` is NULL on return) and calls each array's release once, when the batch is
//! durable or the stream is destroyed: the structs' own drop then releases nothing, and the
//! batch's buffers stay alive (their `Arc`s counted) exactly until the library lets go.

use std::cell::Cell;
use std::future::Future;
use std::ptr::null_mut;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{ArrowError, Schema, SchemaRef};
use zerobus_sys as sys;

use crate::error::{Result, call};
use crate::options::StreamConfig;
use crate::stream::is_queue_full;
use crate::{Error, ErrorCode, Sdk, Stream, StreamOptions, c_string};

impl Sdk {
    /// Opens an Arrow stream into `table` for record batches of `schema`, as
    /// [`create_stream`](Self::create_stream) opens a record stream: the stream takes
    /// [`Stream::ingest_arrow`], [`Stream::ingest_arrow_reader`] and
    /// [`Stream::ingest_arrow_ipc`], each batch under one offset of its own, and goes over
    /// Arrow Flight. The server checks the schema against the table's columns
    /// (`docs/SCHEMAS.md`, "Delta → Arrow").
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for a schema with a
    /// type the library does not carry (naming the column and the type);
    /// [`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT) (`INVALID_ARGUMENT`, naming the
    /// column and both types) for one that does not fit the table; otherwise as
    /// [`create_stream`](Self::create_stream).
    pub fn arrow_stream(
        &self,
        table: &str,
        schema: &Schema,
        options: &StreamOptions,
    ) -> Result<Stream> {
        let exported = FFI_ArrowSchema::try_from(schema).map_err(arrow_error)?;
        let table = c_string("table name", table)?;
        let config = options.config()?;
        let mut raw = null_mut();
        // SAFETY: the SDK is live; the schema is borrowed for the call (the library neither
        // moves nor releases it, and its drop releases it afterwards); `raw` is an out
        // parameter.
        call(|err| unsafe {
            sys::zb_stream_new_arrow(
                self.raw_ptr(),
                table.as_ptr(),
                (&raw const exported).cast(),
                config.config.as_ptr(),
                &mut raw,
                err,
            )
        })?;
        Ok(opened(raw, config))
    }

    /// Opens an Arrow stream as [`arrow_stream`](Self::arrow_stream) does, with the schema as
    /// Arrow IPC bytes (an IPC stream of the schema message alone, as an IPC `StreamWriter`
    /// that wrote no batch gives it), read during the call only.
    ///
    /// # Errors
    /// As [`arrow_stream`](Self::arrow_stream), and
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for bytes that are not
    /// such an IPC stream.
    pub fn arrow_stream_ipc(
        &self,
        table: &str,
        schema_ipc: &[u8],
        options: &StreamOptions,
    ) -> Result<Stream> {
        let table = c_string("table name", table)?;
        let config = options.config()?;
        let mut raw = null_mut();
        // SAFETY: the SDK is live; the bytes are borrowed for the call; `raw` is an out
        // parameter.
        call(|err| unsafe {
            sys::zb_stream_new_arrow_ipc(
                self.raw_ptr(),
                table.as_ptr(),
                schema_ipc.as_ptr().cast(),
                schema_ipc.len(),
                config.config.as_ptr(),
                &mut raw,
                err,
            )
        })?;
        Ok(opened(raw, config))
    }
}

/// The stream a successful Arrow open made.
fn opened(raw: *mut sys::zb_stream, config: StreamConfig) -> Stream {
    // SAFETY: the open succeeded, so `raw` is a new stream the caller owns, made with the
    // config's event callback.
    unsafe { Stream::from_raw(raw, config.hub, config.timeouts) }
}

fn arrow_error(error: ArrowError) -> Error {
    Error::new(ErrorCode::INVALID_SCHEMA, error.to_string())
}

impl Stream {
    /// Accepts one record batch on an Arrow stream under one offset, and returns it. The
    /// batch is not copied: the library holds its buffers (a reference of each `Arc`) until
    /// the server has acknowledged every row of it, or the stream is dropped, then releases
    /// them. When the in-flight window is full, waits for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    ///
    /// # Errors
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for a batch whose
    /// schema is not the stream's (naming the first column that differs);
    /// [`ErrorCode::EMPTY_BATCH`](crate::ErrorCode::EMPTY_BATCH) for a batch of no rows;
    /// [`ErrorCode::RECORD_TYPE`](crate::ErrorCode::RECORD_TYPE) on a record stream;
    /// [`ErrorCode::RECORD_TOO_LARGE`](crate::ErrorCode::RECORD_TOO_LARGE) when one row does
    /// not fit into one message; [`ErrorCode::QUEUE_FULL`](crate::ErrorCode::QUEUE_FULL);
    /// [`ErrorCode::CLOSED`](crate::ErrorCode::CLOSED); after the stream failed, its error.
    pub fn ingest_arrow(&self, batch: RecordBatch) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_arrow(&batch))
    }

    /// Accepts one record batch as [`ingest_arrow`](Self::ingest_arrow) does; when the
    /// in-flight window is full, the future waits for room without blocking the executor, as
    /// [`ingest_proto_async`](Self::ingest_proto_async) does. Dropping the future before it
    /// completes ingests nothing (the batch is dropped with it).
    pub fn ingest_arrow_async(
        &self,
        batch: RecordBatch,
    ) -> impl Future<Output = Result<u64>> + Send + '_ {
        self.ingest_when_room(move || self.try_ingest_arrow(&batch))
    }

    /// One attempt at ingesting a clone of `batch`, as a C stream of one.
    fn try_ingest_arrow(&self, batch: &RecordBatch) -> Result<u64> {
        if batch.num_rows() == 0 {
            // A C stream skips batches of no rows; a batch of its own is refused so.
            return Err(Error::new(ErrorCode::EMPTY_BATCH, "the batch has no rows"));
        }
        let one = RecordBatchIterator::new([Ok(batch.clone())], batch.schema());
        self.ingest_c_stream(Box::new(one))
            .0
            .map_err(|(error, _)| error)
    }

    /// Accepts every batch of `reader`, in order, each under an offset of its own as
    /// [`ingest_arrow`](Self::ingest_arrow) accepts it (batches of no rows are skipped), and
    /// returns the offset of the last with the number of batches accepted. The reader goes
    /// to the library as an Arrow C stream; when the window is full the batches so far stay
    /// accepted and the rest follow once there is room, as
    /// [`ingest_proto`](Self::ingest_proto) waits for it.
    ///
    /// # Errors
    /// As [`ingest_arrow`](Self::ingest_arrow), with
    /// [`ErrorCode::INVALID_SCHEMA`](crate::ErrorCode::INVALID_SCHEMA) for a reader whose
    /// schema is not the stream's, [`ErrorCode::INVALID_RECORD`](crate::ErrorCode::INVALID_RECORD)
    /// quoting the reader's error, and [`ErrorCode::EMPTY_BATCH`](crate::ErrorCode::EMPTY_BATCH)
    /// when it has no rows at all. At an error the batches before it stay accepted.
    pub fn ingest_arrow_reader(
        &self,
        reader: impl RecordBatchReader + Send + 'static,
    ) -> Result<(u64, usize)> {
        let schema = reader.schema();
        let left = Arc::new(Mutex::new(Resumable {
            reader: Box::new(reader),
            handed: None,
            again: false,
        }));
        let accepted = Cell::new(0);
        let last = Cell::new(None);
        self.ingest_waiting(|| {
            let resuming = Resuming {
                schema: Arc::clone(&schema),
                left: Arc::clone(&left),
            };
            let (result, count) = self.ingest_c_stream(Box::new(resuming));
            if count > 0 {
                accepted.set(accepted.get() + count);
                last.set(Some(*result.as_ref().unwrap_or_else(|(_, offset)| offset)));
            }
            let result = result.map_err(|(error, _)| error);
            if is_queue_full(&result) {
                // The refused batch goes again first, once there is room.
                lock(&left).again = true;
            }
            result
        })?;
        match last.get() {
            Some(offset) => Ok((offset, accepted.get())),
            None => Err(Error::new(ErrorCode::EMPTY_BATCH, "the reader has no rows")),
        }
    }

    /// Accepts the record batches of Arrow IPC bytes (the IPC stream format), copied before
    /// the call returns, each under an offset of its own (batches of no rows are skipped), and
    /// returns the offset of the last with the number of batches accepted. Waits for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    ///
    /// # Errors
    /// As [`ingest_arrow`](Self::ingest_arrow), plus
    /// [`ErrorCode::INVALID_RECORD`](crate::ErrorCode::INVALID_RECORD) for bytes that do not
    /// decode, and [`ErrorCode::EMPTY_BATCH`](crate::ErrorCode::EMPTY_BATCH) when they hold no
    /// rows. At a full window the batches before it stay accepted: the error says how many
    /// in its message, and [`info`](Self::info) counts them.
    pub fn ingest_arrow_ipc(&self, data: &[u8]) -> Result<(u64, usize)> {
        let mut last = 0;
        let mut count = 0;
        // SAFETY: the stream is live; the bytes are borrowed for the call; the rest are out
        // parameters.
        call(|err| unsafe {
            sys::zb_stream_ingest_arrow_ipc(
                self.raw_ptr(),
                data.as_ptr().cast(),
                data.len(),
                &mut last,
                &mut count,
                err,
            )
        })?;
        Ok((last, count))
    }

    /// Hands `reader` to the library as an Arrow C stream: the offset of the last batch
    /// accepted, or the error with that offset (meaningful when some were), and the number
    /// accepted.
    fn ingest_c_stream(
        &self,
        reader: Box<dyn RecordBatchReader + Send>,
    ) -> (std::result::Result<u64, (Error, u64)>, usize) {
        let mut exported = FFI_ArrowArrayStream::new(reader);
        let mut last = 0;
        let mut count = 0;
        // SAFETY: the stream is live; `exported` is a C stream the library moves out (its
        // release NULL on return, so that its drop does nothing) unless the call fails with
        // INVALID_ARG, when it stays ours and its drop releases it; the rest are out
        // parameters.
        let result = call(|err| unsafe {
            sys::zb_stream_ingest_arrow_stream(
                self.raw_ptr(),
                (&raw mut exported).cast(),
                &mut last,
                &mut count,
                err,
            )
        });
        (result.map(|()| last).map_err(|error| (error, last)), count)
    }
}

/// What is left of a reader the library took only in part: the reader, and the batch it
/// handed out last, to hand again when the library refused it (a full window).
struct Resumable {
    reader: Box<dyn RecordBatchReader + Send>,
    handed: Option<RecordBatch>,
    again: bool,
}

fn lock(left: &Mutex<Resumable>) -> MutexGuard<'_, Resumable> {
    left.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A reader given to the library as a C stream. The library asks for one batch at a time and
/// accepts each before it asks for the next, so the batch handed last is the only one that
/// may be unaccepted: the one a full window refused.
struct Resuming {
    schema: SchemaRef,
    left: Arc<Mutex<Resumable>>,
}

impl Iterator for Resuming {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut left = lock(&self.left);
        if std::mem::take(&mut left.again) {
            return left.handed.clone().map(Ok);
        }
        let next = left.reader.next();
        left.handed = match &next {
            Some(Ok(batch)) => Some(batch.clone()),
            _ => None,
        };
        next
    }
}

impl RecordBatchReader for Resuming {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
