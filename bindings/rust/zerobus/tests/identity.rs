//! How the binding names itself to the server: the library, then `rust/<compiler version>`,
//! then the application, as `zerobus serve` counted them per table (what follows is the HTTP/2
//! client's own name, which depends on `transport.engine` and which the library's own tests
//! check).

mod support;

use std::time::Duration;

use support::{Server, TABLE};
use zerobus::{ErrorCode, RecordFormat, Sdk, SdkOptions, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);
const NAMED_TABLE: &str = "bench.default.named";

#[test]
fn the_server_sees_the_library_the_binding_and_the_application() {
    let named_ddl = format!("{NAMED_TABLE} (id BIGINT, payload STRING)");
    let server = Server::start(&["--table", &named_ddl]);
    let rust = concat!("rust/", env!("ZEROBUS_RUSTC_VERSION"));
    let library = format!("libzerobus/{}", zerobus::library_version());
    let cases = [
        (TABLE, SdkOptions::new(), format!("{library} {rust} ")),
        (
            NAMED_TABLE,
            SdkOptions::new().application_name("rust-test/1.0"),
            format!("{library} {rust} rust-test/1.0 "),
        ),
    ];
    for (table, options, expected) in cases {
        let sdk = Sdk::with_options(&server.endpoint, &options.plaintext(true)).unwrap();
        let stream = sdk
            .create_stream(table, RecordFormat::Json, &StreamOptions::new())
            .unwrap();
        stream.close(WAIT).unwrap();
        let agents = server.user_agents(table);
        let agents = agents.as_object().expect("user_agents is an object");
        assert_eq!(agents.len(), 1, "{agents:?}");
        let (agent, streams) = agents.iter().next().unwrap();
        assert!(
            agent.starts_with(&expected),
            "{agent:?}, want {expected:?}..."
        );
        assert_eq!(streams.as_i64(), Some(1), "{agents:?}");
    }

    let refused = Sdk::with_options(
        &server.endpoint,
        &SdkOptions::new()
            .plaintext(true)
            .application_name("two\nlines"),
    )
    .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::INVALID_VALUE, "{refused}");
}
