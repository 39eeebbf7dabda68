//! Records go in through every ingest call, are stored, and are acknowledged in order through
//! the callback, the polling iterator and the wakeup.

mod support;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::{Server, TABLE, assert_acked_in_order, event_descriptor, event_record};
use zerobus::{Ack, RecordFormat, Sdk, StreamOptions, StreamState};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn proto_records_are_stored() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream(
            TABLE,
            RecordFormat::Proto(event_descriptor()),
            &StreamOptions::new(),
        )
        .unwrap();
    for id in 0..100 {
        assert_eq!(
            stream
                .ingest_proto(&event_record(id, &format!("proto {id}")))
                .unwrap(),
            id as u64
        );
    }
    let batch: Vec<Vec<u8>> = (100..150)
        .map(|id| event_record(id, &format!("proto {id}")))
        .collect();
    assert_eq!(stream.ingest_proto_batch(&batch).unwrap(), 149);
    stream.flush(WAIT).unwrap();
    let info = stream.info().unwrap();
    assert_eq!(
        (info.state, info.records_accepted, info.records_acked),
        (StreamState::OPEN, 150, 150)
    );
    assert_eq!(info.records_in_flight, 0);
    stream.close(WAIT).unwrap();
    assert_eq!(stream.info().unwrap().state, StreamState::CLOSED);

    let rows = server.rows();
    assert_eq!(rows.len(), 150);
    for (id, row) in rows.iter().enumerate() {
        assert_eq!(*row, json!({"id": id, "payload": format!("proto {id}")}));
    }
}

#[test]
fn json_records_are_stored() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap();
    let first = stream
        .ingest_json(r#"{"id": 0, "payload": "json \"quoted\" é"}"#)
        .unwrap();
    let batch: Vec<String> = (1..40)
        .map(|id| json!({"id": id, "payload": format!("json {id}")}).to_string())
        .collect();
    let last = stream.ingest_json_batch(&batch).unwrap();
    assert_eq!((first, last), (0, 39));
    stream.wait_for_offset(last, WAIT).unwrap();
    stream.close(WAIT).unwrap();

    let rows = server.rows();
    assert_eq!(rows.len(), 40);
    assert_eq!(rows[0], json!({"id": 0, "payload": "json \"quoted\" é"}));
    for (id, row) in rows.iter().enumerate().skip(1) {
        assert_eq!(*row, json!({"id": id, "payload": format!("json {id}")}));
    }
}

#[test]
fn acks_reach_the_callback_in_order() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let options = StreamOptions::new().on_ack({
        let acks = Arc::clone(&acks);
        move |ack| acks.lock().unwrap().push(ack)
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    for id in 0..2000 {
        stream.ingest_proto(&event_record(id, "callback")).unwrap();
    }
    // close() returns once the callback has been given every ack.
    stream.close(WAIT).unwrap();
    assert_acked_in_order(&acks.lock().unwrap(), 1999);
    // A stream with a callback has nothing to poll.
    let error = stream.poll(1, Duration::ZERO).unwrap_err();
    assert_eq!(error.code(), zerobus::ErrorCode::STATE);
}

#[test]
fn lanes_keep_one_offset_space_and_cumulative_acks() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let options = StreamOptions::new().lanes(8).on_ack({
        let acks = Arc::clone(&acks);
        move |ack| acks.lock().unwrap().push(ack)
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    for id in 0..2000 {
        assert_eq!(
            stream.ingest_proto(&event_record(id, "laned")).unwrap(),
            id as u64
        );
    }
    stream.close(WAIT).unwrap();
    assert_acked_in_order(&acks.lock().unwrap(), 1999);
    // Lanes deliver rows in no particular order: every id once, whatever the order.
    let ids: BTreeSet<u64> = server
        .rows()
        .iter()
        .map(|row| row["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (0..2000).collect());
    assert_eq!(server.rows().len(), 2000);
}

#[test]
fn acks_come_through_the_polling_iterator_in_order() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream(
            TABLE,
            RecordFormat::Proto(event_descriptor()),
            &StreamOptions::new(),
        )
        .unwrap();
    for id in 0..2000 {
        stream.ingest_proto(&event_record(id, "polled")).unwrap();
    }
    stream.flush(WAIT).unwrap();
    // Everything is acknowledged, so the queue holds every ack and the iterator ends once it
    // is drained.
    let acks: Vec<Ack> = stream
        .acks(Duration::from_millis(200))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_acked_in_order(&acks, 1999);
    assert!(stream.poll(8, Duration::ZERO).unwrap().is_empty());
}

#[test]
fn wakeup_tells_a_poller_that_acks_wait() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let (woken, wakeups) = mpsc::channel();
    let options = StreamOptions::new().on_wakeup(move || {
        let _ = woken.send(());
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &options)
        .unwrap();
    let offset = stream
        .ingest_json(r#"{"id": 7, "payload": "wake"}"#)
        .unwrap();
    wakeups
        .recv_timeout(WAIT)
        .expect("a wakeup once the ack is queued");
    let acks = stream.poll(16, Duration::ZERO).unwrap();
    assert_eq!(
        acks,
        vec![Ack::Durable {
            first_offset: offset,
            last_offset: offset
        }]
    );
}

#[test]
fn producers_on_many_threads_share_one_stream() {
    const THREADS: i64 = 4;
    const PER_THREAD: i64 = 2500;
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let options = StreamOptions::new().on_ack({
        let acks = Arc::clone(&acks);
        move |ack| acks.lock().unwrap().push(ack)
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    let offsets: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let producers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let stream = &stream;
                scope.spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let id = thread * PER_THREAD + i;
                            stream
                                .ingest_proto(&event_record(id, &format!("thread {thread}")))
                                .unwrap()
                        })
                        .collect()
                })
            })
            .collect();
        producers
            .into_iter()
            .map(|producer| producer.join().unwrap())
            .collect()
    });
    stream.close(WAIT).unwrap();

    let total = (THREADS * PER_THREAD) as u64;
    // Each thread's offsets rise, and together they are every offset once.
    for thread_offsets in &offsets {
        assert!(thread_offsets.windows(2).all(|pair| pair[0] < pair[1]));
    }
    let all: BTreeSet<u64> = offsets.iter().flatten().copied().collect();
    assert_eq!(all, (0..total).collect());
    assert_acked_in_order(&acks.lock().unwrap(), total - 1);
    let ids: BTreeSet<i64> = server.stored_ids().into_iter().collect();
    assert_eq!(ids, (0..THREADS * PER_THREAD).collect());
    assert_eq!(server.rows().len() as u64, total);
}

#[test]
fn sdk_and_stream_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Sdk>();
    shareable::<zerobus::Stream>();
    shareable::<zerobus::Records>();
    shareable::<zerobus::Error>();
}
