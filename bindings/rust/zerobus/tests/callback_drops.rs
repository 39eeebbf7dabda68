//! Safe code that drops the last `Stream` from one of the library's threads, inside a call for
//! that stream: from its `on_ack` callback and from the waker of a task that waits for its
//! acks (a dispatch thread, inside the stream's event delivery), and from its headers provider
//! during a reconnection (a supervision thread, inside the stream's connection attempt). None
//! may abort the process or deadlock; the stream is destroyed once the call returns, and its
//! callbacks are released.

mod support;

use std::pin::Pin;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use futures::Stream as _;
use support::{Server, TABLE, event_descriptor, event_record};
use zerobus::{RecordFormat, Sdk, Stream, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

/// A server that acknowledges each request 200 ms late: time to hand the stream over before
/// its first ack comes.
fn slow_acking_server() -> Server {
    let fault = format!("{TABLE}:ack_delay_ms=200");
    Server::start(&["--fault", &fault])
}

fn open(sdk: &Sdk, options: &StreamOptions) -> Stream {
    sdk.create_stream(TABLE, RecordFormat::Proto(event_descriptor()), options)
        .expect("a stream")
}

/// The SDK still opens streams and stores their records.
fn assert_sdk_still_works(server: &Server, sdk: &Sdk) {
    let stream = open(sdk, &StreamOptions::new());
    stream.ingest_proto(&event_record(99, "after")).unwrap();
    stream.close(WAIT).unwrap();
    assert!(server.stored_ids().contains(&99));
}

#[test]
fn an_ack_callback_that_drops_its_own_stream() {
    let server = slow_acking_server();
    let sdk = server.sdk();
    let slot: Arc<Mutex<Option<Stream>>> = Arc::default();
    let (dropped_on, dropped) = mpsc::channel::<ThreadId>();
    // The callback holds `released` too: the library drops it once it destroyed the stream.
    let (released, destroyed) = mpsc::channel::<()>();
    let options = StreamOptions::new().on_ack({
        let slot = Arc::clone(&slot);
        move |_| {
            let _ = &released;
            if let Some(stream) = slot.lock().unwrap().take() {
                drop(stream);
                dropped_on.send(thread::current().id()).unwrap();
            }
        }
    });
    let stream = open(&sdk, &options);
    drop(options);
    stream.ingest_proto(&event_record(1, "dropped")).unwrap();
    *slot.lock().unwrap() = Some(stream);
    drop(slot);

    let thread = dropped.recv_timeout(WAIT).expect("the callback never ran");
    assert_ne!(thread, thread::current().id());
    assert_eq!(
        destroyed.recv_timeout(WAIT),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "the stream was never destroyed"
    );
    assert_sdk_still_works(&server, &sdk);
}

/// A waker that owns the stream: waking it drops the stream, on the thread that wakes it.
struct DroppingWaker {
    stream: Mutex<Option<Arc<Stream>>>,
    dropped_on: Mutex<mpsc::Sender<ThreadId>>,
}

impl Wake for DroppingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(stream) = self.stream.lock().unwrap().take() {
            drop(stream);
            let _ = self.dropped_on.lock().unwrap().send(thread::current().id());
        }
    }
}

#[test]
fn a_waker_that_drops_the_last_stream() {
    let server = slow_acking_server();
    let sdk = server.sdk();
    let stream = Arc::new(open(&sdk, &StreamOptions::new()));
    let mut acks = stream.ack_events().unwrap();
    let (dropped_on, dropped) = mpsc::channel();
    let waker = Arc::new(DroppingWaker {
        stream: Mutex::new(Some(Arc::clone(&stream))),
        dropped_on: Mutex::new(dropped_on),
    });
    let waker = Waker::from(waker);
    let mut context = Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut acks).poll_next(&mut context), Poll::Pending);
    stream.ingest_proto(&event_record(1, "dropped")).unwrap();
    drop(stream); // the waker holds the last reference

    let thread = dropped.recv_timeout(WAIT).expect("the waker never ran");
    assert_ne!(thread, thread::current().id());
    // The acks end with the stream, after the ack that woke the task.
    let rest: Vec<_> = futures::executor::block_on_stream(acks).collect();
    assert!(rest.len() <= 1, "{rest:?}");
    assert_sdk_still_works(&server, &sdk);
}

#[test]
fn a_headers_provider_that_drops_its_own_stream() {
    let fault = format!("{TABLE}:fail_after_records=1,fail_status=UNAVAILABLE");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let slot: Arc<Mutex<Option<Stream>>> = Arc::default();
    let (dropped_on, dropped) = mpsc::channel::<ThreadId>();
    let (released, destroyed) = mpsc::channel::<()>();
    // Called for the first connection (the stream is not in the slot yet) and for the
    // reconnection after the break, where it drops the stream.
    let options = StreamOptions::new()
        .recovery_backoff(Duration::from_millis(10))
        .headers_provider({
            let slot = Arc::clone(&slot);
            let dropped_on = Mutex::new(dropped_on);
            move || {
                let _ = &released;
                if let Some(stream) = slot.lock().unwrap().take() {
                    drop(stream);
                    dropped_on
                        .lock()
                        .unwrap()
                        .send(thread::current().id())
                        .unwrap();
                }
                Ok(Vec::new())
            }
        });
    let stream = open(&sdk, &options);
    drop(options);
    *slot.lock().unwrap() = Some(stream);
    // The server breaks the call once it got one record.
    let breaking = slot.lock().unwrap().as_ref().map(|stream| {
        for id in 0..3 {
            stream.ingest_proto(&event_record(id, "breaks")).unwrap();
        }
    });
    assert!(breaking.is_some());
    drop(slot);

    let thread = dropped
        .recv_timeout(WAIT)
        .expect("no reconnection asked for headers");
    assert_ne!(thread, thread::current().id());
    assert_eq!(
        destroyed.recv_timeout(WAIT),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "the stream was never destroyed"
    );
    server.set_faults("{}");
    assert_sdk_still_works(&server, &sdk);
}
