//! Streams protobuf records into a table and waits until they are durable.
//!
//! ```text
//! zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' &
//! cargo run --example ingest_proto -- http://127.0.0.1:50051 1000
//! ```
//!
//! Arguments: the endpoint (default: `$ZEROBUS_ENDPOINT`) and how many records to send.

use std::process::ExitCode;
use std::time::Duration;

use zerobus::{Schema, Sdk, SdkOptions, StreamOptions};

/// The table's columns. A protobuf stream is opened with the message descriptor of its
/// records, and the library derives it from the columns: no `.proto` file, no `protoc`.
const TABLE_DDL: &str = "main.default.events (id BIGINT, payload STRING)";

/// Records travel in batches of this many: one request each, accepted all or none.
const BATCH: u64 = 100;

fn main() -> ExitCode {
    let mut arguments = std::env::args().skip(1);
    let endpoint = arguments
        .next()
        .or_else(|| std::env::var("ZEROBUS_ENDPOINT").ok());
    let count = arguments
        .next()
        .map_or(Some(1000), |count| count.parse().ok());
    let (Some(endpoint), Some(count)) = (endpoint, count) else {
        eprintln!("usage: ingest_proto [ENDPOINT [RECORDS]] (or set ZEROBUS_ENDPOINT)");
        return ExitCode::FAILURE;
    };
    match ingest(&endpoint, count) {
        Ok(table) => {
            println!("{count} protobuf records durable in {table}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ingest_proto: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Appends `value` as a protobuf varint: 7 bits a byte, low bits first.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The record `zerobus schema --ddl` describes for the table:
/// `message Event { optional int64 id = 1; optional string payload = 2; }`.
/// A program with many message types would derive them with `prost` instead.
fn encode_event(id: i64, payload: &str) -> Vec<u8> {
    let mut record = Vec::with_capacity(16 + payload.len());
    record.push(1 << 3); // field 1, varint
    put_varint(&mut record, id as u64);
    record.push((2 << 3) | 2); // field 2, length-delimited
    put_varint(&mut record, payload.len() as u64);
    record.extend_from_slice(payload.as_bytes());
    record
}

/// Sends `count` records and returns the table's name once they are durable.
fn ingest(endpoint: &str, count: u64) -> zerobus::Result<String> {
    let schema = Schema::from_ddl(TABLE_DDL)?;
    // A local server (zerobus serve) speaks plaintext; anything else gets TLS, and needs
    // credentials in the stream options (see the README).
    let sdk = Sdk::with_options(
        endpoint,
        &SdkOptions::new().plaintext(endpoint.starts_with("http://")),
    )?;
    let stream = sdk.create_stream_from_schema(&schema, &StreamOptions::new())?;
    for first in (0..count).step_by(BATCH as usize) {
        let batch: Vec<Vec<u8>> = (first..count.min(first + BATCH))
            .map(|id| encode_event(id as i64, &format!("event {id}")))
            .collect();
        stream.ingest_proto_batch(&batch)?;
    }
    // Without an ack callback, flush() is how to know: it returns once every record accepted
    // before it is durable, or fails with the stream's error.
    stream.flush(Duration::from_secs(30))?;
    stream.close(Duration::from_secs(10))?;
    Ok(schema.table_name().to_owned())
}
