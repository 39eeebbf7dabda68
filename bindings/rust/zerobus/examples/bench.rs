//! Records/s of one thread ingesting 100-byte protobuf records one call at a time into
//! `zerobus serve --null-sink`, until every record is acknowledged.
//!
//! ```text
//! ZEROBUS_SERVE_BIN=/path/to/zerobus cargo run --release --example bench -- [RECORDS [BYTES]]
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Server, TABLE, event_descriptor, event_record};
use zerobus::{RecordFormat, StreamOptions};

fn main() -> zerobus::Result<()> {
    let arguments: Vec<usize> = std::env::args()
        .skip(1)
        .map(|argument| argument.parse().expect("usage: bench [RECORDS [BYTES]]"))
        .collect();
    let records = arguments.first().copied().unwrap_or(1_000_000);
    let size = arguments.get(1).copied().unwrap_or(100);
    // The payload that pads an Event to exactly `size` bytes.
    let record = (0..size)
        .rev()
        .map(|payload| event_record(1, &"p".repeat(payload)))
        .find(|record| record.len() == size)
        .expect("no Event has that size");

    let server = Server::start(&["--null-sink"]);
    let sdk = server.sdk();
    let stream = sdk.create_stream(
        TABLE,
        RecordFormat::Proto(event_descriptor()),
        &StreamOptions::new(),
    )?;
    let started = Instant::now();
    for _ in 0..records {
        stream.ingest_proto(&record)?;
    }
    stream.flush(Duration::MAX)?;
    let seconds = started.elapsed().as_secs_f64();
    stream.close(Duration::from_secs(60))?;
    println!("records: {records} of {size} bytes in {seconds:.3} s");
    println!("records/s: {:.0}", records as f64 / seconds);
    Ok(())
}
