//! A logger that owns a stream and drops it while the library logs about that stream: safe
//! code, which used to abort the process (the library's supervisor thread joined itself). The
//! close it tries first is refused with `STATE`; the drop is carried out once the message's
//! `log` call has returned: the library then releases the stream's callbacks.
//!
//! The facade's logger is global, so this file is a test binary of its own with one test.

mod support;

use std::sync::{Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use log::{LevelFilter, Log, Metadata, Record};
use support::{Server, TABLE, event_descriptor, event_record};
use zerobus::{ErrorCode, RecordFormat, Sdk, SdkOptions, Stream, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

/// What the logger did with the stream it owned.
#[derive(Debug, Default)]
struct Outcome {
    dropped: bool,
    close_code: Option<ErrorCode>,
}

/// Owns a stream until a message of the connection's break arrives, then closes and drops it
/// from inside `log`.
struct DroppingLogger {
    stream: Mutex<Option<Stream>>,
    outcome: Mutex<Outcome>,
    changed: Condvar,
}

static LOGGER: DroppingLogger = DroppingLogger {
    stream: Mutex::new(None),
    outcome: Mutex::new(Outcome {
        dropped: false,
        close_code: None,
    }),
    changed: Condvar::new(),
};

impl Log for DroppingLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        if !record.args().to_string().contains("broken_by_the_test") {
            return;
        }
        let Some(stream) = self.stream.lock().unwrap().take() else {
            return;
        };
        let close_code = stream.close(WAIT).err().map(|e| e.code());
        drop(stream);
        let mut outcome = self.outcome.lock().unwrap();
        outcome.dropped = true;
        outcome.close_code = close_code;
        self.changed.notify_all();
    }

    fn flush(&self) {}
}

#[test]
fn a_logger_that_drops_its_stream_does_not_abort_the_process() {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(LevelFilter::Info);
    let fault = format!(
        "{TABLE}:fail_after_records=5,fail_status=UNAVAILABLE,fail_message=broken_by_the_test"
    );
    let server = Server::start(&["--fault", &fault]);
    let sdk = Sdk::with_options(
        &server.endpoint,
        &SdkOptions::new()
            .plaintext(true)
            .log_level(LevelFilter::Info),
    )
    .expect("an SDK");
    // The ack callback holds `released`: the library drops it once it destroyed the stream.
    let (released, destroyed) = mpsc::channel::<()>();
    let options = StreamOptions::new()
        .recovery_backoff(Duration::from_millis(10))
        .on_ack(move |_| {
            let _ = &released;
        });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .expect("a stream");
    drop(options); // the stream holds the only registration of the ack callback
    for id in 0..10 {
        stream.ingest_proto(&event_record(id, "logged")).unwrap();
    }
    *LOGGER.stream.lock().unwrap() = Some(stream);

    let deadline = Instant::now() + WAIT;
    let mut outcome = LOGGER.outcome.lock().unwrap();
    while !outcome.dropped {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the stream's break was never logged");
        outcome = LOGGER.changed.wait_timeout(outcome, left).unwrap().0;
    }
    assert_eq!(outcome.close_code, Some(ErrorCode::STATE));
    drop(outcome);
    assert_eq!(
        destroyed.recv_timeout(WAIT),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "the stream was never destroyed"
    );
    assert!(sdk.stats_json().unwrap().contains("\"streams\":[]"));
}
