//! The example runs as its documentation says, against a real server.

mod support;

use std::process::Command;

use support::{Server, TABLE};

#[test]
fn the_ingest_json_example_stores_its_records() {
    let server = Server::start(&[]);
    // cargo test builds the examples into target/<profile>/examples, beside deps/ where the
    // test binary is (run `cargo build --example ingest_json` first to run this test alone).
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let example = deps.parent().unwrap().join("examples/ingest_json");
    let output = Command::new(&example)
        .args([server.endpoint.as_str(), TABLE, "25"])
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", example.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), format!("25 records durable in {TABLE}"));
    assert_eq!(server.stored_ids(), (0..25).collect::<Vec<_>>());
}
