//! The official Zerobus Rust core (crates.io `databricks-zerobus-ingest-sdk`, driven natively)
//! doing the work `zerobus bench` does, so that bench/run can set libzerobus's figures beside
//! those of the fastest official client. It prints exactly one JSON line on stdout, with the
//! keys `zerobus bench --json` uses; diagnostics go to stderr and any error exits non-zero.
//!
//!   official-rs-bench --endpoint URL [--table NAME] [--max-inflight N] --mode throughput
//!       [--records N] [--size BYTES] [--batch B] [--tasks T] [--lanes L]
//!   official-rs-bench --endpoint URL [--table NAME] [--max-inflight N] --mode latency
//!       [--rate R] [--seconds D] [--size BYTES]
//!   official-rs-bench --endpoint URL [--table NAME] [--max-inflight N] --mode arrow
//!       [--records ROWS] [--batch ROWS] [--tasks T]
//!
//! The endpoint is plaintext and unauthenticated (`zerobus serve`'s), reached through the
//! crate's `testing` feature: `no_tls()` on the SDK and `no_auth()` on the stream.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
use databricks_zerobus_ingest_sdk::{
    AckCallback, ArrowCompression, ArrowSchema, DataType, Field, MultiplexedStream, OffsetId,
    RecordBatch, StreamBuilder, TimeUnit, ZerobusArrowStream, ZerobusResult, ZerobusSdk,
    ZerobusStream, DEFAULT_SDK_IDENTIFIER,
};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto};

const USAGE: &str = "\
usage: official-rs-bench --endpoint URL [--table NAME] [--max-inflight N] --mode MODE [options]
  --mode throughput  [--records N (1000000)] [--size BYTES (100)] [--batch B (1)]
                     [--tasks T (1)] [--lanes L (1)]
  --mode latency     [--rate RECORDS_PER_S (1000)] [--seconds D (5)] [--size BYTES (100)]
  --mode arrow       [--records ROWS (1000000)] [--batch ROWS (1000)] [--tasks T (1)]

throughput: T tokio tasks share the records, each awaiting one ingest call (of B records)
  after another; L > 1 makes the stream multiplexed(L), one handle over L lanes. The clock
  stops when flush() has seen every record acknowledged.
latency: one stream, R records/s for D seconds from a thread of its own, paced in 1 ms ticks
  (the records due within a tick go out together, as `zerobus bench --rate` paces); a
  record's latency runs from its ingest call to the ack callback for its offset.
arrow: one Arrow Flight stream (uncompressed) into the table (default
  bench.default.arrow_events), T tasks each awaiting ingest_batch of the same record batch
  of B rows after another (bench/include/bench/arrow_batch.h's batch); --records counts rows.
  The clock stops when flush() has seen every row acknowledged.
--max-inflight N: the stream's max_inflight_requests (a multiplexed handle shares N among its
  lanes; max_inflight_batches with --mode arrow); without it the core's default.";

// The bounds `zerobus bench` puts on a record (bench/include/bench/workload.h).
const MIN_RECORD_SIZE: usize = 16;
const MAX_RECORD_SIZE: usize = 16_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Throughput,
    Latency,
    Arrow,
}

struct Options {
    endpoint: String,
    table: String,
    mode: Mode,
    records: u64,
    size: usize,
    batch: u64,
    tasks: u64,
    lanes: usize,
    max_inflight: Option<usize>,
    rate: u64,
    seconds: u64,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        endpoint: String::new(),
        table: "bench.default.events".to_string(),
        mode: Mode::Throughput,
        records: 1_000_000,
        size: 100,
        batch: 1,
        tasks: 1,
        lanes: 1,
        max_inflight: None,
        rate: 1000,
        seconds: 5,
    };
    let mut mode_given = false;
    let mut batch_given = false;
    let mut table_given = false;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let count = || -> Result<u64, String> {
            match value.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!(
                    "{flag} must be a whole number of at least 1, not \"{value}\""
                )),
            }
        };
        match flag.as_str() {
            "--endpoint" => options.endpoint = value.clone(),
            "--table" => {
                options.table = value.clone();
                table_given = true;
            }
            "--mode" => {
                options.mode = match value.as_str() {
                    "throughput" => Mode::Throughput,
                    "latency" => Mode::Latency,
                    "arrow" => Mode::Arrow,
                    _ => {
                        return Err(format!(
                            "--mode must be throughput, latency or arrow, not \"{value}\""
                        ))
                    }
                };
                mode_given = true;
            }
            "--records" => options.records = count()?,
            "--size" => options.size = count()? as usize,
            "--batch" => {
                options.batch = count()?;
                batch_given = true;
            }
            "--tasks" => options.tasks = count()?,
            "--lanes" => options.lanes = count()? as usize,
            "--max-inflight" => options.max_inflight = Some(count()? as usize),
            "--rate" => options.rate = count()?,
            "--seconds" => options.seconds = count()?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if options.endpoint.is_empty() || !mode_given {
        return Err("--endpoint and --mode are required".to_string());
    }
    if options.mode == Mode::Arrow {
        if !batch_given {
            options.batch = ARROW_BATCH_ROWS;
        }
        if !table_given {
            options.table = ARROW_TABLE.to_string();
        }
        if options.lanes != 1 {
            return Err("--mode arrow takes one stream: no --lanes".to_string());
        }
    }
    if !(MIN_RECORD_SIZE..=MAX_RECORD_SIZE).contains(&options.size) {
        return Err(format!(
            "--size must be {MIN_RECORD_SIZE} .. {MAX_RECORD_SIZE} bytes"
        ));
    }
    if options.records < options.batch * options.tasks {
        return Err("--records must be at least --batch times --tasks".to_string());
    }
    Ok(options)
}

/// `message Event { optional int64 id = 1; optional string payload = 2; }`, the table
/// (id BIGINT, payload STRING) every benchmark client writes.
fn event_descriptor() -> DescriptorProto {
    let field = |name: &str, number: i32, kind: Type| FieldDescriptorProto {
        name: Some(name.to_string()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(kind as i32),
        ..Default::default()
    };
    DescriptorProto {
        name: Some("Event".to_string()),
        field: vec![
            field("id", 1, Type::Int64),
            field("payload", 2, Type::String),
        ],
        ..Default::default()
    }
}

/// The table of --mode arrow, declared on the server as bench::kArrowBenchTableDdl says, and
/// the rows of its batches unless --batch says otherwise.
const ARROW_TABLE: &str = "bench.default.arrow_events";
const ARROW_BATCH_ROWS: u64 = 1000;
/// 2026-01-01T00:00:00Z in microseconds since the epoch.
const FIRST_TIMESTAMP_US: i64 = 1_767_225_600_000_000;

/// bench/include/bench/arrow_batch.h's batch, value for value: 4 int64, 3 double, 2 utf8 and a
/// timestamp[us, UTC], every column nullable and without nulls. Row r of column c holds: c0..c3
/// r * 10 + c; c4..c6 (r * 10 + c) * 0.5; c7, c8 "value-" and (r * 7919 + c) % 100000; c9
/// 2026-01-01T00:00:00Z plus r milliseconds. The two must change together.
fn arrow_batch(rows: u64) -> Result<RecordBatch, Failure> {
    let rows = rows as i64;
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for c in 0..10i64 {
        let (kind, column): (DataType, ArrayRef) = match c {
            0..=3 => (
                DataType::Int64,
                Arc::new(Int64Array::from_iter_values((0..rows).map(|r| r * 10 + c))),
            ),
            4..=6 => (
                DataType::Float64,
                Arc::new(Float64Array::from_iter_values(
                    (0..rows).map(|r| (r * 10 + c) as f64 * 0.5),
                )),
            ),
            7 | 8 => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|r| format!("value-{}", (r * 7919 + c) % 100_000)),
                )),
            ),
            _ => (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(
                        (0..rows).map(|r| FIRST_TIMESTAMP_US + r * 1000),
                    )
                    .with_timezone("UTC"),
                ),
            ),
        };
        fields.push(Field::new(format!("c{c}"), kind, true));
        columns.push(column);
    }
    Ok(RecordBatch::try_new(
        Arc::new(ArrowSchema::new(fields)),
        columns,
    )?)
}

/// The bytes of a batch's buffers per row, as bench/arrow_batch.h counts them.
fn buffer_bytes_per_row(batch: &RecordBatch) -> usize {
    let bytes: usize = batch
        .columns()
        .iter()
        .map(|column| {
            let data = column.to_data();
            data.buffers().iter().map(|buffer| buffer.len()).sum::<usize>()
        })
        .sum();
    bytes / batch.num_rows()
}

/// An Event of exactly `size` bytes, byte for byte the record `zerobus bench` sends: the id as
/// a 9-byte varint, the payload's length as a 2-byte varint (padded below 128), then padding.
fn event_record(size: usize) -> Vec<u8> {
    let mut record = vec![0x08];
    record.extend_from_slice(&[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    let payload = size - record.len() - 3;
    record.extend_from_slice(&[0x12, 0x80 | (payload & 0x7f) as u8, (payload >> 7) as u8]);
    record.resize(size, b'p');
    record
}

/// User plus system CPU seconds of the whole process so far, and its peak resident set in MiB.
fn process_usage() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    (cpu, usage.ru_maxrss as f64 / 1024.0) // ru_maxrss is in KiB on Linux
}

fn version() -> &'static str {
    DEFAULT_SDK_IDENTIFIER
        .rsplit('/')
        .next()
        .unwrap_or(DEFAULT_SDK_IDENTIFIER)
}

fn open_sdk(options: &Options) -> ZerobusResult<ZerobusSdk> {
    ZerobusSdk::builder()
        .endpoint(&options.endpoint)
        .no_tls()
        .build()
}

/// A stream of Events into the table, unauthenticated, with --max-inflight if given.
fn stream_builder<'a>(sdk: &'a ZerobusSdk, options: &Options) -> StreamBuilder<'a> {
    let builder = sdk
        .stream_builder()
        .table(&options.table)
        .no_auth()
        .compiled_proto(event_descriptor());
    match options.max_inflight {
        Some(requests) => builder.max_inflight_requests(requests),
        None => builder,
    }
}

fn stream_options_note(options: &Options) -> String {
    match options.max_inflight {
        Some(requests) => {
            format!("max_inflight_requests {requests}, other options at their defaults")
        }
        None => "stream options at their defaults".to_string(),
    }
}

/// One stream, or one multiplexed handle over several lanes: what the producers write to.
enum Ingester {
    Stream(Box<ZerobusStream>),
    Lanes(MultiplexedStream),
}

impl Ingester {
    async fn open(sdk: &ZerobusSdk, options: &Options) -> ZerobusResult<Self> {
        let builder = stream_builder(sdk, options);
        Ok(if options.lanes == 1 {
            Ingester::Stream(Box::new(builder.build().await?))
        } else {
            Ingester::Lanes(builder.multiplexed(options.lanes).build().await?)
        })
    }

    async fn ingest(&self, record: &[u8]) -> ZerobusResult<()> {
        match self {
            Ingester::Stream(stream) => {
                stream.ingest_record_offset(record.to_vec()).await.map(drop)
            }
            Ingester::Lanes(lanes) => lanes.ingest_record(record.to_vec()).await.map(drop),
        }
    }

    async fn ingest_batch(&self, record: &[u8], count: u64) -> ZerobusResult<()> {
        let records = (0..count).map(|_| record.to_vec());
        match self {
            Ingester::Stream(stream) => stream.ingest_records_offset(records).await.map(drop),
            Ingester::Lanes(lanes) => lanes.ingest_records(records).await.map(drop),
        }
    }

    async fn flush(&self) -> ZerobusResult<()> {
        match self {
            Ingester::Stream(stream) => stream.flush().await,
            Ingester::Lanes(lanes) => lanes.flush().await,
        }
    }

    async fn close(&mut self) -> ZerobusResult<()> {
        match self {
            Ingester::Stream(stream) => stream.close().await,
            Ingester::Lanes(lanes) => lanes.close().await,
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Figures {
    records: u64,
    seconds: f64,
    cpu_seconds: f64,
    latency_us: Option<[f64; 3]>,
    /// Bytes per record when not --size's (an Arrow batch's buffer bytes per row).
    size: Option<usize>,
    note: String,
}

async fn run_throughput(options: &Options) -> Result<Figures, Failure> {
    let sdk = open_sdk(options)?;
    let ingester = Arc::new(Ingester::open(&sdk, options).await?);
    let record: Arc<[u8]> = event_record(options.size).into();
    let calls_per_task = options.records / options.batch / options.tasks;

    let (cpu_start, _) = process_usage();
    let start = Instant::now();
    let producers: Vec<_> = (0..options.tasks)
        .map(|_| {
            let ingester = Arc::clone(&ingester);
            let record = Arc::clone(&record);
            let batch = options.batch;
            tokio::spawn(async move {
                for _ in 0..calls_per_task {
                    if batch == 1 {
                        ingester.ingest(&record).await?;
                    } else {
                        ingester.ingest_batch(&record, batch).await?;
                    }
                }
                ZerobusResult::Ok(())
            })
        })
        .collect();
    for producer in producers {
        producer.await??;
    }
    ingester.flush().await?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_usage().0 - cpu_start;

    let mut ingester = Arc::into_inner(ingester).expect("every producer has finished");
    ingester.close().await?;
    let ingest = if options.batch == 1 {
        "ingest_record_offset / ingest_record calls (a record each)"
    } else {
        "ingest_records_offset / ingest_records calls"
    };
    Ok(Figures {
        records: calls_per_task * options.batch * options.tasks,
        seconds,
        cpu_seconds,
        latency_us: None,
        size: None,
        note: format!(
            "{} tokio task(s) on the default multi-thread runtime, each awaiting {ingest} one \
             after another; {}; each record a fresh Vec<u8> copy of one pre-encoded Event (the \
             API takes owned records); clock stopped after flush(); {}",
            options.tasks,
            if options.lanes == 1 {
                "one stream".to_string()
            } else {
                format!(
                    "one multiplexed({}) handle, records round-robin over its lanes",
                    options.lanes
                )
            },
            stream_options_note(options),
        ),
    })
}

async fn run_arrow(options: &Options) -> Result<Figures, Failure> {
    let sdk = open_sdk(options)?;
    let batch = arrow_batch(options.batch)?;
    let builder = sdk
        .stream_builder()
        .table(&options.table)
        .no_auth()
        .arrow(batch.schema())
        .compression(ArrowCompression::Uncompressed);
    let builder = match options.max_inflight {
        Some(batches) => builder.max_inflight_batches(batches),
        None => builder,
    };
    let stream: Arc<ZerobusArrowStream> = Arc::new(builder.build_arrow().await?);
    let calls_per_task = options.records / options.batch / options.tasks;

    let (cpu_start, _) = process_usage();
    let start = Instant::now();
    let producers: Vec<_> = (0..options.tasks)
        .map(|_| {
            let stream = Arc::clone(&stream);
            let batch = batch.clone();
            tokio::spawn(async move {
                for _ in 0..calls_per_task {
                    stream.ingest_batch(batch.clone()).await?;
                }
                ZerobusResult::Ok(())
            })
        })
        .collect();
    for producer in producers {
        producer.await??;
    }
    stream.flush().await?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_usage().0 - cpu_start;

    let mut stream = Arc::into_inner(stream).expect("every producer has finished");
    stream.close().await?;
    Ok(Figures {
        records: calls_per_task * options.batch * options.tasks,
        seconds,
        cpu_seconds,
        latency_us: None,
        size: Some(buffer_bytes_per_row(&batch)),
        note: format!(
            "{} tokio task(s) on the default multi-thread runtime, each awaiting ingest_batch \
             of one RecordBatch of {} rows (a clone: its arrays shared) one after another; one \
             Arrow Flight stream, ArrowCompression::Uncompressed; clock stopped after flush(); {}",
            options.tasks,
            options.batch,
            match options.max_inflight {
                Some(batches) => format!("max_inflight_batches {batches}"),
                None => "max_inflight_batches at its default".to_string(),
            },
        ),
    })
}

/// When each record was sent and how long its ack took, in nanoseconds since the run began.
struct LatencySamples {
    start: Instant,
    sent_ns: Vec<AtomicU64>,
    latency_ns: Vec<AtomicU64>,
}

const NOT_ACKED: u64 = u64::MAX;

impl LatencySamples {
    fn since_start(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

struct LatencyCallback(Arc<LatencySamples>);

impl AckCallback for LatencyCallback {
    fn on_ack(&self, offset: OffsetId) {
        let samples = &self.0;
        if let Some(slot) = usize::try_from(offset)
            .ok()
            .and_then(|i| samples.latency_ns.get(i))
        {
            let sent = samples.sent_ns[offset as usize].load(Ordering::Acquire);
            slot.store(samples.since_start() - sent, Ordering::Release);
        }
    }

    fn on_error(&self, offset: OffsetId, message: &str) {
        eprintln!("official-rs-bench: record at offset {offset} failed: {message}");
    }
}

/// The latency below which `fraction` of `sorted` lies, the way bench/workload.cc picks it.
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    sorted[(fraction * (sorted.len() - 1) as f64) as usize]
}

/// How a latency run paces its records, as `zerobus bench --rate` does.
const PACING_TICK: Duration = Duration::from_millis(1);

async fn run_latency(options: &Options) -> Result<Figures, Failure> {
    let records = (options.rate * options.seconds) as usize;
    let samples = Arc::new(LatencySamples {
        start: Instant::now(),
        sent_ns: (0..records).map(|_| AtomicU64::new(0)).collect(),
        latency_ns: (0..records).map(|_| AtomicU64::new(NOT_ACKED)).collect(),
    });
    let sdk = open_sdk(options)?;
    let mut stream = stream_builder(&sdk, options)
        .ack_callback(Arc::new(LatencyCallback(Arc::clone(&samples))))
        .build()
        .await?;
    let record = event_record(options.size);

    let (cpu_start, _) = process_usage();
    let start = Instant::now();
    // The pacing thread works in 1 ms ticks, as `zerobus bench --rate` does: at each tick it
    // sends every record due by then, calling from outside the runtime's workers.
    let runtime = tokio::runtime::Handle::current();
    let paced = std::thread::scope(|scope| {
        scope
            .spawn(|| -> Result<(), Failure> {
                let mut index = 0;
                let mut tick = start;
                while index < records {
                    std::thread::sleep(tick.saturating_duration_since(Instant::now()));
                    tick += PACING_TICK;
                    let elapsed_ns = start.elapsed().as_nanos() as u64;
                    let due =
                        ((elapsed_ns * options.rate / 1_000_000_000) as usize + 1).min(records);
                    while index < due {
                        samples.sent_ns[index].store(samples.since_start(), Ordering::Release);
                        let offset =
                            runtime.block_on(stream.ingest_record_offset(record.clone()))?;
                        if offset != index as OffsetId {
                            return Err(format!("record {index} was given offset {offset}").into());
                        }
                        index += 1;
                    }
                }
                Ok(())
            })
            .join()
            .expect("the pacing thread does not panic")
    });
    paced?;
    stream.flush().await?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_usage().0 - cpu_start;
    // Close waits for the callbacks still queued: every ack has been counted after it.
    stream.close().await?;

    let mut latency_us = Vec::with_capacity(records);
    for (offset, latency) in samples.latency_ns.iter().enumerate() {
        match latency.load(Ordering::Acquire) {
            NOT_ACKED => {
                return Err(
                    format!("flush() returned, but offset {offset} had no ack callback").into(),
                )
            }
            nanoseconds => latency_us.push(nanoseconds as f64 / 1e3),
        }
    }
    latency_us.sort_by(f64::total_cmp);
    Ok(Figures {
        records: records as u64,
        seconds,
        cpu_seconds,
        latency_us: Some([0.5, 0.99, 0.999].map(|fraction| percentile(&latency_us, fraction))),
        size: None,
        note: format!(
            "per record: from its ingest_record_offset call to the ack callback for its offset; \
             calls from one plain thread that sends the records due at each 1 ms tick (block_on \
             the runtime's handle), none waiting for an ack; one stream; {}",
            stream_options_note(options)
        ),
    })
}

fn json_line(options: &Options, figures: &Figures) -> String {
    let round = |value: f64, digits: i32| (value * 10f64.powi(digits)).round() / 10f64.powi(digits);
    let mut line = serde_json::json!({
        "client": "official-rs",
        "version": version(),
        "mode": match options.mode {
            Mode::Throughput => "throughput",
            Mode::Latency => "latency",
            Mode::Arrow => "arrow",
        },
        "records": figures.records,
        "size": figures.size.unwrap_or(options.size),
        "batch": options.batch,
        "tasks": options.tasks,
        "lanes": options.lanes,
        "seconds": round(figures.seconds, 6),
        "cpu_seconds": round(figures.cpu_seconds, 6),
        "peak_rss_mib": round(process_usage().1, 1),
        "note": figures.note,
    });
    if let Some([p50, p99, p999]) = figures.latency_us {
        line["rate"] = options.rate.into();
        line["p50_us"] = round(p50, 1).into();
        line["p99_us"] = round(p99, 1).into();
        line["p999_us"] = round(p999, 1).into();
    }
    line.to_string()
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("official-rs-bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let figures = runtime.block_on(async {
        match options.mode {
            Mode::Throughput => run_throughput(&options).await,
            Mode::Latency => run_latency(&options).await,
            Mode::Arrow => run_arrow(&options).await,
        }
    });
    match figures {
        Ok(figures) => {
            println!("{}", json_line(&options, &figures));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("official-rs-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
