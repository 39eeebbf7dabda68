//! Log messages through the `log` facade (levels, targets, the level filter, silence by
//! default) and statistics (snapshots of the SDK and its streams, the periodic callback).
//!
//! The facade's logger and maximum level are global, so the tests of this file run one at a
//! time (`serially`), each with the captured records cleared.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::Value;
use support::{Server, TABLE, event_descriptor, event_record};
use zerobus::{ErrorCode, RecordFormat, Sdk, SdkOptions, Stream, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

/// One record the logger received.
#[derive(Clone, Debug)]
struct Captured {
    level: Level,
    target: String,
    message: String,
}

/// The logger of this test binary: it keeps every record.
struct CaptureLogger {
    records: Mutex<Vec<Captured>>,
    changed: Condvar,
}

static LOGGER: CaptureLogger = CaptureLogger {
    records: Mutex::new(Vec::new()),
    changed: Condvar::new(),
};

impl Log for CaptureLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let captured = Captured {
            level: record.level(),
            target: record.target().to_string(),
            message: record.args().to_string(),
        };
        self.records.lock().unwrap().push(captured);
        self.changed.notify_all();
    }

    fn flush(&self) {}
}

/// Takes the turn of one test: installs the logger, sets the facade's maximum level and
/// clears the records.
fn serially(max_level: LevelFilter) -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    // Only the first call installs it; the later ones find it there.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(max_level);
    LOGGER.records.lock().unwrap().clear();
    turn
}

fn captured() -> Vec<Captured> {
    LOGGER.records.lock().unwrap().clone()
}

/// Waits for a record of `level` and `target` whose message contains `text`.
fn await_record(level: Level, target: &str, text: &str) -> Captured {
    let deadline = Instant::now() + WAIT;
    let mut records = LOGGER.records.lock().unwrap();
    loop {
        let found = records
            .iter()
            .find(|r| r.level == level && r.target == target && r.message.contains(text));
        if let Some(found) = found {
            return found.clone();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {level} record of {target} containing {text:?}; got {records:#?}"
        );
        records = LOGGER.changed.wait_timeout(records, left).unwrap().0;
    }
}

/// A server whose stream breaks (retryably) after `records` records.
fn breaking_server(records: u32) -> Server {
    let fault = format!("{TABLE}:fail_after_records={records},fail_status=UNAVAILABLE");
    Server::start(&["--fault", &fault])
}

fn sdk_with(server: &Server, options: SdkOptions) -> Sdk {
    Sdk::with_options(&server.endpoint, &options.plaintext(true)).expect("an SDK")
}

fn proto_stream(sdk: &Sdk) -> Stream {
    let options = StreamOptions::new().recovery_backoff(Duration::from_millis(10));
    sdk.create_stream(TABLE, RecordFormat::Proto(event_descriptor()), &options)
        .expect("a stream")
}

/// Ingests events 0..n in batches of 10 and waits until all are durable.
fn ingest_events(stream: &Stream, n: i64) {
    for first in (0..n).step_by(10) {
        let batch: Vec<Vec<u8>> = (first..n.min(first + 10))
            .map(|id| event_record(id, "observed"))
            .collect();
        stream.ingest_proto_batch(&batch).unwrap();
    }
    stream.flush(WAIT).unwrap();
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON: {e}: {json}"))
}

#[test]
fn streams_and_recoveries_are_logged_with_their_levels_and_targets() {
    let _turn = serially(LevelFilter::Trace);
    let server = breaking_server(300);
    let sdk = sdk_with(&server, SdkOptions::new());
    await_record(Level::Info, "zerobus::sdk", "SDK for 127.0.0.1:");

    let stream = proto_stream(&sdk);
    await_record(
        Level::Debug,
        "zerobus::connection",
        "connecting to 127.0.0.1:",
    );
    let opened = await_record(
        Level::Info,
        "zerobus::stream",
        "stream of protobuf records opened",
    );
    assert!(opened.message.starts_with(TABLE), "{opened:?}");
    ingest_events(&stream, 1000);
    // These come from the stream's own thread.
    await_record(Level::Warn, "zerobus::connection", "the connection ended");
    await_record(
        Level::Info,
        "zerobus::recovery",
        "recovered on a new connection",
    );

    let stats = parse(&stream.stats_json().unwrap());
    assert_eq!(stats["offsets"]["acked"], 1000, "{stats}");
    assert!(stats["recoveries"].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["errors"]["count"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(
        stats["errors"]["last"]["name"], "ZB_ERR_TRANSPORT",
        "{stats}"
    );
    assert_eq!(stats["errors"]["last"]["grpc_status"], 14, "{stats}");

    stream.close(WAIT).unwrap();
    await_record(
        Level::Info,
        "zerobus::stream",
        "closed with all of its 1000 records acknowledged",
    );
    for record in captured() {
        if record.target == "zerobus::stream" {
            assert!(
                record.message.starts_with(&format!("{TABLE}: ")),
                "{record:?}"
            );
        }
    }
}

#[test]
fn the_level_filters_in_the_library() {
    let _turn = serially(LevelFilter::Trace);
    // The option narrows what the library sends below what the facade lets through.
    let server = breaking_server(30);
    let sdk = sdk_with(&server, SdkOptions::new().log_level(LevelFilter::Warn));
    let stream = proto_stream(&sdk);
    ingest_events(&stream, 100);
    await_record(Level::Warn, "zerobus::connection", "the connection ended");
    drop(stream);
    let records = captured();
    assert!(
        records.iter().all(|r| r.level <= Level::Warn),
        "{records:#?}"
    );

    // Without the option the SDK follows the facade's maximum level.
    log::set_max_level(LevelFilter::Info);
    LOGGER.records.lock().unwrap().clear();
    let stream = proto_stream(&sdk_with(&server, SdkOptions::new()));
    await_record(
        Level::Info,
        "zerobus::stream",
        "stream of protobuf records opened",
    );
    drop(stream);
    let records = captured();
    assert!(
        records.iter().all(|r| r.level <= Level::Info),
        "{records:#?}"
    );

    // log.level set explicitly overrides the level the facade implies.
    log::set_max_level(LevelFilter::Trace);
    LOGGER.records.lock().unwrap().clear();
    let fault = format!("{TABLE}:refuse_streams=-1,refuse_status=PERMISSION_DENIED");
    let refusing = Server::start(&["--fault", &fault]);
    let sdk = sdk_with(&refusing, SdkOptions::new().set("log.level", "error"));
    let error = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .expect_err("the server refuses streams");
    assert_eq!(error.code(), ErrorCode::TRANSPORT);
    let failed = await_record(Level::Error, "zerobus::stream", "opening the stream failed");
    assert!(failed.message.contains("PERMISSION_DENIED"), "{failed:?}");
    let records = captured();
    assert!(
        records.iter().all(|r| r.level == Level::Error),
        "{records:#?}"
    );
}

#[test]
fn nothing_is_logged_without_a_level() {
    // No logger's maximum level: an SDK created now stays silent, even once the facade
    // would let everything through: the library was never given a log callback.
    let _turn = serially(LevelFilter::Off);
    // The server breaks the first stream only: one each.
    let servers = [breaking_server(30), breaking_server(30)];
    let silent = sdk_with(&servers[0], SdkOptions::new());
    log::set_max_level(LevelFilter::Trace);
    // Off silences an SDK whatever the facade's level.
    let silenced = sdk_with(&servers[1], SdkOptions::new().log_level(LevelFilter::Off));
    for sdk in [&silent, &silenced] {
        let stream = proto_stream(sdk);
        ingest_events(&stream, 100);
        let info = stream.info().unwrap();
        assert!(info.recoveries >= 1, "no recovery to log: {info:?}");
        stream.close(WAIT).unwrap();
    }
    let records = captured();
    assert!(records.is_empty(), "{records:#?}");
}

#[test]
fn statistics_report_every_stream_and_its_acked_offsets() {
    let _turn = serially(LevelFilter::Off);
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let proto = proto_stream(&sdk);
    let json = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap();
    ingest_events(&proto, 250);
    for id in 250..260 {
        json.ingest_json(&format!(r#"{{"id": {id}, "payload": "observed"}}"#))
            .unwrap();
    }
    json.flush(WAIT).unwrap();

    let stats = parse(&sdk.stats_json().unwrap());
    assert_eq!(stats["version"], zerobus::library_version(), "{stats}");
    assert!(
        stats["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    let streams = stats["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2, "{stats}");
    for (stream, (record_type, records)) in streams.iter().zip([("proto", 250), ("json", 10)]) {
        assert_eq!(stream["table"], TABLE, "{stream}");
        assert_eq!(stream["record_type"], record_type, "{stream}");
        assert_eq!(stream["state"], "open", "{stream}");
        for offset in ["issued", "sent", "acked"] {
            assert_eq!(stream["offsets"][offset], records, "{stream}");
        }
        assert_eq!(stream["in_flight"]["records"], 0, "{stream}");
        assert_eq!(stream["in_flight"]["bytes"], 0, "{stream}");
        assert_eq!(stream["wire"]["records"], records, "{stream}");
        assert_eq!(stream["errors"]["count"], 0, "{stream}");
        assert!(stream["errors"]["last"].is_null(), "{stream}");
        let latency = &stream["ack_latency_us"];
        let figure = |name: &str| latency[name].as_u64().unwrap();
        assert!(figure("count") >= 1, "{stream}");
        assert!(
            figure("min") <= figure("p50")
                && figure("p50") <= figure("p99")
                && figure("p99") <= figure("p99_9")
                && figure("p99_9") <= figure("max"),
            "{stream}"
        );
    }

    let own = parse(&proto.stats_json().unwrap());
    assert_eq!(own["server_stream_id"], streams[0]["server_stream_id"]);
    assert_eq!(own["offsets"]["acked"], 250);
    proto.close(WAIT).unwrap();
    assert_eq!(parse(&proto.stats_json().unwrap())["state"], "closed");
    drop(proto);
    let stats = parse(&sdk.stats_json().unwrap());
    let streams = stats["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{stats}");
    assert_eq!(streams[0]["record_type"], "json", "{stats}");
    json.close(WAIT).unwrap();
    assert_eq!(server.stored_ids().len(), 260);
}

/// Counts its drops: captured by a callback, it tells when the library released the callback.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_statistics_callback_runs_until_the_sdk_is_dropped() {
    let _turn = serially(LevelFilter::Off);
    let server = Server::start(&[]);
    let (calls, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (send_report, reports) = mpsc::sync_channel(1);
    let options = SdkOptions::new().on_statistics(Duration::from_millis(10), {
        let (calls, guard) = (Arc::clone(&calls), DropCounter(Arc::clone(&drops)));
        move |json| {
            let _captured = &guard;
            let call = calls.fetch_add(1, Ordering::SeqCst);
            // A panic is caught at the boundary; the next report still comes.
            assert!(call != 1, "the second report panics");
            let _ = send_report.try_send(parse(json));
        }
    });
    let sdk = sdk_with(&server, options.clone());
    let stream = proto_stream(&sdk);
    ingest_events(&stream, 40);
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let report = reports.recv_timeout(left).expect("a report within 30s");
        if report["streams"][0]["offsets"]["acked"] == 40 && calls.load(Ordering::SeqCst) > 2 {
            break;
        }
    }

    drop(sdk);
    let stopped = calls.load(Ordering::SeqCst);
    // Nothing to wait for but time: 20 intervals would bring 20 reports.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(calls.load(Ordering::SeqCst), stopped, "reports after drop");
    // The options still hold the closure; once they are gone the library held the last copy.
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(options);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the closure was not released"
    );
    // The stream outlives the SDK.
    ingest_events(&stream, 10);
    stream.close(WAIT).unwrap();
}
