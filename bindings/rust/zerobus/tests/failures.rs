//! Recovery through a broken stream, fatal failures with their codes, argument errors, and a
//! panicking callback.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use support::{Server, TABLE, assert_acked_in_order, event_descriptor, event_record};
use zerobus::{Ack, ErrorCode, RecordFormat, Sdk, StreamOptions, StreamState};

const WAIT: Duration = Duration::from_secs(30);
const GRPC_NOT_FOUND: i32 = 5;
const GRPC_PERMISSION_DENIED: i32 = 7;

/// Options that collect every ack, and where they go.
fn collecting_acks() -> (StreamOptions, Arc<Mutex<Vec<Ack>>>) {
    let acks = Arc::new(Mutex::new(Vec::new()));
    let options = StreamOptions::new().on_ack({
        let acks = Arc::clone(&acks);
        move |ack| acks.lock().unwrap().push(ack)
    });
    (options, acks)
}

#[test]
fn a_broken_stream_recovers_and_every_record_is_stored() {
    let fault = format!("{TABLE}:fail_after_records=300,fail_status=UNAVAILABLE");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let (options, acks) = collecting_acks();
    let options = options.recovery_backoff(Duration::from_millis(10));
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    for id in 0..1000 {
        stream.ingest_proto(&event_record(id, "recovered")).unwrap();
    }
    stream.flush(WAIT).unwrap();
    let info = stream.info().unwrap();
    assert!(info.recoveries >= 1, "the stream never broke: {info:?}");
    assert!(info.records_replayed >= 1, "nothing was replayed: {info:?}");
    stream.close(WAIT).unwrap();

    assert_acked_in_order(&acks.lock().unwrap(), 999);
    // At least once: every record is stored; replays may store some twice.
    let ids = server.stored_ids();
    assert_eq!(
        ids.iter().copied().collect::<BTreeSet<_>>(),
        (0..1000).collect()
    );
    assert!(ids.len() >= 1000);
}

#[test]
fn a_refused_stream_fails_with_its_grpc_status() {
    let fault = format!("{TABLE}:refuse_streams=-1,refuse_status=PERMISSION_DENIED");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let error = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::TRANSPORT, "{error}");
    assert_eq!(error.grpc_status(), Some(GRPC_PERMISSION_DENIED), "{error}");
    assert!(!error.is_retryable(), "{error}");
    assert!(!error.message().is_empty());
}

#[test]
fn an_undeclared_table_is_not_found() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let error = sdk
        .create_stream(
            "main.default.undeclared",
            RecordFormat::Json,
            &StreamOptions::new(),
        )
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::TRANSPORT, "{error}");
    assert_eq!(error.grpc_status(), Some(GRPC_NOT_FOUND), "{error}");
    assert!(!error.is_retryable(), "{error}");
}

#[test]
fn a_fatal_break_fails_the_stream_and_reports_every_lost_record() {
    let fault = format!("{TABLE}:fail_after_records=10,fail_status=PERMISSION_DENIED");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let (options, acks) = collecting_acks();
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .unwrap();
    let mut accepted = 0;
    for id in 0..50 {
        match stream.ingest_proto(&event_record(id, "doomed")) {
            Ok(_) => accepted += 1,
            // Once the stream has failed, ingest reports what it failed with.
            Err(error) => {
                assert_eq!(error.grpc_status(), Some(GRPC_PERMISSION_DENIED), "{error}");
                break;
            }
        }
    }
    let error = stream.flush(WAIT).unwrap_err();
    assert_eq!(error.code(), ErrorCode::TRANSPORT, "{error}");
    assert_eq!(error.grpc_status(), Some(GRPC_PERMISSION_DENIED), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(stream.info().unwrap().state, StreamState::FAILED);
    assert_eq!(stream.close(WAIT).unwrap_err(), error);

    // The acks cover every accepted offset in order: durable ones, then failed ranges with
    // the stream's error, and exactly the failed offsets remain unacknowledged.
    let acks = acks.lock().unwrap();
    let mut next = 0;
    let mut failed = Vec::new();
    for ack in acks.iter() {
        assert_eq!(*ack.offsets().start(), next, "{acks:?}");
        next = ack.offsets().end() + 1;
        if let Some(ack_error) = ack.error() {
            assert_eq!(ack_error.grpc_status(), Some(GRPC_PERMISSION_DENIED));
            failed.extend(ack.offsets());
        } else {
            assert!(
                failed.is_empty(),
                "a durable ack after a failed one: {acks:?}"
            );
        }
    }
    assert_eq!(next, accepted);
    assert!(!failed.is_empty(), "nothing failed: {acks:?}");
    let unacked = stream.unacked().unwrap();
    assert_eq!(
        unacked
            .iter()
            .map(|record| record.offset)
            .collect::<Vec<_>>(),
        failed
    );
    for record in unacked.iter() {
        assert_eq!(record.data, event_record(record.offset as i64, "doomed"));
    }
    // Acknowledged records are stored; the server may also have stored some it failed to
    // acknowledge (at least once).
    let stored = server.stored_ids();
    assert!(
        (0..failed[0] as i64).all(|id| stored.contains(&id)),
        "{stored:?}"
    );
    assert!(stored.len() as u64 <= accepted);
}

#[test]
fn bad_arguments_fail_with_their_codes() {
    let server = Server::start(&[]);
    assert_eq!(
        Sdk::new("http://").unwrap_err().code(),
        ErrorCode::INVALID_TARGET
    );
    assert_eq!(Sdk::new("a\0b").unwrap_err().code(), ErrorCode::INVALID_ARG);
    // Plaintext only when asked for.
    let plaintext = Sdk::new(&server.endpoint).unwrap_err();
    assert_eq!(plaintext.code(), ErrorCode::INVALID_TARGET, "{plaintext}");
    let sdk = server.sdk();
    let open = |options: &StreamOptions| {
        sdk.create_stream(TABLE, RecordFormat::Proto(event_descriptor()), options)
    };
    let unknown = open(&StreamOptions::new().set("no.such.key", "1")).unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::UNKNOWN_KEY);
    assert!(unknown.message().contains("no.such.key"), "{unknown}");
    let invalid = open(&StreamOptions::new().max_request_bytes(1)).unwrap_err();
    assert_eq!(invalid.code(), ErrorCode::INVALID_VALUE);
    let bad_descriptor = sdk
        .create_stream(
            TABLE,
            RecordFormat::Proto(b"not a descriptor"),
            &StreamOptions::new(),
        )
        .unwrap_err();
    assert_eq!(bad_descriptor.code(), ErrorCode::INVALID_TARGET);

    let stream = open(&StreamOptions::new().max_request_bytes(1024)).unwrap();
    let empty = stream.ingest_proto(&[]).unwrap_err();
    assert_eq!(empty.code(), ErrorCode::EMPTY_RECORD);
    assert_eq!(empty.code().name(), Some("ZB_ERR_EMPTY_RECORD"));
    assert!(empty.code().description().is_some());
    assert!(!empty.is_retryable());
    assert_eq!(empty.grpc_status(), None);
    assert_eq!(
        stream.ingest_json("{}").unwrap_err().code(),
        ErrorCode::RECORD_TYPE
    );
    let no_records: [&[u8]; 0] = [];
    assert_eq!(
        stream.ingest_proto_batch(&no_records).unwrap_err().code(),
        ErrorCode::EMPTY_BATCH
    );
    let huge = event_record(1, &"x".repeat(2048));
    assert_eq!(
        stream.ingest_proto(&huge).unwrap_err().code(),
        ErrorCode::RECORD_TOO_LARGE
    );
    assert_eq!(
        stream.wait_for_offset(5, WAIT).unwrap_err().code(),
        ErrorCode::INVALID_ARG
    );
    // None of it reached the server.
    stream.close(WAIT).unwrap();
    assert!(server.rows().is_empty());
    assert_eq!(ErrorCode::from_raw(1000).name(), None);
    assert_eq!(
        format!("{:?}", ErrorCode::from_raw(1000)),
        "ErrorCode(1000)"
    );
}

#[test]
fn a_panicking_callback_does_not_stop_delivery() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let (delivered, acks) = mpsc::channel();
    let panicked = AtomicBool::new(false);
    let options = StreamOptions::new().on_ack(move |ack| {
        delivered.send(ack).unwrap();
        if !panicked.swap(true, Ordering::SeqCst) {
            panic!("a deliberate panic in the ack callback");
        }
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &options)
        .unwrap();
    let first = stream
        .ingest_json(r#"{"id": 1, "payload": "first"}"#)
        .unwrap();
    let durable = |offset| Ack::Durable {
        first_offset: offset,
        last_offset: offset,
    };
    assert_eq!(acks.recv_timeout(WAIT).unwrap(), durable(first));
    let second = stream
        .ingest_json(r#"{"id": 2, "payload": "second"}"#)
        .unwrap();
    stream.close(WAIT).unwrap();
    assert_eq!(acks.try_iter().collect::<Vec<_>>(), vec![durable(second)]);
    assert_eq!(server.stored_ids(), vec![1, 2]);
}
