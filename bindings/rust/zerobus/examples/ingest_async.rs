//! Streams JSON records into a table from several tokio tasks at once, counts the acks in a
//! task of their own, and waits until every record is durable, without blocking the runtime.
//!
//! ```text
//! zerobus serve --table 'main.default.events (id BIGINT, payload STRING)' &
//! cargo run --features tokio --example ingest_async -- http://127.0.0.1:50051 main.default.events 1000
//! ```
//!
//! Arguments: the endpoint (default: `$ZEROBUS_ENDPOINT`), the table (`id BIGINT, payload
//! STRING` columns) and how many records to send; `zerobus serve` prints its endpoint when it
//! starts.

use std::process::ExitCode;
use std::sync::Arc;

use futures::StreamExt;
use zerobus::{Ack, RecordFormat, Sdk, SdkOptions, StreamOptions};

/// How many tasks ingest at once.
const TASKS: u64 = 4;

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some(endpoint) = arguments
        .first()
        .cloned()
        .or_else(|| std::env::var("ZEROBUS_ENDPOINT").ok())
    else {
        eprintln!("usage: ingest_async ENDPOINT [TABLE [RECORDS]] (or set ZEROBUS_ENDPOINT)");
        return ExitCode::FAILURE;
    };
    let table = arguments
        .get(1)
        .map_or("main.default.events", String::as_str);
    let Some(count) = arguments
        .get(2)
        .map_or(Some(10), |count| count.parse::<u64>().ok())
    else {
        eprintln!("usage: ingest_async [ENDPOINT [TABLE [RECORDS]]]");
        return ExitCode::FAILURE;
    };
    match ingest(&endpoint, table, count).await {
        Ok(durable) => {
            println!("{durable} records durable in {table}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ingest_async: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `count` records from [`TASKS`] tasks and returns how many the server acknowledged.
async fn ingest(endpoint: &str, table: &str, count: u64) -> zerobus::Result<u64> {
    // A local server (zerobus serve) speaks plaintext; anything else gets TLS.
    let sdk = Sdk::with_options(
        endpoint,
        &SdkOptions::new().plaintext(endpoint.starts_with("http://")),
    )?;
    // The open blocks in the library, so it runs on tokio's blocking pool.
    let stream = sdk
        .create_stream_async(table, RecordFormat::Json, &StreamOptions::new())
        .await?;
    let stream = Arc::new(stream);

    // The acks, in offset order, until the stream is closed.
    let mut acks = stream.ack_events()?;
    let counter = tokio::spawn(async move {
        let mut durable = 0;
        while let Some(ack) = acks.next().await {
            match ack {
                Ack::Durable {
                    first_offset,
                    last_offset,
                } => durable += last_offset - first_offset + 1,
                Ack::Failed {
                    first_offset,
                    last_offset,
                    error,
                } => eprintln!("records {first_offset}..={last_offset} not delivered: {error}"),
            }
        }
        durable
    });

    // Each task sends every TASKS-th record; a full window makes it wait, not the runtime.
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let stream = Arc::clone(&stream);
        tasks.push(tokio::spawn(async move {
            for id in (task..count).step_by(TASKS as usize) {
                let record = format!(r#"{{"id": {id}, "payload": "record {id}"}}"#);
                stream.ingest_json_async(&record).await?;
            }
            zerobus::Result::Ok(())
        }));
    }
    for task in tasks {
        task.await.expect("an ingesting task panicked")?;
    }
    // Waits for the acks of every record, then ends the stream; the ack counter then ends.
    stream.close_async().await?;
    Ok(counter.await.expect("the ack counter panicked"))
}
