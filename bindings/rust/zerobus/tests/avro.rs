//! Avro streams, with apache-avro (an Avro implementation independent of libzerobus) as the
//! oracle: the datums it writes go through the binding into `zerobus serve`, and the stored
//! rows are checked.

mod support;

use std::time::Duration;

use apache_avro::Schema as AvroSchema;
use apache_avro::types::Value;
use serde_json::json;
use support::Server;
use zerobus::{ErrorCode, RecordFormat, Schema, Stream, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

/// The Avro tests' table, with a column of each kind of Avro type a Delta column maps to: a
/// plain long, nullable primitives, logical types, bytes and an array.
const AVRO_TABLE: &str = "main.default.avro_rs";
const AVRO_DDL: &str = "main.default.avro_rs (id BIGINT NOT NULL, s STRING, d DOUBLE, \
                        day DATE, ts TIMESTAMP, raw BINARY, tags ARRAY<STRING>)";

fn start() -> Server {
    Server::start(&["--table", AVRO_DDL])
}

/// The datum apache-avro writes for `record` under `writer_schema`.
fn datum(writer_schema: &str, record: Value) -> Vec<u8> {
    let schema = AvroSchema::parse_str(writer_schema).expect("apache-avro parses the schema");
    apache_avro::to_avro_datum(&schema, record).expect("apache-avro writes the datum")
}

/// A record of the table's writer schema, whose optional fields are unions of null (branch 0)
/// and their type (branch 1).
fn table_record(id: i64, optional: [Option<Value>; 6]) -> Value {
    let names = ["s", "d", "day", "ts", "raw", "tags"];
    let mut fields = vec![("id".to_string(), Value::Long(id))];
    for (name, value) in names.into_iter().zip(optional) {
        let branch = match value {
            Some(value) => Value::Union(1, Box::new(value)),
            None => Value::Union(0, Box::new(Value::Null)),
        };
        fields.push((name.to_string(), branch));
    }
    Value::Record(fields)
}

fn open(server: &Server, writer_schema: &str, options: &StreamOptions) -> zerobus::Result<Stream> {
    server
        .sdk()
        .create_stream(AVRO_TABLE, RecordFormat::Avro(writer_schema), options)
}

/// A stored row with every column of the table, `columns` set and the others null.
fn row(columns: serde_json::Value) -> serde_json::Value {
    let mut row = json!({"id": null, "s": null, "d": null, "day": null, "ts": null,
                         "raw": null, "tags": null});
    for (name, value) in columns.as_object().unwrap() {
        row[name] = value.clone();
    }
    row
}

#[test]
fn datums_apache_avro_writes_are_stored_as_written() {
    let server = start();
    let schema = Schema::from_ddl(AVRO_DDL).unwrap();
    let writer = schema.avro().unwrap();
    assert!(
        writer.contains(r#""logicalType":"timestamp-micros""#),
        "the TIMESTAMP column as timestamp-micros: {writer}"
    );
    let datums = [
        datum(
            writer,
            table_record(
                1,
                [
                    Some(Value::String("héllo".into())),
                    Some(Value::Double(-2.25)),
                    Some(Value::Date(19782)),
                    Some(Value::TimestampMicros(1_795_512_600_250_000)),
                    Some(Value::Bytes(vec![0, 1, 0xff])),
                    Some(Value::Array(vec![
                        Value::String("x".into()),
                        Value::String(String::new()),
                    ])),
                ],
            ),
        ),
        datum(writer, table_record(-2, Default::default())),
        datum(
            writer,
            table_record(
                3,
                [None, None, None, None, None, Some(Value::Array(Vec::new()))],
            ),
        ),
    ];

    let stream = open(&server, writer, &StreamOptions::new()).unwrap();
    assert_eq!(stream.ingest_avro(&datums[0]).unwrap(), 0);
    assert_eq!(stream.ingest_avro_batch(&datums[1..]).unwrap(), 2);
    stream.close(WAIT).unwrap();
    assert_eq!(
        server.rows_of(AVRO_TABLE),
        [
            row(json!({"id": 1, "s": "héllo", "d": -2.25, "day": 19782,
                       "ts": 1_795_512_600_250_000_i64, "raw": "AAH/", "tags": ["x", ""]})),
            row(json!({"id": -2})),
            row(json!({"id": 3, "tags": []})),
        ]
    );
}

#[test]
fn a_writer_schema_of_the_producers_own_is_read() {
    let server = start();
    // Another shape than the table's: int for BIGINT, a string that is not nullable, fields in
    // another order, columns left out.
    let writer = r#"{"type": "record", "name": "Event", "namespace": "producer", "fields": [
        {"name": "s", "type": "string"}, {"name": "id", "type": "int"}]}"#;
    let record = |s: &str, id: i32| {
        Value::Record(vec![
            ("s".into(), Value::String(s.into())),
            ("id".into(), Value::Int(id)),
        ])
    };
    let stream = open(&server, writer, &StreamOptions::new()).unwrap();
    stream
        .ingest_avro_batch(&[
            datum(writer, record("a", 10)),
            datum(writer, record("b", -11)),
        ])
        .unwrap();
    stream.close(WAIT).unwrap();
    assert_eq!(
        server.rows_of(AVRO_TABLE),
        [
            row(json!({"id": 10, "s": "a"})),
            row(json!({"id": -11, "s": "b"}))
        ]
    );
}

#[test]
fn a_writer_schema_that_does_not_fit_the_table_is_refused_naming_the_column() {
    let server = start();
    let writer = r#"{"type": "record", "name": "E", "fields": [{"name": "id", "type": "string"}]}"#;
    let refused = open(&server, writer, &StreamOptions::new().recovery(false)).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TRANSPORT, "{refused}");
    assert!(
        refused
            .message()
            .contains("column 'id': the writer's type is string, the column is bigint"),
        "{refused}"
    );
    let not_a_record = open(&server, r#""string""#, &StreamOptions::new()).unwrap_err();
    assert_eq!(
        not_a_record.code(),
        ErrorCode::INVALID_TARGET,
        "{not_a_record}"
    );
}

#[test]
fn a_schema_avro_stream_takes_json_and_datums() {
    let server = start();
    let schema = Schema::from_ddl(AVRO_DDL).unwrap();
    let stream = server
        .sdk()
        .create_avro_stream_from_schema(&schema, &StreamOptions::new())
        .unwrap();
    let own_datum = datum(
        schema.avro().unwrap(),
        table_record(8, [None, Some(Value::Double(0.5)), None, None, None, None]),
    );
    // The stream keeps what it needs of the schema.
    drop(schema);

    stream
        .ingest_json(r#"{"id": 5, "day": "2024-02-29", "tags": ["a"]}"#)
        .unwrap();
    let bad = stream.ingest_json(r#"{"id": "five"}"#).unwrap_err();
    assert_eq!(bad.code(), ErrorCode::INVALID_RECORD, "{bad}");
    stream
        .ingest_json_batch(&[r#"{"id": 6, "s": "six"}"#, r#"{"id": 7, "raw": "AAH/"}"#])
        .unwrap();
    assert_eq!(stream.ingest_avro(&own_datum).unwrap(), 3);
    stream.close(WAIT).unwrap();
    assert!(stream.unacked().unwrap().is_empty());
    assert_eq!(
        server.rows_of(AVRO_TABLE),
        [
            row(json!({"id": 5, "day": 19782, "tags": ["a"]})),
            row(json!({"id": 6, "s": "six"})),
            row(json!({"id": 7, "raw": "AAH/"})),
            row(json!({"id": 8, "d": 0.5})),
        ]
    );
    let closed = stream.ingest_avro(&own_datum).unwrap_err();
    assert_eq!(closed.code(), ErrorCode::CLOSED, "{closed}");
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn an_avro_stream_opens_and_ingests_asynchronously() {
    let server = start();
    let schema = std::sync::Arc::new(Schema::from_ddl(AVRO_DDL).unwrap());
    let sdk = server.sdk();
    let from_schema = sdk
        .create_avro_stream_from_schema_async(schema.clone(), &StreamOptions::new())
        .await
        .unwrap();
    let own = sdk
        .create_stream_async(
            AVRO_TABLE,
            RecordFormat::Avro(schema.avro().unwrap()),
            &StreamOptions::new(),
        )
        .await
        .unwrap();
    let writer = schema.avro().unwrap();
    let record = |id| datum(writer, table_record(id, Default::default()));
    from_schema.ingest_avro_async(&record(1)).await.unwrap();
    own.ingest_avro_batch_async(&[record(2), record(3)])
        .await
        .unwrap();
    from_schema.close_async().await.unwrap();
    own.close_async().await.unwrap();
    let mut ids: Vec<i64> = server
        .rows_of(AVRO_TABLE)
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3]);
}
