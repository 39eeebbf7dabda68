//! The async surface under load, into `zerobus serve --null-sink`:
//!
//! - `throughput [RECORDS [BYTES [TASKS]]]`: records/s of TASKS tokio tasks (4) ingesting
//!   100-byte protobuf records into one stream with `ingest_proto_async`, one call per record,
//!   until every record is acknowledged (`flush_async`).
//! - `latency [RATE [SECONDS [BYTES [RUNTIME [ENDPOINT]]]]]`: ack latency percentiles at RATE
//!   records/s (1,000), evenly paced for SECONDS (5): from each ingest to the end of its record's
//!   `wait_for_offset_async`, as `zerobus bench --rate` measures the C API's from each ingest to
//!   the event callback's ack; on tokio's `multi` (default) or `current` thread runtime; against
//!   the plaintext `zerobus serve --null-sink` at ENDPOINT when given (bench/bindings.sh starts
//!   it on a CPU of its own), else one of its own. One
//!   task of the runtime paces, ingests and awaits the waits, oldest first (acks come in offset
//!   order), as a producer task of a tokio service would, so that the figure has the C API's
//!   wake-ups and no other: a task spawned per wait would cost the multi-thread runtime another
//!   worker's wake-up at many records (it wakes a parked worker to steal the new task), and a
//!   pacing timer re-armed after each tick would wake the worker parked in the driver (tokio
//!   unparks it for a timer due before every other one), so the next tick's timer is armed
//!   while the current one still is. (With a task per wait and a re-armed timer the client made
//!   0.5 thread wake-ups per record more than the C API's bench, perf's sched_wakeup counts.)
//!
//! ```text
//! ZEROBUS_SERVE_BIN=/path/to/zerobus cargo run --release --features tokio --example bench_async -- throughput
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{Server, TABLE, event_descriptor, event_record};
use tokio::time::sleep_until;
use zerobus::{RecordFormat, Sdk, SdkOptions, Stream, StreamOptions};

const USAGE: &str = "usage: bench_async throughput [RECORDS [BYTES [TASKS]]] \
                     | latency [RATE [SECONDS [BYTES [multi|current [ENDPOINT]]]]]";

fn main() -> zerobus::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let mut runtime = match arguments.get(4).map(String::as_str) {
        Some("current") => tokio::runtime::Builder::new_current_thread(),
        Some("multi") | None => tokio::runtime::Builder::new_multi_thread(),
        Some(_) => panic!("{USAGE}"),
    };
    runtime
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run(arguments))
}

async fn run(arguments: Vec<String>) -> zerobus::Result<()> {
    let number = |index: usize, default: u64| -> u64 {
        arguments
            .get(index)
            .map_or(default, |text| text.parse().expect(USAGE))
    };
    let endpoint = match arguments.first().map(String::as_str) {
        Some("latency") => arguments.get(5),
        _ => None,
    };
    // `_server` lives to the end of the run: dropping it stops the server.
    let (_server, sdk) = match endpoint {
        Some(endpoint) => (
            None,
            Sdk::with_options(endpoint, &SdkOptions::new().plaintext(true))?,
        ),
        None => {
            let server = Server::start(&["--null-sink"]);
            let sdk = server.sdk();
            (Some(server), sdk)
        }
    };
    let options = StreamOptions::new();
    let open = || sdk.create_stream_async(TABLE, RecordFormat::Proto(event_descriptor()), &options);
    match arguments.first().map(String::as_str) {
        Some("throughput") | None => {
            let (records, size, tasks) = (number(1, 1_000_000), number(2, 100), number(3, 4));
            let stream = Arc::new(open().await?);
            throughput(stream, records, record_of_size(size), tasks).await
        }
        Some("latency") => {
            let (rate, seconds, size) = (number(1, 1000), number(2, 5), number(3, 100));
            let stream = Arc::new(open().await?);
            let paced = tokio::spawn(latency(stream, rate, seconds, record_of_size(size)));
            paced.await.expect("the pacing task panicked")
        }
        Some(_) => panic!("{USAGE}"),
    }
}

/// A protobuf Event of exactly `size` bytes.
fn record_of_size(size: u64) -> Arc<Vec<u8>> {
    let record = (0..size as usize)
        .rev()
        .map(|payload| event_record(1, &"p".repeat(payload)))
        .find(|record| record.len() == size as usize)
        .expect("no Event has that size");
    Arc::new(record)
}

async fn throughput(
    stream: Arc<Stream>,
    records: u64,
    record: Arc<Vec<u8>>,
    tasks: u64,
) -> zerobus::Result<()> {
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let (stream, record) = (Arc::clone(&stream), Arc::clone(&record));
            let share = records / tasks + u64::from(task < records % tasks);
            tokio::spawn(async move {
                for _ in 0..share {
                    stream.ingest_proto_async(&record).await?;
                }
                zerobus::Result::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("an ingesting task panicked")?;
    }
    stream.flush_async().await?;
    let seconds = started.elapsed().as_secs_f64();
    stream.close_async().await?;
    println!(
        "records: {records} of {} bytes from {tasks} tasks in {seconds:.3} s",
        record.len()
    );
    println!("records/s: {:.0}", records as f64 / seconds);
    Ok(())
}

/// The wait of one record: its latency once its ack came.
type Wait<'a> = Pin<Box<dyn Future<Output = zerobus::Result<Duration>> + Send + 'a>>;

async fn latency(
    stream: Arc<Stream>,
    rate: u64,
    seconds: u64,
    record: Arc<Vec<u8>>,
) -> zerobus::Result<()> {
    let records = rate * seconds;
    let start = tokio::time::Instant::now();
    let due = |tick: u64| start + Duration::from_nanos(tick * 1_000_000_000 / rate);
    let shared: &Stream = &stream;
    let mut waits: VecDeque<Wait> = VecDeque::new();
    let mut latencies = Vec::with_capacity(records as usize);
    let (mut tick, mut next_tick) = (Box::pin(sleep_until(due(0))), Box::pin(sleep_until(due(1))));
    let mut sent = 0;
    while latencies.len() < records as usize {
        tokio::select! {
            biased;
            () = &mut tick, if sent < records => {
                let ingested = Instant::now();
                let offset = shared.try_ingest_proto(&record)?;
                waits.push_back(Box::pin(async move {
                    shared.wait_for_offset_async(offset).await?;
                    Ok(ingested.elapsed())
                }));
                sent += 1;
                std::mem::swap(&mut tick, &mut next_tick);
                next_tick.as_mut().reset(due(sent + 1));
                // Armed now, while `tick` still is.
                let _ = futures::poll!(next_tick.as_mut());
            }
            waited = poll_fn(|cx| waits[0].as_mut().poll(cx)), if !waits.is_empty() => {
                waits.pop_front();
                latencies.push(waited?);
            }
        }
    }
    stream.close_async().await?;
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1e6
    };
    println!(
        "{records} records at {rate}/s: ack latency p50 {:.0} us  p99 {:.0} us  p99.9 {:.0} us",
        percentile(0.50),
        percentile(0.99),
        percentile(0.999)
    );
    Ok(())
}
