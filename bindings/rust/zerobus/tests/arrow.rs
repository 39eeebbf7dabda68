//! Arrow streams (the `arrow` feature), with the `arrow` crates as the producer and the
//! reader: record batches of the Delta → Arrow types (`docs/SCHEMAS.md`), with nulls, go
//! through the Arrow C Data Interface into the library and over Arrow Flight into `zerobus
//! serve`, and the stored rows are checked; what the library gives back (unacked) arrow-ipc
//! reads; the batches' buffers are released once the library is done with them.
#![cfg(feature = "arrow")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array,
    Int32Array, Int64Array, LargeStringArray, RecordBatch, RecordBatchIterator, StringArray,
    StructArray, TimestampMicrosecondArray,
};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde_json::{Value, json};
use support::Server;
use zerobus::{ErrorCode, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);
const TABLE: &str = "main.default.arrow_rs";
const HELD: &str = "main.default.arrow_rs_held";
const COLUMNS: &str = "(id BIGINT NOT NULL, b BOOLEAN, i32 INT, d DOUBLE, s STRING, \
                       ls STRING, bin BINARY, day DATE, ts TIMESTAMP, dec DECIMAL(10,2), \
                       tags ARRAY<STRING>, loc STRUCT<lat: DOUBLE, lon: DOUBLE>)";

fn start(extra: &[&str]) -> Server {
    let table = format!("{TABLE} {COLUMNS}");
    let held = format!("{HELD} {COLUMNS}");
    let mut args = vec!["--table", &table, "--table", &held];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn loc_fields() -> Fields {
    Fields::from(vec![
        Field::new("lat", DataType::Float64, true),
        Field::new("lon", DataType::Float64, true),
    ])
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("b", DataType::Boolean, true),
        Field::new("i32", DataType::Int32, true),
        Field::new("d", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("ls", DataType::LargeUtf8, true),
        Field::new("bin", DataType::Binary, true),
        Field::new("day", DataType::Date32, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("dec", DataType::Decimal128(10, 2), true),
        Field::new_list("tags", Field::new_list_field(DataType::Utf8, true), true),
        Field::new_struct("loc", loc_fields(), true),
    ]))
}

/// Whether row `i` is all nulls but its id (every fourth row).
fn null_row(i: i64) -> bool {
    i % 4 == 3
}

/// The values of a column for rows `ids`: null on the rows that are all nulls.
fn values<T>(ids: &[i64], value: impl Fn(i64) -> T) -> Vec<Option<T>> {
    ids.iter()
        .map(|&i| (!null_row(i)).then(|| value(i)))
        .collect()
}

/// Rows `first..first + count` as one batch of [`schema`].
fn batch(first: i64, count: i64) -> RecordBatch {
    let ids: Vec<i64> = (first..first + count).collect();
    let mut tags = ListBuilder::new(StringBuilder::new());
    for &i in &ids {
        if null_row(i) {
            tags.append_null();
        } else {
            for j in 0..i % 3 {
                tags.values().append_value(format!("t{j}"));
            }
            tags.append(true);
        }
    }
    let lat: Vec<Option<f64>> = ids.iter().map(|&i| Some(52.5 + i as f64)).collect();
    let lon: Vec<Option<f64>> = ids.iter().map(|&i| (i % 2 == 0).then_some(13.4)).collect();
    let loc = StructArray::new(
        loc_fields(),
        vec![
            Arc::new(Float64Array::from(lat)) as ArrayRef,
            Arc::new(Float64Array::from(lon)),
        ],
        Some(ids.iter().map(|&i| !null_row(i)).collect()),
    );
    let sign = |i: i64| if i % 2 == 1 { -1 } else { 1 };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(BooleanArray::from(values(&ids, |i| i % 2 == 0))),
        Arc::new(Int32Array::from(values(&ids, |i| i32::MAX - i as i32))),
        Arc::new(Float64Array::from(values(&ids, |i| {
            -2.25e10 + 0.5 * i as f64
        }))),
        Arc::new(StringArray::from(values(&ids, |i| format!("s{i} Grüße ✓")))),
        Arc::new(LargeStringArray::from(values(&ids, |i| {
            "large ".repeat(i as usize)
        }))),
        Arc::new(BinaryArray::from_iter(values(&ids, |i| {
            vec![0u8, 255, i as u8]
        }))),
        Arc::new(Date32Array::from(values(&ids, |i| {
            20_428 - 400 * (i as i32 % 20)
        }))),
        Arc::new(
            TimestampMicrosecondArray::from(values(&ids, |i| 1_796_598_000_123_456 + i))
                .with_timezone("UTC"),
        ),
        Arc::new(
            Decimal128Array::from(values(&ids, |i| i128::from(sign(i) * (i * 100 + i % 10))))
                .with_precision_and_scale(10, 2)
                .expect("a decimal(10,2)"),
        ),
        Arc::new(tags.finish()),
        Arc::new(loc),
    ];
    RecordBatch::try_new(schema(), columns).expect("the batch fits its schema")
}

/// Row `i` as `zerobus rows` prints it.
fn stored(i: i64) -> Value {
    if null_row(i) {
        return json!({"id": i, "b": null, "i32": null, "d": null, "s": null, "ls": null,
                      "bin": null, "day": null, "ts": null, "dec": null, "tags": null,
                      "loc": null});
    }
    let bin = [0u8, 255, i as u8];
    let base64 = {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let word = (u32::from(bin[0]) << 16) | (u32::from(bin[1]) << 8) | u32::from(bin[2]);
        (0..4)
            .map(|k| ALPHABET[((word >> (18 - 6 * k)) & 63) as usize] as char)
            .collect::<String>()
    };
    let unscaled = if i % 2 == 1 { -1 } else { 1 } * (i * 100 + i % 10);
    let tags: Vec<String> = (0..i % 3).map(|j| format!("t{j}")).collect();
    json!({
        "id": i,
        "b": i % 2 == 0,
        "i32": i32::MAX - i as i32,
        "d": -2.25e10 + 0.5 * i as f64,
        "s": format!("s{i} Grüße ✓"),
        "ls": "large ".repeat(i as usize),
        "bin": base64,
        "day": 20_428 - 400 * (i % 20),
        "ts": 1_796_598_000_123_456 + i,
        "dec": format!("{}{}.{:02}", if unscaled < 0 { "-" } else { "" }, unscaled.abs() / 100, unscaled.abs() % 100),
        "tags": tags,
        "loc": {"lat": 52.5 + i as f64, "lon": if i % 2 == 0 { json!(13.4) } else { Value::Null }},
    })
}

fn stored_rows(ids: impl IntoIterator<Item = i64>) -> Vec<Value> {
    ids.into_iter().map(stored).collect()
}

fn ipc(batches: &[RecordBatch]) -> Vec<u8> {
    let mut writer = StreamWriter::try_new(Vec::new(), &schema()).expect("an IPC writer");
    for each in batches {
        writer.write(each).expect("the batch is written");
    }
    writer.into_inner().expect("the IPC stream ends")
}

#[test]
fn batches_readers_and_ipc_are_stored_as_written() {
    let server = start(&[]);
    let stream = server
        .sdk()
        .arrow_stream(TABLE, &schema(), &StreamOptions::new())
        .expect("the Arrow stream opens");
    assert_eq!(stream.ingest_arrow(batch(0, 8)).expect("a batch"), 0);
    // A slice: its arrays start at a non-zero offset.
    assert_eq!(
        stream
            .ingest_arrow(batch(100, 12).slice(3, 6))
            .expect("a slice"),
        1
    );
    let read = [batch(20, 3), batch(23, 0), batch(23, 4)].map(Ok);
    let reader = RecordBatchIterator::new(read, schema());
    assert_eq!(
        stream.ingest_arrow_reader(reader).expect("a reader"),
        (3, 2)
    );
    assert_eq!(
        stream
            .ingest_arrow_ipc(&ipc(&[batch(30, 2), batch(32, 5)]))
            .expect("IPC bytes"),
        (5, 2)
    );
    stream.close(WAIT).expect("every batch is acknowledged");
    assert_eq!(stream.info().expect("info").records_acked, 6);
    let ids = (0..8).chain(103..109).chain(20..27).chain(30..37);
    assert_eq!(server.rows_of(TABLE), stored_rows(ids));
}

#[test]
fn a_stream_opened_from_ipc_bytes_takes_batches() {
    let server = start(&[]);
    let stream = server
        .sdk()
        .arrow_stream_ipc(TABLE, &ipc(&[]), &StreamOptions::new())
        .expect("the Arrow stream opens");
    assert_eq!(stream.ingest_arrow(batch(0, 3)).expect("a batch"), 0);
    let empty = stream.ingest_arrow(batch(3, 0)).expect_err("no rows");
    assert_eq!(empty.code(), ErrorCode::EMPTY_BATCH);
    stream.close(WAIT).expect("acknowledged");
    assert_eq!(server.rows_of(TABLE), stored_rows(0..3));
}

#[test]
fn a_schema_that_does_not_fit_is_refused_naming_the_column() {
    let server = start(&[]);
    let sdk = server.sdk();
    let retyped = |name: &str, data_type: DataType| {
        let fields: Vec<Field> = schema()
            .fields()
            .iter()
            .map(|field| {
                if field.name() == name {
                    Field::new(name, data_type.clone(), true)
                } else {
                    field.as_ref().clone()
                }
            })
            .collect();
        Arc::new(Schema::new(fields))
    };
    let refused = sdk
        .arrow_stream(
            TABLE,
            &retyped("s", DataType::Int64),
            &StreamOptions::new().set("recovery.retries", "0"),
        )
        .expect_err("s is a STRING");
    assert_eq!(refused.code(), ErrorCode::TRANSPORT);
    assert!(
        refused.message().contains("column 's'"),
        "{}",
        refused.message()
    );

    let stream = sdk
        .arrow_stream(TABLE, &schema(), &StreamOptions::new())
        .expect("the Arrow stream opens");
    let mut columns = batch(0, 2).columns().to_vec();
    columns[1] = Arc::new(Int64Array::from(vec![1, 0]));
    let other = RecordBatch::try_new(retyped("b", DataType::Int64), columns).expect("a batch");
    let differs = stream.ingest_arrow(other).expect_err("b differs");
    assert_eq!(differs.code(), ErrorCode::INVALID_SCHEMA);
    assert!(differs.message().contains("'b'"), "{}", differs.message());
    let record = stream
        .try_ingest_json(r#"{"id": 1}"#)
        .expect_err("an Arrow stream");
    assert_eq!(record.code(), ErrorCode::RECORD_TYPE);
    assert_eq!(
        stream
            .ingest_arrow(batch(0, 1))
            .expect("the stream goes on"),
        0
    );
    stream.close(WAIT).expect("acknowledged");
    assert_eq!(server.rows_of(TABLE), stored_rows(0..1));
}

#[test]
fn unacked_batches_are_ipc_that_arrow_ipc_reads_back() {
    let fault = format!("{HELD}:withhold_acks=true");
    let server = start(&["--fault", &fault]);
    let stream = server
        .sdk()
        .arrow_stream(HELD, &schema(), &StreamOptions::new())
        .expect("the Arrow stream opens");
    let sent = [batch(0, 4), batch(10, 12).slice(5, 3)];
    for (offset, each) in sent.iter().enumerate() {
        assert_eq!(
            stream.ingest_arrow(each.clone()).expect("a batch"),
            offset as u64
        );
    }
    let timed_out = stream
        .close(Duration::from_millis(200))
        .expect_err("acks withheld");
    assert_eq!(timed_out.code(), ErrorCode::TIMEOUT);
    let unacked = stream.unacked().expect("unacked");
    assert_eq!(unacked.len(), 2);
    for (record, each) in unacked.iter().zip(&sent) {
        let reader = StreamReader::try_new(record.data, None).expect("an IPC stream");
        assert_eq!(reader.schema(), schema());
        let read: Vec<RecordBatch> = reader.map(|read| read.expect("a batch")).collect();
        assert_eq!(read, vec![each.clone()]);
    }
}

#[test]
fn the_library_releases_each_batch_it_took() {
    let fault = format!("{HELD}:withhold_acks=true");
    let server = start(&["--fault", &fault]);
    let sdk = server.sdk();
    // A column whose buffer the test keeps: its strong count says who else holds it.
    let held_count = |stream: &zerobus::Stream, acked: bool| {
        let batch = batch(0, 50);
        let ids = batch.column(0).to_data().buffers()[0].clone();
        assert_eq!(stream.ingest_arrow(batch).expect("a batch"), 0);
        if acked {
            stream.flush(WAIT).expect("acknowledged");
        }
        ids
    };
    let held = sdk
        .arrow_stream(HELD, &schema(), &StreamOptions::new())
        .expect("the Arrow stream opens");
    let ids = held_count(&held, false);
    assert!(
        ids.strong_count() > 1,
        "the library holds the batch until its ack"
    );
    drop(held); // never acknowledged: released with the stream
    assert_eq!(ids.strong_count(), 1);

    let stream = sdk
        .arrow_stream(TABLE, &schema(), &StreamOptions::new())
        .expect("the Arrow stream opens");
    let ids = held_count(&stream, true);
    assert_eq!(ids.strong_count(), 1, "released once acknowledged");
    // A refused batch is released before the call returns.
    let mut columns = batch(0, 1).columns().to_vec();
    let probe = columns[0].to_data().buffers()[0].clone();
    columns[0] = Arc::new(Int64Array::from(columns[0].to_data()));
    let wrong = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("zz", DataType::Int64, false)])),
        vec![columns.swap_remove(0)],
    )
    .expect("a batch");
    assert!(stream.ingest_arrow(wrong).is_err());
    assert_eq!(probe.strong_count(), 1);
}

#[test]
fn a_reader_goes_on_after_a_full_window() {
    let server = start(&[]);
    // A window of one batch: the reader's C stream is refused at its second batch, and the
    // binding hands the refused batch again, then the rest, as room comes.
    let options = StreamOptions::new()
        .set("stream.max.inflight.records", "1")
        .ingest_timeout(WAIT);
    let stream = server
        .sdk()
        .arrow_stream(TABLE, &schema(), &options)
        .expect("the Arrow stream opens");
    let read: Vec<_> = (0..20).map(|k| Ok(batch(k * 5, 5))).collect();
    let reader = RecordBatchIterator::new(read, schema());
    assert_eq!(
        stream.ingest_arrow_reader(reader).expect("every batch"),
        (19, 20)
    );
    stream.close(WAIT).expect("acknowledged");
    assert_eq!(server.rows_of(TABLE), stored_rows(0..100));
}

#[test]
fn an_async_ingest_waits_for_room() {
    let server = start(&[]);
    let options = StreamOptions::new().set("stream.max.inflight.records", "1");
    let stream = server
        .sdk()
        .arrow_stream(TABLE, &schema(), &options)
        .expect("the Arrow stream opens");
    let last = futures::executor::block_on(async {
        let mut last = 0;
        for k in 0..10 {
            last = stream.ingest_arrow_async(batch(k * 3, 3)).await?;
        }
        stream.wait_for_offset_async(last).await?;
        Ok::<u64, zerobus::Error>(last)
    })
    .expect("every batch is acknowledged");
    assert_eq!(last, 9);
    assert_eq!(server.rows_of(TABLE), stored_rows(0..30));
}
