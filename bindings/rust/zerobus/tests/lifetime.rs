//! Dropping without closing, closing with records left unacknowledged, retrieving and
//! replaying them, and the SDK's lifetime against its streams'.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Server, TABLE, assert_acked_in_order, event_descriptor, event_record};
use zerobus::{Ack, ErrorCode, RecordFormat, StreamOptions, StreamState};

const WAIT: Duration = Duration::from_secs(30);

/// Counts its drops: captured by a callback, it tells when the library released the callback.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_an_open_stream_releases_its_callback_once_and_keeps_what_was_acked() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let drops = Arc::new(AtomicUsize::new(0));
    let acks = Arc::new(Mutex::new(Vec::new()));
    let options = StreamOptions::new().on_ack({
        let (guard, acks) = (DropCounter(Arc::clone(&drops)), Arc::clone(&acks));
        move |ack| {
            let _captured = &guard;
            acks.lock().unwrap().push(ack);
        }
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    drop(options);
    for id in 0..5000 {
        stream.ingest_proto(&event_record(id, "dropped")).unwrap();
    }
    stream.wait_for_offset(99, WAIT).unwrap();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "released while the stream lives"
    );
    drop(stream);
    // Drop is the destroy barrier: the callback is gone, so nothing can be delivered later.
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // What the callback got before the drop is in order; every record acknowledged, by the
    // callback or by wait_for_offset, is stored.
    let acks = acks.lock().unwrap();
    let durable: Vec<Ack> = acks
        .iter()
        .take_while(|ack| ack.error().is_none())
        .cloned()
        .collect();
    let delivered = durable.last().map_or(0, |ack| *ack.offsets().end());
    if !durable.is_empty() {
        assert_acked_in_order(&durable, delivered);
    }
    let watermark = delivered.max(99);
    let stored = server.stored_ids();
    assert!(
        (0..=watermark as i64).all(|id| stored.contains(&id)),
        "an acked record is missing"
    );
}

#[test]
fn dropping_a_stream_with_withheld_acks_does_not_wait_for_them() {
    let fault = format!("{TABLE}:withhold_acks=true");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap();
    for id in 0..100 {
        stream
            .ingest_json(&format!(r#"{{"id": {id}, "payload": "abandoned"}}"#))
            .unwrap();
    }
    let started = Instant::now();
    drop(stream);
    // A graceful close would wait for stream.ack.timeout.ms (60 s by default).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "drop took {:?}",
        started.elapsed()
    );
}

#[test]
fn records_left_by_a_timed_out_close_are_retrievable_and_replayed() {
    let fault = format!("{TABLE}:withhold_acks=true");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let options = StreamOptions::new().on_ack({
        let acks = Arc::clone(&acks);
        move |ack| acks.lock().unwrap().push(ack)
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    let records: Vec<Vec<u8>> = (0..20).map(|id| event_record(id, "withheld")).collect();
    for record in &records {
        stream.ingest_proto(record).unwrap();
    }
    let short = Duration::from_millis(100);
    assert_eq!(
        stream.wait_for_offset(0, short).unwrap_err().code(),
        ErrorCode::TIMEOUT
    );
    assert_eq!(stream.flush(short).unwrap_err().code(), ErrorCode::TIMEOUT);
    let closed = stream.close(Duration::from_millis(300)).unwrap_err();
    assert_eq!(closed.code(), ErrorCode::TIMEOUT);
    assert!(
        closed.message().contains("20"),
        "the message counts the records left: {closed}"
    );
    assert_eq!(
        stream.close(WAIT).unwrap_err(),
        closed,
        "close is idempotent"
    );
    assert_eq!(
        stream.ingest_proto(&records[0]).unwrap_err().code(),
        ErrorCode::CLOSED
    );
    assert_eq!(stream.info().unwrap().state, StreamState::CLOSED);

    // Every record was reported failed, in order, and is retrievable as it was ingested.
    let failed = std::mem::take(&mut *acks.lock().unwrap());
    let mut next = 0;
    for ack in &failed {
        assert_eq!(
            ack.error().map(|error| error.code()),
            Some(ErrorCode::TIMEOUT),
            "{ack:?}"
        );
        assert_eq!(*ack.offsets().start(), next);
        next = ack.offsets().end() + 1;
    }
    assert_eq!(next, 20);
    let unacked = stream.unacked().unwrap();
    assert_eq!(unacked.len(), 20);
    for (index, record) in unacked.iter().enumerate() {
        assert_eq!(
            (record.offset, record.data),
            (index as u64, records[index].as_slice())
        );
    }

    // Replayed on a new stream once the server acknowledges again; the new stream shares the
    // callback and numbers its records from 0.
    server.set_faults("{}");
    let replacement = stream.recreate().unwrap();
    drop(stream);
    assert_eq!(unacked.len(), 20, "the copy outlives its stream");
    replacement.close(WAIT).unwrap();
    assert_acked_in_order(&acks.lock().unwrap(), 19);
    let stored = server.stored_ids();
    assert!((0..20).all(|id| stored.contains(&id)), "{stored:?}");
}

#[test]
fn recreate_needs_a_closed_or_failed_stream() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap();
    assert_eq!(stream.recreate().unwrap_err().code(), ErrorCode::STATE);
    assert!(stream.unacked().unwrap().is_empty());
}

#[test]
fn streams_outlive_their_sdk() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap();
    drop(sdk);
    stream
        .ingest_json(r#"{"id": 42, "payload": "after the sdk"}"#)
        .unwrap();
    stream.close(WAIT).unwrap();
    assert_eq!(server.stored_ids(), vec![42]);
}
