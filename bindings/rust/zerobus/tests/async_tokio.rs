//! The async surface under tokio, on a multi-thread and on a current-thread runtime: many tasks
//! ingesting into one stream, waits that ride out a recovery, a cancelled close, a stream
//! dropped with futures pending, ingest that never blocks the executor, opens on the
//! blocking pool, and futures that take queued acks without waking their own task.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use support::{Server, TABLE, assert_acked_in_order, event_descriptor, event_record};
use zerobus::{Ack, ErrorCode, RecordFormat, Sdk, Stream, StreamOptions, StreamState};

/// Bounds every wait of these tests: far above what they take, short enough to fail a hang.
const WAIT: Duration = Duration::from_secs(30);

/// Runs `test` once on a multi-thread runtime and once on a current-thread one.
macro_rules! on_both_runtimes {
    ($name:ident, $multi:ident, $current:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $multi() {
            tokio::time::timeout(2 * WAIT, $name())
                .await
                .expect("the test hung");
        }

        #[tokio::test(flavor = "current_thread")]
        async fn $current() {
            tokio::time::timeout(2 * WAIT, $name())
                .await
                .expect("the test hung");
        }
    };
}

async fn open(sdk: &Sdk, options: &StreamOptions) -> Stream {
    sdk.create_stream_async(TABLE, RecordFormat::Proto(event_descriptor()), options)
        .await
        .expect("a stream")
}

/// Every ack of `acks` until it ends.
async fn collect(acks: zerobus::AckEvents) -> Vec<Ack> {
    tokio::time::timeout(WAIT, acks.collect())
        .await
        .expect("the acks never ended")
}

on_both_runtimes!(
    many_tasks_ingest_into_one_stream,
    many_tasks_ingest_into_one_stream_multi_thread,
    many_tasks_ingest_into_one_stream_current_thread
);
async fn many_tasks_ingest_into_one_stream() {
    const TASKS: i64 = 8;
    const PER_TASK: i64 = 500;
    let server = Server::start(&[]);
    let sdk = server.sdk();
    // A small window, so that tasks wait for room many times.
    let stream = Arc::new(open(&sdk, &StreamOptions::new().max_inflight_records(64)).await);
    let acks = tokio::spawn(collect(stream.ack_events().unwrap()));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let stream = Arc::clone(&stream);
            tokio::spawn(async move {
                let mut offsets = Vec::new();
                for i in 0..PER_TASK {
                    let record = event_record(task * PER_TASK + i, "many tasks");
                    offsets.push(stream.ingest_proto_async(&record).await.unwrap());
                }
                offsets
            })
        })
        .collect();
    let mut offsets = Vec::new();
    for task in tasks {
        offsets.extend(task.await.unwrap());
    }
    offsets.sort_unstable();
    let total = (TASKS * PER_TASK) as u64;
    assert_eq!(offsets, (0..total).collect::<Vec<_>>());
    stream.flush_async().await.unwrap();
    assert_eq!(stream.info().unwrap().records_acked, total);
    stream.close_async().await.unwrap();

    assert_acked_in_order(&acks.await.unwrap(), total - 1);
    assert_eq!(
        server.stored_ids().into_iter().collect::<BTreeSet<_>>(),
        (0..TASKS * PER_TASK).collect()
    );
}

on_both_runtimes!(
    flush_rides_out_a_recovery,
    flush_rides_out_a_recovery_multi_thread,
    flush_rides_out_a_recovery_current_thread
);
async fn flush_rides_out_a_recovery() {
    let fault = format!("{TABLE}:fail_after_records=300,fail_status=UNAVAILABLE");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let options = StreamOptions::new().recovery_backoff(Duration::from_millis(10));
    let stream = open(&sdk, &options).await;
    for id in 0..1000 {
        stream
            .ingest_proto_async(&event_record(id, "recovered"))
            .await
            .unwrap();
    }
    stream.flush_async().await.unwrap();
    let info = stream.info().unwrap();
    assert!(info.recoveries >= 1, "the stream never broke: {info:?}");
    assert_eq!(info.records_acked, 1000, "{info:?}");
    stream.close_async().await.unwrap();
    assert_eq!(
        server.stored_ids().into_iter().collect::<BTreeSet<_>>(),
        (0..1000).collect()
    );
}

on_both_runtimes!(
    a_cancelled_close_leaves_the_stream_open,
    a_cancelled_close_leaves_the_stream_open_multi_thread,
    a_cancelled_close_leaves_the_stream_open_current_thread
);
async fn a_cancelled_close_leaves_the_stream_open() {
    let fault = format!("{TABLE}:withhold_acks=true");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let stream = open(&sdk, &StreamOptions::new()).await;
    for id in 0..20 {
        stream.try_ingest_proto(&event_record(id, "held")).unwrap();
    }
    let cancelled = tokio::time::timeout(Duration::from_millis(200), stream.close_async()).await;
    assert!(cancelled.is_err(), "the close ended: {cancelled:?}");
    assert_eq!(stream.info().unwrap().state, StreamState::OPEN);
    stream.try_ingest_proto(&event_record(20, "held")).unwrap();

    // Once the server acknowledges again (at the next request), the close completes.
    server.set_faults("{}");
    stream.try_ingest_proto(&event_record(21, "held")).unwrap();
    stream.close_async().await.unwrap();
    assert_eq!(stream.info().unwrap().state, StreamState::CLOSED);
    assert_eq!(stream.close_async().await, Ok(()), "close is idempotent");
    assert_eq!(
        server.stored_ids().into_iter().collect::<BTreeSet<_>>(),
        (0..22).collect()
    );
}

on_both_runtimes!(
    a_stream_failed_for_want_of_acks_ends_every_wait,
    a_stream_failed_for_want_of_acks_ends_every_wait_multi_thread,
    a_stream_failed_for_want_of_acks_ends_every_wait_current_thread
);
/// Its failure was once `TIMEOUT`, a wait's own code: a wait begun after it took it for "not
/// yet" and never ended.
async fn a_stream_failed_for_want_of_acks_ends_every_wait() {
    let fault = format!("{TABLE}:withhold_acks=true");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let options = StreamOptions::new()
        .ack_timeout(Duration::from_millis(200))
        .recovery(false);
    let stream = open(&sdk, &options).await;
    let offset = stream.try_ingest_proto(&event_record(0, "held")).unwrap();
    let failure = tokio::time::timeout(WAIT, stream.wait_for_offset_async(offset))
        .await
        .expect("the wait never ended")
        .unwrap_err();
    assert_eq!(failure.code(), ErrorCode::TRANSPORT);
    assert_eq!(failure.grpc_status(), Some(4)); // DEADLINE_EXCEEDED
    assert!(
        failure.message().contains("no acknowledgement"),
        "{failure:?}"
    );
    assert_eq!(stream.info().unwrap().state, StreamState::FAILED);
    let begun_after = tokio::time::timeout(WAIT, stream.wait_for_offset_async(offset))
        .await
        .expect("a wait begun after the failure never ended");
    assert_eq!(begun_after, Err(failure.clone()));
    let flushed = tokio::time::timeout(WAIT, stream.flush_async())
        .await
        .expect("a flush begun after the failure never ended");
    assert_eq!(flushed, Err(failure));
}

on_both_runtimes!(
    close_async_is_graceful_on_the_wire,
    close_async_is_graceful_on_the_wire_multi_thread,
    close_async_is_graceful_on_the_wire_current_thread
);
async fn close_async_is_graceful_on_the_wire() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = open(&sdk, &StreamOptions::new()).await;
    for id in 0..10 {
        stream
            .try_ingest_proto(&event_record(id, "graceful"))
            .unwrap();
    }
    stream.close_async().await.unwrap();
    assert_eq!(stream.info().unwrap().state, StreamState::CLOSED);
    // The server counts the call once it has ended on its side too, just after its status.
    let deadline = Instant::now() + WAIT;
    let stats = loop {
        let stats = server.table_stats(TABLE);
        if stats["streams_open"] == 0 {
            break stats;
        }
        assert!(Instant::now() < deadline, "the call never ended: {stats}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Half-closed, and the server's status awaited: not cancelled.
    assert_eq!(stats["streams_closed_by_client"], 1, "{stats}");
    assert_eq!(stats["streams_cancelled_by_client"], 0, "{stats}");
    assert_eq!(server.stored_ids().len(), 10);
}

#[test]
fn a_stream_outlives_the_runtime_it_was_made_in() {
    let fault = format!("{TABLE}:withhold_acks=true");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Made inside the runtime: its reactor watches the stream's wakeups.
    let stream = runtime.block_on(open(&sdk, &StreamOptions::new()));
    stream.try_ingest_proto(&event_record(0, "held")).unwrap();
    let acks = stream.ack_events().unwrap();
    drop(runtime);
    // Its async waits fail rather than wait for wakeups that no reactor delivers any more.
    let waited = futures::executor::block_on(stream.wait_for_offset_async(0)).unwrap_err();
    assert_eq!(waited.code(), ErrorCode::STATE, "{waited}");
    assert!(
        futures::executor::block_on(acks.collect::<Vec<_>>()).is_empty(),
        "the acks end with the runtime"
    );
    // Its blocking calls go on.
    server.set_faults("{}");
    stream.try_ingest_proto(&event_record(1, "held")).unwrap();
    stream.flush(WAIT).unwrap();
    let acks: Vec<Ack> = stream.acks(Duration::ZERO).map(Result::unwrap).collect();
    assert_acked_in_order(&acks, 1);
    stream.close(WAIT).unwrap();
    assert_eq!(
        server.stored_ids().into_iter().collect::<BTreeSet<_>>(),
        (0..2).collect()
    );
}

on_both_runtimes!(
    dropping_a_stream_with_futures_pending,
    dropping_a_stream_with_futures_pending_multi_thread,
    dropping_a_stream_with_futures_pending_current_thread
);
async fn dropping_a_stream_with_futures_pending() {
    let fault = format!("{TABLE}:withhold_acks=true");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let stream = Arc::new(open(&sdk, &StreamOptions::new().max_inflight_records(4)).await);
    let acks = tokio::spawn(collect(stream.ack_events().unwrap()));
    for id in 0..4 {
        stream
            .try_ingest_proto(&event_record(id, "dropped"))
            .unwrap();
    }
    // Waits that cannot end while the server withholds its acks: for an offset, a flush, a
    // close, and room in the full window.
    let mut pending = Vec::new();
    for offset in 0..3 {
        let stream = Arc::clone(&stream);
        pending.push(tokio::spawn(async move {
            let _ = stream.wait_for_offset_async(offset).await;
        }));
    }
    let spawn_with = |stream: Arc<Stream>, which: u8| {
        tokio::spawn(async move {
            let record = event_record(4, "no room");
            let _ = match which {
                0 => stream.flush_async().await,
                1 => stream.close_async().await,
                _ => stream.ingest_proto_async(&record).await.map(drop),
            };
        })
    };
    for which in 0..3 {
        pending.push(spawn_with(Arc::clone(&stream), which));
    }
    // Every task has polled its future once: they are all pending now.
    tokio::task::yield_now().await;
    let still = tokio::time::timeout(Duration::from_millis(100), async {
        for task in &pending {
            while !task.is_finished() {
                tokio::task::yield_now().await;
            }
        }
    })
    .await;
    assert!(still.is_err(), "a wait ended while acks were withheld");
    for task in &pending {
        task.abort();
    }
    for task in pending {
        assert!(task.await.unwrap_err().is_cancelled());
    }
    let stream = Arc::try_unwrap(stream).expect("the aborted tasks let go of the stream");
    let started = Instant::now();
    drop(stream);
    assert!(started.elapsed() < Duration::from_secs(10));
    // The acks outlive the stream and end with it; none of the records became durable.
    let acks = acks.await.unwrap();
    assert!(
        acks.iter().all(|ack| ack.error().is_some()),
        "a durable ack while the server withheld them: {acks:?}"
    );
}

on_both_runtimes!(
    ingest_waits_for_room_only_when_asked,
    ingest_waits_for_room_only_when_asked_multi_thread,
    ingest_waits_for_room_only_when_asked_current_thread
);
async fn ingest_waits_for_room_only_when_asked() {
    let fault = format!("{TABLE}:ack_delay_ms=300");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let window = |ingest_timeout| {
        StreamOptions::new()
            .max_inflight_records(4)
            .ingest_timeout(ingest_timeout)
    };
    // A 30 s ingest timeout binds the blocking form only.
    let stream = open(&sdk, &window(WAIT)).await;
    for id in 0..4 {
        stream.try_ingest_proto(&event_record(id, "room")).unwrap();
    }
    let started = Instant::now();
    let full = stream
        .try_ingest_proto(&event_record(4, "room"))
        .unwrap_err();
    assert_eq!(full.code(), ErrorCode::QUEUE_FULL, "{full}");
    assert!(full.is_retryable());
    assert!(started.elapsed() < Duration::from_millis(250));
    // The async form waits for the delayed acks to make room, without blocking the executor:
    // a task on the same (possibly single) thread runs meanwhile.
    let ticker = tokio::spawn(async {
        let mut ticks = 0u32;
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            ticks += 1;
            if ticks == 5 {
                return ticks;
            }
        }
    });
    let offset = stream
        .ingest_proto_async(&event_record(4, "room"))
        .await
        .unwrap();
    assert_eq!(offset, 4);
    assert_eq!(ticker.await.unwrap(), 5);
    stream.close_async().await.unwrap();
}

#[test]
fn blocking_ingest_waits_for_room_up_to_its_timeout() {
    let fault = format!("{TABLE}:ack_delay_ms=300");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let open = |ingest_timeout| {
        let options = StreamOptions::new()
            .max_inflight_records(4)
            .ingest_timeout(ingest_timeout);
        sdk.create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
            .unwrap()
    };
    let short = open(Duration::from_millis(50));
    for id in 0..4 {
        short.ingest_proto(&event_record(id, "room")).unwrap();
    }
    let started = Instant::now();
    let full = short.ingest_proto(&event_record(4, "room")).unwrap_err();
    assert_eq!(full.code(), ErrorCode::QUEUE_FULL, "{full}");
    assert!(started.elapsed() >= Duration::from_millis(50));
    short.close(WAIT).unwrap();

    // With time enough, it waits until the delayed acks make room.
    let long = open(WAIT);
    for id in 10..15 {
        long.ingest_proto(&event_record(id, "room")).unwrap();
    }
    long.close(WAIT).unwrap();
    let stored: BTreeSet<i64> = server.stored_ids().into_iter().collect();
    assert_eq!(stored, (0..4).chain(10..15).collect());
}

/// A waker that counts its wakes, and wakes the task that awaits one.
#[derive(Default)]
struct WakeCounter {
    /// Wakes so far, and the task that awaits the next.
    state: std::sync::Mutex<(usize, Option<std::task::Waker>)>,
}

impl std::task::Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        if let Some(waiter) = state.1.take() {
            waiter.wake();
        }
    }
}

impl WakeCounter {
    fn count(&self) -> usize {
        self.state.lock().unwrap().0
    }

    /// Returns once it has been woken more than `count` times.
    async fn woken_beyond(&self, count: usize) {
        std::future::poll_fn(|cx| {
            let mut state = self.state.lock().unwrap();
            if state.0 > count {
                return std::task::Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            std::task::Poll::Pending
        })
        .await;
    }
}

/// Polls `acks` once with the waker of `counter`.
fn poll_acks(
    acks: &mut zerobus::AckEvents,
    counter: &Arc<WakeCounter>,
) -> std::task::Poll<Option<Ack>> {
    let waker = std::task::Waker::from(Arc::clone(counter));
    let mut cx = std::task::Context::from_waker(&waker);
    futures::Stream::poll_next(std::pin::Pin::new(acks), &mut cx)
}

on_both_runtimes!(
    taking_queued_acks_wakes_no_polling_future,
    taking_queued_acks_wakes_no_polling_future_multi_thread,
    taking_queued_acks_wakes_no_polling_future_current_thread
);
/// A future that takes the acks queued in the library while it is polled must not wake its own
/// task: the wake would only poll it again, and on a multi-thread runtime wake another worker.
async fn taking_queued_acks_wakes_no_polling_future() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = open(&sdk, &StreamOptions::new()).await;
    let durable = |offset| Ack::Durable {
        first_offset: offset,
        last_offset: offset,
    };

    // Polled again once the descriptor's wakeup woke it.
    let (mut first, first_wakes) = (
        stream.ack_events().unwrap(),
        Arc::new(WakeCounter::default()),
    );
    assert!(poll_acks(&mut first, &first_wakes).is_pending());
    stream.try_ingest_proto(&event_record(0, "wake")).unwrap();
    first_wakes.woken_beyond(0).await;
    let woken = first_wakes.count();
    let polled = poll_acks(&mut first, &first_wakes);
    assert_eq!(polled, std::task::Poll::Ready(Some(durable(0))));
    assert_eq!(first_wakes.count(), woken, "the poll woke its own task");

    // Polled for the first time while the wakeup is unread.
    assert!(poll_acks(&mut first, &first_wakes).is_pending());
    stream.try_ingest_proto(&event_record(1, "wake")).unwrap();
    first_wakes.woken_beyond(woken).await;
    let (mut second, second_wakes) = (
        stream.ack_events().unwrap(),
        Arc::new(WakeCounter::default()),
    );
    let polled = poll_acks(&mut second, &second_wakes);
    assert_eq!(polled, std::task::Poll::Ready(Some(durable(1))));
    assert_eq!(second_wakes.count(), 0, "the first poll woke its own task");
    stream.close_async().await.unwrap();
}
