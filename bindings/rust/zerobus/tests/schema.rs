//! Schemas from DDL and from the Unity Catalog description: their descriptor and source, the
//! JSON encoder, and streams opened from them.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Server, TABLE, TABLE_DDL, event_record};
use zerobus::{ErrorCode, Schema, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_ddl_schema_describes_and_encodes_the_table() {
    let schema = Schema::from_ddl(TABLE_DDL).unwrap();
    assert_eq!(schema.table_name(), TABLE);
    assert!(!schema.descriptor().is_empty());
    let source = schema.proto_source();
    assert!(
        source.contains("message") && source.contains("payload"),
        "{source}"
    );
    let record = schema
        .encode_json(r#"{"id": 5, "payload": "five"}"#)
        .unwrap();
    // Field 1 a varint, field 2 length-delimited.
    assert_eq!(record, b"\x08\x05\x12\x04five");
    // A payload longer than its JSON text would suggest still encodes in full.
    let long = "x".repeat(300);
    let encoded = schema
        .encode_json(&json!({"payload": long}).to_string())
        .unwrap();
    assert!(encoded.ends_with(long.as_bytes()));

    let bad = schema.encode_json(r#"{"id": "five"}"#).unwrap_err();
    assert_eq!(bad.code(), ErrorCode::INVALID_RECORD, "{bad}");
    assert!(
        bad.message().contains("id"),
        "the message names the column: {bad}"
    );
}

#[test]
fn malformed_schemas_are_refused() {
    let ddl = Schema::from_ddl("main.default.t (id NOSUCHTYPE)").unwrap_err();
    assert_eq!(ddl.code(), ErrorCode::INVALID_SCHEMA, "{ddl}");
    let described = Schema::from_table_json("{}").unwrap_err();
    assert_eq!(described.code(), ErrorCode::INVALID_SCHEMA, "{described}");
}

#[test]
fn a_stream_from_the_catalog_schema_takes_json_and_proto() {
    let server = Server::start(&[]);
    let schema = Schema::from_table_json(&server.table_json()).unwrap();
    assert_eq!(schema.table_name(), TABLE);
    let sdk = server.sdk();
    let stream = sdk
        .create_stream_from_schema(&schema, &StreamOptions::new())
        .unwrap();
    drop(schema);
    assert_eq!(
        stream
            .ingest_json(r#"{"id": 1, "payload": "json"}"#)
            .unwrap(),
        0
    );
    assert_eq!(stream.ingest_proto(&event_record(2, "proto")).unwrap(), 1);
    let batch = [r#"{"id": 3, "payload": "batch"}"#, r#"{"id": "three"}"#];
    let refused = stream.ingest_json_batch(&batch).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::INVALID_RECORD, "{refused}");
    stream.close(WAIT).unwrap();
    assert_eq!(
        server.rows(),
        vec![
            json!({"id": 1, "payload": "json"}),
            json!({"id": 2, "payload": "proto"})
        ]
    );
}
