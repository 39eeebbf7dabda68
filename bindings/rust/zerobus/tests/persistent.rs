//! Persistent streams (experimental, the `experimental-persistent` feature) against
//! `zerobus serve`: a resume continues from the watermark + 1, a broken call stores every
//! record once, retired and unknown ids are refused with the server's status, and a producer
//! killed with SIGKILL mid-stream is resumed by id from another process, every record once.
#![cfg(feature = "experimental-persistent")]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, TABLE, event_descriptor, event_record};
use zerobus::{ErrorCode, RecordFormat, Sdk, SdkOptions, Stream, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

/// The test table's record format.
fn format() -> RecordFormat<'static> {
    RecordFormat::Proto(event_descriptor())
}

/// Ingests the records whose ids are `ids`, each asserted to get its id as its offset.
fn ingest_ids(stream: &Stream, ids: std::ops::Range<u64>) {
    for id in ids {
        let offset = stream
            .ingest_proto(&event_record(id as i64, "persistent"))
            .unwrap();
        assert_eq!(offset, id, "the offset continues the stream's");
    }
}

/// Asserts that the server stored the records `0..count`, each exactly once.
fn assert_stored_once(server: &Server, count: i64) {
    let mut stored = server.stored_ids();
    stored.sort_unstable();
    assert_eq!(
        stored,
        (0..count).collect::<Vec<_>>(),
        "missing or duplicated"
    );
}

#[test]
fn a_resume_continues_from_the_watermark() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let options = StreamOptions::new();
    let first = sdk
        .create_persistent_stream(TABLE, format(), &options)
        .unwrap();
    assert_eq!(first.resume_watermark().unwrap(), None);
    let id = first.persistent_id().unwrap();
    assert!(!id.is_empty());
    ingest_ids(&first, 0..10);
    first.close(WAIT).unwrap();
    drop(first);

    let resumed = sdk.resume_stream(TABLE, &id, format(), &options).unwrap();
    assert_eq!(resumed.persistent_id().unwrap(), id);
    assert_eq!(resumed.resume_watermark().unwrap(), Some(9));
    ingest_ids(&resumed, 10..15);
    resumed.close(WAIT).unwrap();
    assert_stored_once(&server, 15);

    // Not persistent: the calls say so.
    let ephemeral = sdk.create_stream(TABLE, format(), &options).unwrap();
    assert_eq!(
        ephemeral.persistent_id().unwrap_err().code(),
        ErrorCode::STATE
    );
}

#[test]
fn a_broken_call_stores_every_record_once() {
    let fault = format!("{TABLE}:fail_after_records=300,fail_status=UNAVAILABLE");
    let server = Server::start(&["--fault", &fault]);
    let sdk = server.sdk();
    let options = StreamOptions::new().recovery_backoff(Duration::from_millis(10));
    let stream = sdk
        .create_persistent_stream(TABLE, format(), &options)
        .unwrap();
    ingest_ids(&stream, 0..1000);
    stream.flush(WAIT).unwrap();
    let info = stream.info().unwrap();
    assert!(info.recoveries >= 1, "the call never broke: {info:?}");
    stream.close(WAIT).unwrap();
    assert_stored_once(&server, 1000);
}

#[test]
fn retired_and_unknown_ids_are_refused() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let options = StreamOptions::new().recovery_retries(0);
    let stream = sdk
        .create_persistent_stream(TABLE, format(), &options)
        .unwrap();
    let id = stream.persistent_id().unwrap();
    ingest_ids(&stream, 0..3);
    stream.close(WAIT).unwrap();
    drop(stream);
    sdk.retire_stream(TABLE, &id, &options).unwrap();
    sdk.retire_stream(TABLE, &id, &options).unwrap();

    let retired = sdk
        .resume_stream(TABLE, &id, format(), &options)
        .unwrap_err();
    assert_eq!(retired.code(), ErrorCode::TRANSPORT, "{retired}");
    assert_eq!(retired.grpc_status(), Some(9), "{retired}");
    let unknown = sdk
        .resume_stream(TABLE, "no-such-stream", format(), &options)
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::TRANSPORT, "{unknown}");
    assert_eq!(unknown.grpc_status(), Some(5), "{unknown}");
    let unknown = sdk
        .retire_stream(TABLE, "no-such-stream", &options)
        .unwrap_err();
    assert_eq!(unknown.grpc_status(), Some(5), "{unknown}");
    let empty = sdk
        .resume_stream(TABLE, "", format(), &options)
        .unwrap_err();
    assert_eq!(empty.code(), ErrorCode::INVALID_ARG, "{empty}");
    assert_stored_once(&server, 3);
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn the_async_forms_create_resume_and_retire() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let options = StreamOptions::new();
    let stream = sdk
        .create_persistent_stream_async(TABLE, format(), &options)
        .await
        .unwrap();
    let id = stream.persistent_id().unwrap();
    for id in 0..5 {
        stream
            .ingest_proto_async(&event_record(id, "async"))
            .await
            .unwrap();
    }
    stream.close_async().await.unwrap();
    drop(stream);
    let resumed = sdk
        .resume_stream_async(TABLE, &id, format(), &options)
        .await
        .unwrap();
    assert_eq!(resumed.resume_watermark().unwrap(), Some(4));
    assert_eq!(
        resumed
            .ingest_proto_async(&event_record(5, "async"))
            .await
            .unwrap(),
        5
    );
    resumed.close_async().await.unwrap();
    drop(resumed);
    sdk.retire_stream_async(TABLE, &id, &options).await.unwrap();
    assert_stored_once(&server, 6);
}

/// The records the killed producer would have sent, had it lived.
const PRODUCED: u64 = 100_000_000;
/// The environment variable that makes `producer_process` the producer, with the endpoint.
const PRODUCER_ENDPOINT: &str = "ZEROBUS_TEST_PERSISTENT_PRODUCER";

/// The producer of `a_producer_killed_mid_stream_is_resumed_by_another`, in a process of its
/// own (this test binary run again): creates a persistent stream, prints its id and ingests
/// records 0.. until it is killed. Without the variable, in an ordinary run, it does nothing.
#[test]
fn producer_process() {
    let Ok(endpoint) = std::env::var(PRODUCER_ENDPOINT) else {
        return;
    };
    let sdk = Sdk::with_options(&endpoint, &SdkOptions::new().plaintext(true)).unwrap();
    let stream = sdk
        .create_persistent_stream(TABLE, format(), &StreamOptions::new())
        .unwrap();
    println!("stream id: {}", stream.persistent_id().unwrap());
    ingest_ids(&stream, 0..PRODUCED);
    panic!("the producer was never killed");
}

#[test]
fn a_producer_killed_mid_stream_is_resumed_by_another() {
    let server = Server::start(&[]);
    let mut producer = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "producer_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PRODUCER_ENDPOINT, &server.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(producer.stdout.take().unwrap()).lines();
    let id = loop {
        let line = lines.next().expect("the producer ended").unwrap();
        // The line may follow the test harness's "test producer_process ... ".
        if let Some((_, id)) = line.split_once("stream id: ") {
            break id.to_string();
        }
    };
    // Killed once the server has stored some of its records, with more in flight.
    let deadline = Instant::now() + WAIT;
    while server.table_stats(TABLE)["records"].as_u64().unwrap_or(0) < 2_000 {
        assert!(Instant::now() < deadline, "the producer stored nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    producer.kill().unwrap();
    producer.wait().unwrap();

    // Another process's view: the watermark alone says which records are durable. The
    // killed producer's call may still be open on the server: the resume retries ABORTED.
    let sdk = server.sdk();
    let options = StreamOptions::new().recovery_backoff(Duration::from_millis(50));
    let resumed = sdk.resume_stream(TABLE, &id, format(), &options).unwrap();
    let watermark = resumed
        .resume_watermark()
        .unwrap()
        .expect("records were committed");
    assert!(
        watermark < PRODUCED - 1,
        "the producer finished: {watermark}"
    );
    ingest_ids(&resumed, watermark + 1..watermark + 1001);
    resumed.close(WAIT).unwrap();
    assert_stored_once(&server, (watermark + 1001) as i64);
}
