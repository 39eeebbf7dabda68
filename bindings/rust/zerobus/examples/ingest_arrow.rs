//! Streams Arrow record batches (the `arrow` feature) into a table and waits until they are
//! durable: each batch gets one offset.
//!
//! ```text
//! zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' &
//! cargo run --features arrow --example ingest_arrow -- http://127.0.0.1:50051 main.default.events 1000 64
//! ```
//!
//! Arguments: the endpoint (default: `$ZEROBUS_ENDPOINT`), the table (`id BIGINT, payload
//! STRING` columns), how many rows to send and how many rows a batch holds.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use zerobus::{Sdk, SdkOptions, StreamOptions};

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some(endpoint) = arguments
        .first()
        .cloned()
        .or_else(|| std::env::var("ZEROBUS_ENDPOINT").ok())
    else {
        eprintln!("usage: ingest_arrow ENDPOINT [TABLE [ROWS [BATCH]]] (or set ZEROBUS_ENDPOINT)");
        return ExitCode::FAILURE;
    };
    let table = arguments
        .get(1)
        .map_or("main.default.events", String::as_str);
    let number = |index: usize, default: i64| {
        arguments
            .get(index)
            .map_or(Some(default), |value| value.parse::<i64>().ok())
            .filter(|&value| value > 0)
    };
    let (Some(rows), Some(rows_per_batch)) = (number(2, 10), number(3, 64)) else {
        eprintln!("usage: ingest_arrow [ENDPOINT [TABLE [ROWS [BATCH]]]]");
        return ExitCode::FAILURE;
    };
    match ingest(&endpoint, table, rows, rows_per_batch) {
        Ok(batches) => {
            println!("{rows} rows in {batches} batches durable in {table}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ingest_arrow: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Rows `first..end` as one batch of `schema`.
fn batch_of(schema: &SchemaRef, first: i64, end: i64) -> RecordBatch {
    let ids: Vec<i64> = (first..end).collect();
    let payloads: Vec<String> = ids.iter().map(|id| format!("event {id}")).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(payloads)),
    ];
    RecordBatch::try_new(Arc::clone(schema), columns).expect("the columns fit the schema")
}

/// Sends `rows` rows in batches of `rows_per_batch` and returns how many batches it sent.
fn ingest(endpoint: &str, table: &str, rows: i64, rows_per_batch: i64) -> zerobus::Result<u64> {
    let sdk = Sdk::with_options(
        endpoint,
        &SdkOptions::new().plaintext(endpoint.starts_with("http://")),
    )?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("payload", DataType::Utf8, true),
    ]));
    // A full window makes ingest_arrow wait for room, up to this long.
    let options = StreamOptions::new().ingest_timeout(Duration::from_secs(30));
    let stream = sdk.arrow_stream(table, &schema, &options)?;
    let mut last = 0;
    for first in (0..rows).step_by(rows_per_batch as usize) {
        // The batch moves into the library, which releases it once the server has it.
        last = stream.ingest_arrow(batch_of(&schema, first, (first + rows_per_batch).min(rows)))?;
    }
    stream.close(Duration::from_secs(30))?;
    Ok(last + 1)
}
