//! A stream of records into one table.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ptr::{NonNull, null_mut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zerobus_sys as sys;

use crate::callbacks::InLibraryWork;
use crate::error::{Result, call};
use crate::events::{AckEvents, Hub, Progress, StreamEvents};
use crate::options::Timeouts;
use crate::{Ack, Error, ErrorCode, take_library_string, timeout_ms};

/// How many acks one [`Stream::acks`] poll takes from the stream's queue at most.
const ACKS_PER_POLL: usize = 64;

/// A stream of records into one table, from [`Sdk::create_stream`](crate::Sdk::create_stream).
///
/// Every record gets a logical offset, 0, 1, 2, … in the order it was accepted; ingest copies
/// the record and returns at once, and the record becomes durable when an [`Ack`] covers its
/// offset. Acks go to the [`on_ack`](crate::StreamOptions::on_ack) callback when one was set,
/// else they queue up for [`acks`](Self::acks) / [`poll`](Self::poll) /
/// [`ack_events`](Self::ack_events).
///
/// Every wait has an `async` form (`*_async`), woken by the stream's events (see the crate's
/// "Async" section): no thread and no timer per wait, with any executor. Ingest itself
/// never blocks an executor in its `try_*` and `*_async` forms.
///
/// `Send + Sync`: every method may be called from any number of threads at once (share the
/// stream in an `Arc`). Dropping it closes it at once if [`close`](Self::close) was not called,
/// abandoning records not yet acknowledged, and then destroys it: when drop returns, no
/// callback of the stream is running or will run. The exceptions are a stream dropped inside a
/// `log` call that carries one of the library's messages (a logger that owns streams), or
/// inside a [headers provider](crate::StreamOptions::headers_provider): the library refuses
/// to destroy a stream from the first, and from the second a stream's destroy would wait for
/// the connection attempt that called it, so a thread of its own destroys it once the call
/// has returned (and should no thread be available, the stream is leaked rather than the
/// process aborted). Dropped in its own `on_ack`, or in a waker that its ack wakes, the stream
/// is destroyed once that delivery returns.
pub struct Stream {
    raw: NonNull<sys::zb_stream>,
    hub: Arc<Hub>,
    events: Arc<StreamEvents>,
    timeouts: Timeouts,
    /// Calls that run on tokio's blocking pool for a future that may be dropped before they
    /// end: the stream's destroy waits for them.
    background: Arc<Background>,
}

// SAFETY: zerobus.h allows every zb_stream_* function from any thread at once, except
// zb_stream_destroy(), which only Drop calls, with the stream exclusively borrowed.
unsafe impl Send for Stream {}
// SAFETY: as above.
unsafe impl Sync for Stream {}

impl Stream {
    /// # Safety
    /// `raw` is a live stream that the caller owns and hands over, created with a config
    /// whose event callback is `hub`'s.
    pub(crate) unsafe fn from_raw(
        raw: *mut sys::zb_stream,
        hub: Arc<Hub>,
        timeouts: Timeouts,
    ) -> Stream {
        let raw = NonNull::new(raw).expect("a stream was created as NULL");
        let events = hub.events_of(raw.as_ptr(), true);
        if hub.reactor().is_some() {
            events.attach(raw);
        }
        Stream {
            events,
            raw,
            hub,
            timeouts,
            background: Arc::default(),
        }
    }

    /// The library's handle, live while `self` is.
    #[cfg(any(feature = "arrow", feature = "experimental-persistent"))]
    pub(crate) fn raw_ptr(&self) -> *mut sys::zb_stream {
        self.raw.as_ptr()
    }

    /// Accepts one protobuf record (a serialized message of the stream's descriptor) and
    /// returns its offset. The bytes are copied before the call returns. Never waits: when the
    /// in-flight window is full, fails at once with
    /// [`ErrorCode::QUEUE_FULL`](crate::ErrorCode::QUEUE_FULL) (retryable).
    ///
    /// # Errors
    /// [`ErrorCode::EMPTY_RECORD`](crate::ErrorCode::EMPTY_RECORD);
    /// [`ErrorCode::RECORD_TOO_LARGE`](crate::ErrorCode::RECORD_TOO_LARGE);
    /// [`ErrorCode::RECORD_TYPE`](crate::ErrorCode::RECORD_TYPE) on a JSON stream;
    /// [`ErrorCode::QUEUE_FULL`](crate::ErrorCode::QUEUE_FULL);
    /// [`ErrorCode::CLOSED`](crate::ErrorCode::CLOSED) after [`close`](Self::close); after the
    /// stream failed, the error it failed with.
    pub fn try_ingest_proto(&self, record: &[u8]) -> Result<u64> {
        self.try_ingest_bytes(sys::zb_stream_ingest_proto, record)
    }

    /// Accepts one Avro datum of the writer schema on an Avro stream
    /// ([`RecordFormat::Avro`](crate::RecordFormat::Avro) or
    /// [`create_avro_stream_from_schema`](crate::Sdk::create_avro_stream_from_schema)), as
    /// [`try_ingest_proto`](Self::try_ingest_proto) does;
    /// [`ErrorCode::RECORD_TYPE`](crate::ErrorCode::RECORD_TYPE) on any other stream. The datum
    /// is not read here: one that does not fit the writer schema is refused by the server,
    /// which fails the stream ([`ErrorCode::TRANSPORT`](crate::ErrorCode::TRANSPORT),
    /// `INVALID_ARGUMENT`, naming the column).
    pub fn try_ingest_avro(&self, datum: &[u8]) -> Result<u64> {
        self.try_ingest_bytes(sys::zb_stream_ingest_avro, datum)
    }

    /// Runs `ingest`, one of the library's ingests of one record as bytes.
    fn try_ingest_bytes(&self, ingest: IngestBytes, record: &[u8]) -> Result<u64> {
        let mut offset = 0;
        // SAFETY: the stream is live; the record is borrowed for the call.
        call(|err| unsafe {
            ingest(
                self.raw.as_ptr(),
                record.as_ptr().cast(),
                record.len(),
                &mut offset,
                err,
            )
        })?;
        Ok(offset)
    }

    /// Accepts one JSON object on a JSON stream, or on a stream of
    /// [`create_stream_from_schema`](crate::Sdk::create_stream_from_schema) (encoded to
    /// protobuf first), and returns its offset, as [`try_ingest_proto`](Self::try_ingest_proto) does;
    /// [`ErrorCode::RECORD_TYPE`](crate::ErrorCode::RECORD_TYPE) on any other protobuf stream,
    /// [`ErrorCode::INVALID_RECORD`](crate::ErrorCode::INVALID_RECORD) for a record the schema
    /// does not take.
    pub fn try_ingest_json(&self, record: &str) -> Result<u64> {
        let mut offset = 0;
        // SAFETY: the stream is live; the record is borrowed for the call.
        call(|err| unsafe {
            sys::zb_stream_ingest_json(
                self.raw.as_ptr(),
                record.as_ptr().cast(),
                record.len(),
                &mut offset,
                err,
            )
        })?;
        Ok(offset)
    }

    /// Accepts protobuf records as one unit, all or none, with consecutive offsets, in one
    /// request; returns the offset of the last. Errors as [`try_ingest_proto`](Self::try_ingest_proto),
    /// plus [`ErrorCode::EMPTY_BATCH`](crate::ErrorCode::EMPTY_BATCH) for no records and
    /// [`ErrorCode::RECORD_TOO_LARGE`](crate::ErrorCode::RECORD_TOO_LARGE) for a batch that
    /// does not fit into one request.
    pub fn try_ingest_proto_batch<R: AsRef<[u8]>>(&self, records: &[R]) -> Result<u64> {
        self.try_ingest_bytes_batch(sys::zb_stream_ingest_proto_batch, records)
    }

    /// Accepts Avro datums as one unit on an Avro stream, as
    /// [`try_ingest_proto_batch`](Self::try_ingest_proto_batch) does.
    pub fn try_ingest_avro_batch<R: AsRef<[u8]>>(&self, datums: &[R]) -> Result<u64> {
        self.try_ingest_bytes_batch(sys::zb_stream_ingest_avro_batch, datums)
    }

    /// Runs `ingest`, one of the library's ingests of a batch of records as bytes.
    fn try_ingest_bytes_batch<R: AsRef<[u8]>>(
        &self,
        ingest: IngestBytesBatch,
        records: &[R],
    ) -> Result<u64> {
        let (pointers, lens) = batch(records.iter().map(AsRef::as_ref));
        let mut offset = 0;
        // SAFETY: the stream is live; the arrays and the records they point to are borrowed
        // for the call and hold `lens.len()` entries.
        call(|err| unsafe {
            ingest(
                self.raw.as_ptr(),
                pointers.as_ptr().cast(),
                lens.as_ptr(),
                lens.len(),
                &mut offset,
                err,
            )
        })?;
        Ok(offset)
    }

    /// Accepts JSON objects as one unit on a JSON stream, as
    /// [`try_ingest_proto_batch`](Self::try_ingest_proto_batch) does.
    pub fn try_ingest_json_batch<R: AsRef<str>>(&self, records: &[R]) -> Result<u64> {
        let (pointers, lens) = batch(records.iter().map(|record| record.as_ref().as_bytes()));
        let mut offset = 0;
        // SAFETY: as in try_ingest_proto_batch().
        call(|err| unsafe {
            sys::zb_stream_ingest_json_batch(
                self.raw.as_ptr(),
                pointers.as_ptr().cast(),
                lens.as_ptr(),
                lens.len(),
                &mut offset,
                err,
            )
        })?;
        Ok(offset)
    }

    /// Accepts one protobuf record as [`try_ingest_proto`](Self::try_ingest_proto) does, but
    /// when the in-flight window is full, waits up to the options'
    /// [`ingest_timeout`](crate::StreamOptions::ingest_timeout) for room, blocking the thread.
    /// Inside the stream's own [`on_ack`](crate::StreamOptions::on_ack) callback it does not
    /// wait (the acks that would make room queue up behind the callback).
    pub fn ingest_proto(&self, record: &[u8]) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_proto(record))
    }

    /// [`try_ingest_json`](Self::try_ingest_json), waiting for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    pub fn ingest_json(&self, record: &str) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_json(record))
    }

    /// [`try_ingest_avro`](Self::try_ingest_avro), waiting for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    pub fn ingest_avro(&self, datum: &[u8]) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_avro(datum))
    }

    /// [`try_ingest_proto_batch`](Self::try_ingest_proto_batch), waiting for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    pub fn ingest_proto_batch<R: AsRef<[u8]>>(&self, records: &[R]) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_proto_batch(records))
    }

    /// [`try_ingest_json_batch`](Self::try_ingest_json_batch), waiting for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    pub fn ingest_json_batch<R: AsRef<str>>(&self, records: &[R]) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_json_batch(records))
    }

    /// [`try_ingest_avro_batch`](Self::try_ingest_avro_batch), waiting for room as
    /// [`ingest_proto`](Self::ingest_proto) does.
    pub fn ingest_avro_batch<R: AsRef<[u8]>>(&self, datums: &[R]) -> Result<u64> {
        self.ingest_waiting(|| self.try_ingest_avro_batch(datums))
    }

    /// Accepts one protobuf record as [`try_ingest_proto`](Self::try_ingest_proto) does; when
    /// the in-flight window is full, the future waits for room without blocking the executor
    /// (an ack wakes it) and without a time limit: wrap it in your runtime's timeout if you
    /// need one. Dropping the future before it completes ingests nothing. The record is
    /// copied when it is accepted; until then the future borrows it.
    pub fn ingest_proto_async<'a>(
        &'a self,
        record: &'a [u8],
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.ingest_when_room(move || self.try_ingest_proto(record))
    }

    /// [`try_ingest_json`](Self::try_ingest_json), waiting for room as
    /// [`ingest_proto_async`](Self::ingest_proto_async) does.
    pub fn ingest_json_async<'a>(
        &'a self,
        record: &'a str,
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.ingest_when_room(move || self.try_ingest_json(record))
    }

    /// [`try_ingest_avro`](Self::try_ingest_avro), waiting for room as
    /// [`ingest_proto_async`](Self::ingest_proto_async) does.
    pub fn ingest_avro_async<'a>(
        &'a self,
        datum: &'a [u8],
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.ingest_when_room(move || self.try_ingest_avro(datum))
    }

    /// [`try_ingest_proto_batch`](Self::try_ingest_proto_batch), waiting for room as
    /// [`ingest_proto_async`](Self::ingest_proto_async) does.
    pub fn ingest_proto_batch_async<'a, R: AsRef<[u8]> + Sync>(
        &'a self,
        records: &'a [R],
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.ingest_when_room(move || self.try_ingest_proto_batch(records))
    }

    /// [`try_ingest_json_batch`](Self::try_ingest_json_batch), waiting for room as
    /// [`ingest_proto_async`](Self::ingest_proto_async) does.
    pub fn ingest_json_batch_async<'a, R: AsRef<str> + Sync>(
        &'a self,
        records: &'a [R],
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.ingest_when_room(move || self.try_ingest_json_batch(records))
    }

    /// [`try_ingest_avro_batch`](Self::try_ingest_avro_batch), waiting for room as
    /// [`ingest_proto_async`](Self::ingest_proto_async) does.
    pub fn ingest_avro_batch_async<'a, R: AsRef<[u8]> + Sync>(
        &'a self,
        datums: &'a [R],
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        self.ingest_when_room(move || self.try_ingest_avro_batch(datums))
    }

    /// Runs `attempt` (an ingest that never waits) until it finds room, waiting between
    /// attempts, up to the ingest timeout, for the oldest record in flight to become durable
    /// (which frees its room) in the library itself: the wait needs no event.
    pub(crate) fn ingest_waiting(&self, attempt: impl Fn() -> Result<u64>) -> Result<u64> {
        let result = attempt();
        if !is_queue_full(&result) || self.timeouts.ingest_ms == 0 || self.events.delivering() {
            return result;
        }
        let deadline = u64::try_from(self.timeouts.ingest_ms)
            .ok()
            .and_then(|ms| Instant::now().checked_add(Duration::from_millis(ms)));
        loop {
            let left = match deadline {
                None => Duration::MAX,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) => left,
                    None => return attempt(),
                },
            };
            let info = self.info()?;
            // With nothing in flight any more (the ack came after the attempt), there is room
            // now. Else a timeout, or a failure that the next attempt reports, ends the wait.
            if info.records_acked < info.records_accepted
                && self.wait_for_offset(info.records_acked, left).is_err()
            {
                return attempt();
            }
            let result = attempt();
            if !is_queue_full(&result) {
                return result;
            }
        }
    }

    /// A future that runs `attempt` until it finds room, at each of the stream's events.
    pub(crate) fn ingest_when_room<'a>(
        &'a self,
        attempt: impl FnMut() -> Result<u64> + Send + 'a,
    ) -> impl Future<Output = Result<u64>> + Send + 'a {
        let mut attempt = attempt;
        // Any event may have made room: a waiter through offset 0 wakes at every one.
        Progress::new(&self.hub, &self.events, 0, move || {
            let result = attempt();
            (!is_queue_full(&result)).then_some(result)
        })
    }

    /// Waits up to `timeout` until the record at `offset` is durable. Runs no callback.
    ///
    /// # Errors
    /// [`ErrorCode::TIMEOUT`](crate::ErrorCode::TIMEOUT);
    /// [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG) for an offset never issued;
    /// the stream's error if it failed or was closed before the offset was acknowledged.
    pub fn wait_for_offset(&self, offset: u64, timeout: Duration) -> Result<()> {
        // SAFETY: the stream is live.
        call(|err| unsafe {
            sys::zb_stream_wait_for_offset(self.raw.as_ptr(), offset, timeout_ms(timeout), err)
        })
    }

    /// Waits up to `timeout` until every record accepted before the call is durable. Runs no
    /// callback.
    ///
    /// # Errors
    /// [`ErrorCode::TIMEOUT`](crate::ErrorCode::TIMEOUT) (the stream keeps going); the stream's
    /// error if it failed.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        // SAFETY: the stream is live.
        call(|err| unsafe { sys::zb_stream_flush(self.raw.as_ptr(), timeout_ms(timeout), err) })
    }

    /// Closes the stream gracefully: stops accepting records, waits up to `timeout` for every
    /// accepted record to be acknowledged, ends the call, and waits until the ack callback has
    /// been given every ack queued so far (unless called from that callback). Records still
    /// unacknowledged get a [`Ack::Failed`] and stay retrievable with
    /// [`unacked`](Self::unacked). A second call returns what the first returned.
    ///
    /// # Errors
    /// [`ErrorCode::TIMEOUT`](crate::ErrorCode::TIMEOUT) when records were left
    /// unacknowledged (the message counts them); the stream's error if it failed;
    /// [`ErrorCode::STATE`](crate::ErrorCode::STATE), closing nothing, inside a `log` call
    /// that carries one of the library's messages.
    pub fn close(&self, timeout: Duration) -> Result<()> {
        close_stream(self.raw, &self.events, timeout_ms(timeout))
    }

    /// Waits until the record at `offset` is durable, as
    /// [`wait_for_offset`](Self::wait_for_offset) does, without blocking the executor: the
    /// stream's ack wakes the task. Without a time limit: wrap it in your runtime's timeout if
    /// you need one; dropping the future stops the wait and changes nothing.
    ///
    /// # Errors
    /// As [`wait_for_offset`](Self::wait_for_offset), but never a timeout.
    pub fn wait_for_offset_async(
        &self,
        offset: u64,
    ) -> impl Future<Output = Result<()>> + Send + '_ {
        Progress::new(&self.hub, &self.events, offset, move || {
            if self.events.is_durable(offset) {
                return Some(Ok(()));
            }
            self.durable(offset)
        })
    }

    /// Waits until every record accepted before the call is durable, as
    /// [`flush`](Self::flush) does, without blocking the executor, as
    /// [`wait_for_offset_async`](Self::wait_for_offset_async) does.
    pub fn flush_async(&self) -> impl Future<Output = Result<()>> + Send + '_ {
        // The records accepted before the call, not before the first poll.
        let accepted = self.info().map(|info| info.records_accepted);
        async move {
            match accepted?.checked_sub(1) {
                Some(last) => self.wait_for_offset_async(last).await,
                None => Ok(()),
            }
        }
    }

    /// Closes the stream as [`close`](Self::close) does, without blocking the executor while
    /// records are unacknowledged: first it waits, as [`flush_async`](Self::flush_async) does,
    /// until every record accepted is durable (or the stream failed); then it closes.
    ///
    /// That last step is graceful on the wire, as a blocking close is, with the `tokio`
    /// feature inside a tokio runtime: the library signals no event when the server answers
    /// the end of the call, so the close runs on tokio's blocking pool, as
    /// [`Sdk::create_stream_async`](crate::Sdk::create_stream_async) opens a stream. It gives
    /// records accepted in the meantime up to the
    /// [ack timeout](crate::StreamOptions::ack_timeout) to be acknowledged, half-closes the
    /// call and awaits the server's status (one round trip) within what is left of that time.
    /// Elsewhere it closes at once (`close(Duration::ZERO)`), failing records accepted in the
    /// meantime and ending the call with a cancellation (every record acknowledged).
    ///
    /// Without a time limit while it flushes: for one, wrap it in your runtime's timeout.
    /// Cancel-safe: dropping the future while it flushes leaves the stream open, as it was;
    /// then `close(Duration::ZERO)` closes it, failing the records still unacknowledged.
    /// Dropped during the last step, the close goes on on the blocking pool, and dropping the
    /// stream waits for it.
    ///
    /// # Errors
    /// As [`close`](Self::close); a timeout only when records accepted after the flush stay
    /// unacknowledged for the ack timeout.
    pub fn close_async(&self) -> impl Future<Output = Result<()>> + Send + '_ {
        let flushed = self.flush_async();
        async move {
            // A failure is the close's result too; close reports it.
            let _ = flushed.await;
            self.close_once_flushed().await
        }
    }

    /// The last step of [`close_async`](Self::close_async): graceful on tokio's blocking pool.
    #[cfg(feature = "tokio")]
    async fn close_once_flushed(&self) -> Result<()> {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.close(Duration::ZERO);
        }
        let running = BackgroundCall::start(&self.background);
        let (stream, events) = (LiveStream(self.raw), Arc::clone(&self.events));
        let timeout_ms = self.timeouts.ack_ms;
        crate::blocking::run(move || {
            let _running = running;
            close_stream(stream.get(), &events, timeout_ms)
        })
        .await
    }

    /// The last step of [`close_async`](Self::close_async): a close at once.
    #[cfg(not(feature = "tokio"))]
    async fn close_once_flushed(&self) -> Result<()> {
        self.close(Duration::ZERO)
    }

    /// Whether `offset` is durable (`Some(Ok)`), will never be (`Some(Err)`), or not yet.
    fn durable(&self, offset: u64) -> Option<Result<()>> {
        // SAFETY: the stream is live; without an error object, only the status comes back.
        let status = unsafe {
            sys::zb_stream_wait_for_offset(self.raw.as_ptr(), offset, 0, std::ptr::null_mut())
        };
        match status {
            sys::ZB_OK => Some(Ok(())),
            sys::ZB_ERR_TIMEOUT => None,
            // Asked again for the error object: its outcome is settled, so it is the same.
            _ => Some(self.wait_for_offset(offset, Duration::ZERO)),
        }
    }

    /// The stream's statistics as JSON: the object [`Sdk::stats_json`](crate::Sdk::stats_json)
    /// lists for it, with its offsets issued, sent and acked, what is in flight, recoveries,
    /// errors, bytes on the wire and ack latency percentiles (`docs/STATISTICS.md`). Also
    /// after [`close`](Self::close), as the stream ended.
    ///
    /// # Errors
    /// [`ErrorCode::NO_MEMORY`](crate::ErrorCode::NO_MEMORY).
    pub fn stats_json(&self) -> Result<String> {
        let (mut text, mut len) = (null_mut(), 0);
        // SAFETY: the stream is live; `text` and `len` are out parameters.
        call(|err| unsafe {
            sys::zb_stream_stats_json(self.raw.as_ptr(), &mut text, &mut len, err)
        })?;
        // SAFETY: the call succeeded: `text` is the caller's, `len` bytes long.
        Ok(unsafe { take_library_string(text, len) })
    }

    /// A snapshot of the stream's state and counters.
    pub fn info(&self) -> Result<StreamInfo> {
        let mut info = sys::ZB_STREAM_INFO_INIT;
        // SAFETY: the stream is live; `info` has its struct_size set.
        call(|err| unsafe { sys::zb_stream_get_info(self.raw.as_ptr(), &mut info, err) })?;
        Ok(StreamInfo {
            state: StreamState(info.state),
            records_accepted: info.records_accepted,
            records_acked: info.records_acked,
            records_in_flight: info.records_in_flight,
            bytes_in_flight: info.bytes_in_flight,
            recoveries: info.recoveries,
            records_replayed: info.records_replayed,
        })
    }

    /// Takes up to `max_acks` acks from the stream's queue, oldest first, waiting up to
    /// `timeout` for the first (`Duration::ZERO` returns at once); an empty vector when none
    /// came. Acks that arrive while an earlier one is still queued are merged into it. Poll
    /// from one thread at a time: concurrent polls are safe but split the acks between them.
    ///
    /// # Errors
    /// [`ErrorCode::STATE`](crate::ErrorCode::STATE) when the stream has an
    /// [`on_ack`](crate::StreamOptions::on_ack) callback.
    pub fn poll(&self, max_acks: usize, timeout: Duration) -> Result<Vec<Ack>> {
        self.no_ack_callback()?;
        if self.hub.reactor().is_none() {
            return Ok(self
                .events
                .take(max_acks, Instant::now().checked_add(timeout)));
        }
        // The events stay in the library's queue, which the reactor's pump also takes from:
        // what it took comes first, then what the library gives within the timeout.
        if max_acks == 0 {
            return Ok(Vec::new());
        }
        if let Some(acks) = self.events.take_now(max_acks) {
            return Ok(acks);
        }
        let acks = self.poll_library(max_acks, timeout)?;
        if acks.is_empty() {
            return Ok(self.events.take_now(max_acks).unwrap_or_default());
        }
        Ok(acks)
    }

    /// Takes up to `max_acks` events straight from the library's queue, waiting up to
    /// `timeout` for the first (a stream with a reactor only).
    fn poll_library(&self, max_acks: usize, timeout: Duration) -> Result<Vec<Ack>> {
        let mut polled = vec![sys::ZB_EVENT_INIT; max_acks.min(ACKS_PER_POLL)];
        let mut count = 0;
        // SAFETY: the stream is live; the vector holds `polled.len()` events of the size given.
        call(|err| unsafe {
            sys::zb_stream_poll(
                self.raw.as_ptr(),
                polled.as_mut_ptr(),
                size_of::<sys::zb_event>(),
                polled.len(),
                timeout_ms(timeout),
                &mut count,
                err,
            )
        })?;
        Ok(polled[..count]
            .iter_mut()
            // SAFETY: a polled event's error is the caller's.
            .filter_map(|event| unsafe { Ack::take_polled(event) })
            .collect())
    }

    /// The stream's acks as a [`futures_core::Stream`]: each item is the next queued ack, as
    /// [`poll`](Self::poll) takes them, and the stream of acks ends once this stream has been
    /// closed or dropped and every ack taken. The [`AckEvents`] may outlive this stream and
    /// move to another task.
    ///
    /// # Errors
    /// [`ErrorCode::STATE`](crate::ErrorCode::STATE) when the stream has an
    /// [`on_ack`](crate::StreamOptions::on_ack) callback.
    pub fn ack_events(&self) -> Result<AckEvents> {
        self.no_ack_callback()?;
        Ok(AckEvents::new(
            Arc::clone(&self.hub),
            Arc::clone(&self.events),
        ))
    }

    fn no_ack_callback(&self) -> Result<()> {
        if self.hub.has_ack_callback() {
            return Err(Error::new(
                ErrorCode::STATE,
                "the stream delivers its acks to its on_ack callback",
            ));
        }
        Ok(())
    }

    /// An iterator over the stream's acks as they come: each item waits up to `timeout`, and
    /// the iterator ends when none came in that time. A poll that fails (see
    /// [`poll`](Self::poll)) is its last item.
    pub fn acks(&self, timeout: Duration) -> Acks<'_> {
        Acks {
            stream: self,
            timeout,
            pending: VecDeque::new(),
            done: false,
        }
    }

    /// A copy of every record accepted and not yet acknowledged, in offset order. After a
    /// failure or a timed-out close, these are exactly the records of the [`Ack::Failed`]
    /// ranges; carry on with [`recreate`](Self::recreate) or ingest them elsewhere.
    pub fn unacked(&self) -> Result<Records> {
        let mut raw = null_mut();
        // SAFETY: the stream is live; `raw` is an out parameter.
        call(|err| unsafe { sys::zb_stream_unacked(self.raw.as_ptr(), &mut raw, err) })?;
        Ok(Records {
            raw: NonNull::new(raw).expect("zb_stream_unacked() succeeded without a list"),
        })
    }

    /// Opens a new stream like this one (same SDK, table, format, options and callbacks) and
    /// ingests into it, in order, every record this one left unacknowledged: the way to carry
    /// on after a failure or a timed-out close. Replayed records may be stored twice if the
    /// server had made them durable without acknowledging them (at-least-once). The new
    /// stream's offsets start at 0; this one is unchanged.
    ///
    /// # Errors
    /// [`ErrorCode::STATE`](crate::ErrorCode::STATE) while this stream is neither failed nor
    /// closed; any error of [`Sdk::create_stream`](crate::Sdk::create_stream) or of ingest.
    pub fn recreate(&self) -> Result<Stream> {
        let mut raw = null_mut();
        // SAFETY: the stream is live; `raw` is an out parameter.
        let made = call(|err| unsafe { sys::zb_stream_recreate(self.raw.as_ptr(), &mut raw, err) });
        if let Err(error) = made {
            // A new stream that failed may have had events before it was destroyed.
            self.hub.forget_unclaimed();
            return Err(error);
        }
        // SAFETY: zb_stream_recreate() succeeded, so `raw` is a new stream the caller owns,
        // with this stream's callbacks.
        Ok(unsafe { Stream::from_raw(raw, Arc::clone(&self.hub), self.timeouts) })
    }
}

impl Stream {
    /// Recreates the stream as [`recreate`](Self::recreate) does, on tokio's blocking pool,
    /// as [`Sdk::create_stream_async`](crate::Sdk::create_stream_async) opens one: the
    /// library has no recreate that does not block. The task holds a clone of the `Arc`
    /// until the recreate ends, also when the future is dropped first.
    ///
    /// # Errors
    /// As [`recreate`](Self::recreate).
    #[cfg(feature = "tokio")]
    pub async fn recreate_async(self: &Arc<Self>) -> Result<Stream> {
        let stream = Arc::clone(self);
        crate::blocking::run(move || stream.recreate()).await
    }
}

/// `zb_stream_close()` of `raw`, then the end of its events, unless the close was refused
/// (from a log callback) and closed nothing: no event comes any more. The library delivered
/// every queued one to the callback before it returned, or left them in its queue for the pump.
fn close_stream(
    raw: NonNull<sys::zb_stream>,
    events: &StreamEvents,
    timeout_ms: i32,
) -> Result<()> {
    // SAFETY: the caller's stream, live for the call.
    let result = call(|err| unsafe { sys::zb_stream_close(raw.as_ptr(), timeout_ms, err) });
    if result.as_ref().err().map(Error::code) != Some(ErrorCode::STATE) {
        events.pump();
        events.finish();
    }
    result
}

/// A stream that a call on tokio's blocking pool uses while its [`BackgroundCall`] keeps the
/// stream's destroy waiting.
#[cfg(feature = "tokio")]
struct LiveStream(NonNull<sys::zb_stream>);

// SAFETY: every zb_stream_* call but zb_stream_destroy() may run on any thread, and the destroy
// waits for the BackgroundCall that goes with it.
#[cfg(feature = "tokio")]
unsafe impl Send for LiveStream {}

#[cfg(feature = "tokio")]
impl LiveStream {
    fn get(&self) -> NonNull<sys::zb_stream> {
        self.0
    }
}

/// How many of a stream's calls run on tokio's blocking pool.
#[derive(Default)]
struct Background {
    running: std::sync::Mutex<usize>,
    ended: std::sync::Condvar,
}

impl Background {
    /// Waits until no call runs.
    fn wait_idle(&self) {
        let mut running = crate::events::lock(&self.running);
        while *running > 0 {
            running = self
                .ended
                .wait(running)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// One call counted in a [`Background`], from its start until this is dropped.
#[cfg(feature = "tokio")]
struct BackgroundCall(Arc<Background>);

#[cfg(feature = "tokio")]
impl BackgroundCall {
    fn start(background: &Arc<Background>) -> BackgroundCall {
        *crate::events::lock(&background.running) += 1;
        BackgroundCall(Arc::clone(background))
    }
}

#[cfg(feature = "tokio")]
impl Drop for BackgroundCall {
    fn drop(&mut self) {
        *crate::events::lock(&self.0.running) -= 1;
        self.0.ended.notify_all();
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let owned = OwnedStream {
            raw: self.raw,
            hub: Arc::clone(&self.hub),
            events: Arc::clone(&self.events),
            background: Arc::clone(&self.background),
        };
        if InLibraryWork::active() {
            // A failed spawn leaks the stream: zb_stream_destroy() would do nothing here.
            let _ = std::thread::Builder::new()
                .name("zerobus-stream-drop".into())
                .spawn(move || owned.destroy());
            return;
        }
        owned.destroy();
    }
}

/// A stream being dropped, on its way to the thread that destroys it.
struct OwnedStream {
    raw: NonNull<sys::zb_stream>,
    hub: Arc<Hub>,
    events: Arc<StreamEvents>,
    background: Arc<Background>,
}

// SAFETY: the stream is live and nothing else refers to it any more: its Stream was dropped.
unsafe impl Send for OwnedStream {}

impl OwnedStream {
    fn destroy(self) {
        // A close that a dropped close_async() left running uses the stream.
        self.background.wait_idle();
        // The events queued in the library go to the stream's queue first (a stream with a
        // reactor), where its `AckEvents` find them.
        self.events.detach();
        // SAFETY: as above; this is the stream's last call.
        unsafe { sys::zb_stream_destroy(self.raw.as_ptr()) }
        // The destroy barrier: no event of this stream comes any more.
        self.events.finish();
        self.hub.forget(self.raw.as_ptr());
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("info", &self.info())
            .finish()
    }
}

/// Whether an ingest found the window full.
pub(crate) fn is_queue_full(result: &Result<u64>) -> bool {
    matches!(result, Err(error) if error.code() == ErrorCode::QUEUE_FULL)
}

/// The library's ingests of one record as bytes (`zb_stream_ingest_proto`, `_avro`).
type IngestBytes = unsafe extern "C" fn(
    *mut sys::zb_stream,
    *const std::ffi::c_void,
    usize,
    *mut u64,
    *mut *mut sys::zb_error,
) -> sys::zb_status;

/// The library's ingests of a batch of records as bytes (`zb_stream_ingest_proto_batch`,
/// `_avro_batch`).
type IngestBytesBatch = unsafe extern "C" fn(
    *mut sys::zb_stream,
    *const *const std::ffi::c_void,
    *const usize,
    usize,
    *mut u64,
    *mut *mut sys::zb_error,
) -> sys::zb_status;

/// Pointers and lengths of a batch's records, for the C arrays.
fn batch<'a>(records: impl Iterator<Item = &'a [u8]>) -> (Vec<*const u8>, Vec<usize>) {
    records
        .map(|record| (record.as_ptr(), record.len()))
        .unzip()
}

/// The iterator of [`Stream::acks`].
#[derive(Debug)]
pub struct Acks<'a> {
    stream: &'a Stream,
    timeout: Duration,
    pending: VecDeque<Ack>,
    done: bool,
}

impl Iterator for Acks<'_> {
    type Item = Result<Ack>;

    fn next(&mut self) -> Option<Result<Ack>> {
        if self.pending.is_empty() && !self.done {
            match self.stream.poll(ACKS_PER_POLL, self.timeout) {
                Ok(acks) => {
                    self.done = acks.is_empty();
                    self.pending.extend(acks);
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        self.pending.pop_front().map(Ok)
    }
}

/// The state of a stream.
///
/// A newtype rather than an enum because the library may add states.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamState(sys::zb_stream_state);

impl StreamState {
    /// Connected: records flow to the server.
    pub const OPEN: StreamState = StreamState(sys::ZB_STREAM_OPEN);
    /// Reconnecting after a retryable failure; ingest is still accepted.
    pub const RECOVERING: StreamState = StreamState(sys::ZB_STREAM_RECOVERING);
    /// The server announced it will close the call: acks drain, new records wait for the
    /// next connection.
    pub const PAUSED: StreamState = StreamState(sys::ZB_STREAM_PAUSED);
    /// Failed for good; every call reports the error it failed with.
    pub const FAILED: StreamState = StreamState(sys::ZB_STREAM_FAILED);
    /// Closed by [`Stream::close`].
    pub const CLOSED: StreamState = StreamState(sys::ZB_STREAM_CLOSED);

    /// The state's number in the C ABI (`zb_stream_state`).
    pub const fn raw(self) -> i32 {
        self.0
    }
}

impl fmt::Debug for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StreamState::OPEN => f.write_str("OPEN"),
            StreamState::RECOVERING => f.write_str("RECOVERING"),
            StreamState::PAUSED => f.write_str("PAUSED"),
            StreamState::FAILED => f.write_str("FAILED"),
            StreamState::CLOSED => f.write_str("CLOSED"),
            StreamState(other) => write!(f, "StreamState({other})"),
        }
    }
}

/// A snapshot of a stream's state and counters, from [`Stream::info`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// Where the stream is in its life.
    pub state: StreamState,
    /// Offsets issued so far: the next record's offset.
    pub records_accepted: u64,
    /// Every offset below this is durable.
    pub records_acked: u64,
    /// Records accepted and not yet acknowledged.
    pub records_in_flight: u64,
    /// Their bytes, framing included.
    pub bytes_in_flight: u64,
    /// Connections re-established after a failure or a close signal from the server.
    pub recoveries: u64,
    /// Records sent again on a new connection.
    pub records_replayed: u64,
}

/// Records that a stream accepted and that were not acknowledged, from [`Stream::unacked`]:
/// an immutable copy, `Send + Sync`, that outlives the stream.
pub struct Records {
    raw: NonNull<sys::zb_records>,
}

// SAFETY: zerobus.h documents a record list as immutable, readable from any thread at once.
unsafe impl Send for Records {}
// SAFETY: as above.
unsafe impl Sync for Records {}

impl Records {
    /// How many records the list holds.
    pub fn len(&self) -> usize {
        // SAFETY: the list is live.
        unsafe { sys::zb_records_count(self.raw.as_ptr()) }
    }

    /// Whether the list holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record at `index` (0-based, in offset order), or `None` past the end.
    pub fn get(&self, index: usize) -> Option<Record<'_>> {
        let (mut data, mut len, mut offset) = (std::ptr::null(), 0, 0);
        // SAFETY: the list is live; the out parameters are valid.
        let found = call(|err| unsafe {
            sys::zb_records_get(
                self.raw.as_ptr(),
                index,
                &mut data,
                &mut len,
                &mut offset,
                err,
            )
        });
        found.ok().map(|()| Record {
            offset,
            // SAFETY: the library points at `len` bytes that live until zb_records_free(),
            // which only Drop calls, so as long as `self` is borrowed.
            data: unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) },
        })
    }

    /// The records in offset order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record<'_>> {
        (0..self.len()).map(|index| self.get(index).expect("index below the count"))
    }
}

impl Drop for Records {
    fn drop(&mut self) {
        // SAFETY: the list is live and owned by self; no Record borrows it any more.
        unsafe { sys::zb_records_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One record of [`Records`], borrowed from the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The offset the stream gave the record.
    pub offset: u64,
    /// The record's bytes as they were ingested.
    pub data: &'a [u8],
}
