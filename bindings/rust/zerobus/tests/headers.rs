//! The headers provider: its headers authenticate streams, and its failures fail them.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{Server, TABLE};
use zerobus::{ErrorCode, RecordFormat, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);
const GRPC_UNAUTHENTICATED: i32 = 16;

#[test]
fn a_provider_token_authenticates_the_stream() {
    let server = Arc::new(Server::start(&["--auth", "test-client:test-secret"]));
    let sdk = server.sdk();
    let refused = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TRANSPORT, "{refused}");
    assert_eq!(
        refused.grpc_status(),
        Some(GRPC_UNAUTHENTICATED),
        "{refused}"
    );

    let calls = Arc::new(AtomicUsize::new(0));
    let options = StreamOptions::new().headers_provider({
        let (server, calls) = (Arc::clone(&server), Arc::clone(&calls));
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(vec![(
                "authorization".to_string(),
                format!("Bearer {}", server.token()),
            )])
        }
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &options)
        .unwrap();
    stream
        .ingest_json(r#"{"id": 3, "payload": "authenticated"}"#)
        .unwrap();
    stream.close(WAIT).unwrap();
    // Once per connection attempt: a loaded machine may need more than one.
    assert!(calls.load(Ordering::SeqCst) >= 1);
    assert_eq!(server.stored_ids(), vec![3]);
}

#[test]
fn a_failing_provider_fails_the_connection_with_auth() {
    let server = Server::start(&[]);
    let sdk = server.sdk();
    let open = |options: StreamOptions| {
        let options = options.recovery(false);
        sdk.create_stream(TABLE, RecordFormat::Json, &options)
            .map(drop)
    };
    let header = |name: &str, value: &str| Ok(vec![(name.to_string(), value.to_string())]);
    let failures = [
        (
            "error",
            StreamOptions::new().headers_provider(|| Err("no token today".into())),
        ),
        (
            "panic",
            StreamOptions::new().headers_provider(|| panic!("a deliberate provider bug")),
        ),
        (
            "bad name",
            StreamOptions::new().headers_provider(move || header("Bad Name", "x")),
        ),
        (
            "bad value",
            StreamOptions::new().headers_provider(move || header("x-ok", "tab\there")),
        ),
        (
            "NUL byte",
            StreamOptions::new().headers_provider(move || header("x-ok", "a\0b")),
        ),
    ];
    for (what, options) in failures {
        let error = open(options).unwrap_err();
        assert_eq!(error.code(), ErrorCode::AUTH, "{what}: {error}");
    }
    open(StreamOptions::new().headers_provider(move || header("x-test-header", "1"))).unwrap();
}
