//! Streams JSON records into a table and waits until they are durable.
//!
//! ```text
//! zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' &
//! cargo run --example ingest_json -- http://127.0.0.1:50051 main.default.events 1000
//! ```
//!
//! Arguments: the endpoint (default: `$ZEROBUS_ENDPOINT`), the table (`id BIGINT, payload
//! STRING` columns) and how many records to send; `zerobus serve` prints its endpoint when it
//! starts.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use zerobus::{Ack, RecordFormat, Sdk, SdkOptions, StreamOptions};

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some(endpoint) = arguments
        .first()
        .cloned()
        .or_else(|| std::env::var("ZEROBUS_ENDPOINT").ok())
    else {
        eprintln!("usage: ingest_json ENDPOINT [TABLE [RECORDS]] (or set ZEROBUS_ENDPOINT)");
        return ExitCode::FAILURE;
    };
    let table = arguments
        .get(1)
        .map_or("main.default.events", String::as_str);
    let Some(count) = arguments
        .get(2)
        .map_or(Some(10), |count| count.parse::<u64>().ok())
    else {
        eprintln!("usage: ingest_json [ENDPOINT [TABLE [RECORDS]]]");
        return ExitCode::FAILURE;
    };
    match ingest(&endpoint, table, count) {
        Ok(durable) => {
            println!("{durable} records durable in {table}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ingest_json: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `count` records and returns how many the server acknowledged.
fn ingest(endpoint: &str, table: &str, count: u64) -> zerobus::Result<u64> {
    // A local server (zerobus serve) speaks plaintext; anything else gets TLS.
    let sdk = Sdk::with_options(
        endpoint,
        &SdkOptions::new().plaintext(endpoint.starts_with("http://")),
    )?;
    // Acks arrive on a library thread; count them there and report what can never be delivered.
    let durable = Arc::new(AtomicU64::new(0));
    let options = StreamOptions::new().max_inflight_records(10_000).on_ack({
        let durable = Arc::clone(&durable);
        move |ack| match ack {
            Ack::Durable {
                first_offset,
                last_offset,
            } => {
                durable.fetch_add(last_offset - first_offset + 1, Ordering::Relaxed);
            }
            Ack::Failed {
                first_offset,
                last_offset,
                error,
            } => {
                eprintln!("records {first_offset}..={last_offset} not delivered: {error}");
            }
        }
    });
    let stream = sdk.create_stream(table, RecordFormat::Json, &options)?;
    for id in 0..count {
        stream.ingest_json(&format!(r#"{{"id": {id}, "payload": "record {id}"}}"#))?;
    }
    // close() waits for the acks and for the callback to have seen them all.
    stream.close(Duration::from_secs(60))?;
    Ok(durable.load(Ordering::Relaxed))
}
