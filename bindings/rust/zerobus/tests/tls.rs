//! Mutual TLS: a `zerobus serve --tls` that requires client certificates signed by its own
//! authority accepts the client certificate it made, and refuses a stream without one.

mod support;

use std::time::Duration;

use support::{Server, TABLE};
use zerobus::{ErrorCode, RecordFormat, Sdk, SdkOptions, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_client_certificate_opens_a_stream_that_requires_one() {
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    let file = |name: &str| data_dir.path().join(name).to_str().unwrap().to_string();
    let (ca, cert, key) = (file("ca.pem"), file("client.pem"), file("client-key.pem"));
    let server = Server::start_in(data_dir, &["--tls", "--tls-client-ca", &ca]);

    let options = SdkOptions::new()
        .tls_ca_file(&ca)
        .client_certificate_files(&cert, &key);
    let sdk = Sdk::with_options(&server.endpoint, &options).expect("an SDK with a certificate");
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &StreamOptions::new())
        .expect("a stream with a client certificate");
    for id in 0..10 {
        stream
            .ingest_json(&format!(r#"{{"id": {id}, "payload": "tls {id}"}}"#))
            .unwrap();
    }
    stream.close(WAIT).unwrap();
    assert_eq!(server.stored_ids(), (0..10).collect::<Vec<i64>>());

    let without = Sdk::with_options(&server.endpoint, &SdkOptions::new().tls_ca_file(&ca))
        .expect("an SDK without a certificate");
    let error = without
        .create_stream(
            TABLE,
            RecordFormat::Json,
            &StreamOptions::new().recovery_retries(0),
        )
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::TRANSPORT, "{error}");
    assert_eq!(error.grpc_status(), Some(14), "{error}");
}
