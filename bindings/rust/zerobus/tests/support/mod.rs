//! What the integration tests and `examples/bench.rs` share: a `zerobus serve` child process
//! on a free loopback port, the rows it stored, its admin endpoint for faults, and the test
//! table's protobuf records, encoded by the library.
// Each test crate includes this module and uses a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use zerobus::{Ack, Schema, Sdk, SdkOptions};

/// How long `zerobus serve` may take to start listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The table every test writes to.
pub const TABLE: &str = "bench.default.events";

/// Its declaration for `zerobus serve --table`.
pub const TABLE_DDL: &str = "bench.default.events (id BIGINT, payload STRING)";

/// The table's protobuf record type as the library derives it from the DDL (`message {
/// optional int64 id = 1; optional string payload = 2; }`): the tests take its descriptor and
/// its records from the library instead of writing protobuf bytes by hand.
static EVENT_SCHEMA: LazyLock<Schema> =
    LazyLock::new(|| Schema::from_ddl(TABLE_DDL).expect("the test table's DDL"));

/// The record type's serialized `DescriptorProto`.
pub fn event_descriptor() -> &'static [u8] {
    EVENT_SCHEMA.descriptor()
}

/// A row of the test table as a protobuf record, encoded by the library from its JSON.
pub fn event_record(id: i64, payload: &str) -> Vec<u8> {
    let row = serde_json::json!({"id": id, "payload": payload});
    EVENT_SCHEMA
        .encode_json(&row.to_string())
        .expect("a row of the test table encodes")
}

/// The path of the `zerobus` binary, from `ZEROBUS_SERVE_BIN`; a test without it fails.
pub fn zerobus_binary() -> String {
    std::env::var("ZEROBUS_SERVE_BIN").expect(
        "ZEROBUS_SERVE_BIN must name the zerobus binary (test.sh sets it to PREFIX/bin/zerobus)",
    )
}

/// A `zerobus serve` process, killed when dropped, with its own data directory.
pub struct Server {
    child: Child,
    data_dir: tempfile::TempDir,
    /// The gRPC endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The admin endpoint's `127.0.0.1:PORT`.
    admin_address: String,
    /// The workspace endpoint's (Unity Catalog and OAuth) `127.0.0.1:PORT`.
    workspace_address: String,
}

impl Server {
    /// Starts `zerobus serve` with the test table and `extra_args` (say `--fault ...`), and
    /// returns once it listens: it then writes its addresses to its ready file.
    pub fn start(extra_args: &[&str]) -> Server {
        Server::start_in(
            tempfile::tempdir().expect("a temporary data directory"),
            extra_args,
        )
    }

    /// As [`Server::start`], with the data directory `data_dir`, where `--tls` keeps its
    /// certificates.
    pub fn start_in(data_dir: tempfile::TempDir, extra_args: &[&str]) -> Server {
        // The server logs every stream on stderr: kept out of the test output, shown when it
        // does not start.
        let log_path = data_dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).expect("a log file");
        let ready_path = data_dir.path().join("ready.json");
        let mut child = Command::new(zerobus_binary())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--table",
                TABLE_DDL,
                "--data-dir",
            ])
            .arg(data_dir.path())
            .arg("--ready-file")
            .arg(&ready_path)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("zerobus serve starts");
        let ready = match wait_for_ready_file(&ready_path, &mut child) {
            Ok(ready) => ready,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("zerobus serve did not start listening: {why}\n{log}");
            }
        };
        let address = |side: &str| -> String {
            let host = ready[side]["host"].as_str().expect("a host");
            let port = ready[side]["port"].as_u64().expect("a port");
            format!("{host}:{port}")
        };
        Server {
            endpoint: ready["grpc"]["url"].as_str().expect("a URL").to_string(),
            admin_address: address("admin"),
            workspace_address: address("http"),
            child,
            data_dir,
        }
    }

    /// An SDK for the server: plaintext, which a local server speaks.
    pub fn sdk(&self) -> Sdk {
        Sdk::with_options(&self.endpoint, &SdkOptions::new().plaintext(true)).expect("an SDK")
    }

    /// The workspace's URL, `http://127.0.0.1:PORT`, where tokens are requested.
    pub fn workspace_url(&self) -> String {
        format!("http://{}", self.workspace_address)
    }

    /// The Unity Catalog description of the test table, as the workspace API serves it.
    pub fn table_json(&self) -> String {
        let path = format!("/api/2.1/unity-catalog/tables/{TABLE}");
        let (status, body) = http(&self.workspace_address, "GET", &path, "text/plain", &[], "");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The rows stored in the test table, oldest first, as `zerobus rows` prints them.
    pub fn rows(&self) -> Vec<serde_json::Value> {
        self.rows_of(TABLE)
    }

    /// The rows stored in `table`, as [`Server::rows`] reads those of the test table.
    pub fn rows_of(&self, table: &str) -> Vec<serde_json::Value> {
        let output = Command::new(zerobus_binary())
            .args(["rows", table, "--data-dir"])
            .arg(self.data_dir.path())
            .output()
            .expect("zerobus rows runs");
        assert!(
            output.status.success(),
            "zerobus rows failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a row is a JSON object"))
            .collect()
    }

    /// The `id` of every stored row, in storage order.
    pub fn stored_ids(&self) -> Vec<i64> {
        self.rows()
            .iter()
            .map(|row| row["id"].as_i64().expect("every row has an id"))
            .collect()
    }

    /// Replaces the test table's fault plan through the admin endpoint (`{}` clears it).
    pub fn set_faults(&self, plan: &str) {
        let path = format!("/admin/faults/{TABLE}");
        let (status, body) = http(
            &self.admin_address,
            "PUT",
            &path,
            "application/json",
            &[],
            plan,
        );
        assert_eq!(status, 200, "PUT {path} {plan}: {body}");
    }

    /// The user-agents of the streams opened on `table` and how many streams carried each, from
    /// the admin endpoint's statistics.
    pub fn user_agents(&self, table: &str) -> serde_json::Value {
        self.table_stats(table)["user_agents"].clone()
    }

    /// The admin endpoint's statistics of `table`: streams opened, closed by the client
    /// (half-closed) or cancelled by it, requests, records, user-agents.
    pub fn table_stats(&self, table: &str) -> serde_json::Value {
        let (status, body) = http(
            &self.admin_address,
            "GET",
            "/admin/stats",
            "text/plain",
            &[],
            "",
        );
        assert_eq!(status, 200, "GET /admin/stats: {body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        stats["tables"][table].clone()
    }

    /// A bearer token for the test table from the server's OAuth endpoint (`zerobus serve
    /// --auth test-client:test-secret`), as the client-credentials flow asks for it.
    pub fn token(&self) -> String {
        let (catalog, schema) = TABLE.rsplit_once('.').unwrap().0.split_once('.').unwrap();
        let privileges = |object_type: &str, path: &str, privileges: &[&str]| {
            serde_json::json!({"type": "unity_catalog_privileges", "object_type": object_type,
                               "object_full_path": path, "privileges": privileges})
        };
        let mut table_grant = privileges("TABLE", TABLE, &["SELECT", "MODIFY"]);
        // The operation a Zerobus token is for, without which the endpoint refuses the grant.
        table_grant["operations"] = serde_json::json!(["zerobuswrite"]);
        let details = serde_json::json!([
            privileges("CATALOG", catalog, &["USE CATALOG"]),
            privileges("SCHEMA", &format!("{catalog}.{schema}"), &["USE SCHEMA"]),
            table_grant,
        ]);
        let form = [
            ("grant_type", "client_credentials".to_string()),
            ("scope", "all-apis".to_string()),
            (
                "resource",
                "api://databricks/workspaces/1/zerobusDirectWriteApi".to_string(),
            ),
            ("authorization_details", details.to_string()),
        ]
        .iter()
        .map(|(key, value)| format!("{key}={}", form_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
        // "test-client:test-secret" in base64, for HTTP Basic.
        let basic = ("Authorization", "Basic dGVzdC1jbGllbnQ6dGVzdC1zZWNyZXQ=");
        let content_type = "application/x-www-form-urlencoded";
        let (status, body) = http(
            &self.workspace_address,
            "POST",
            "/oidc/v1/token",
            content_type,
            &[basic],
            &form,
        );
        assert_eq!(status, 200, "token endpoint: {body}");
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        reply["access_token"]
            .as_str()
            .expect("an access_token")
            .to_string()
    }
}

/// The ready file `zerobus serve --ready-file` writes once it listens, parsed. The server writes
/// it whole by a rename, so a file that exists is complete; an absent one is cheap to look for
/// again. An error when the server exits first or does not write it in time.
fn wait_for_ready_file(path: &Path, child: &mut Child) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                return serde_json::from_str(&text).map_err(|e| format!("the ready file: {e}"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("the ready file: {e}")),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited ({status}) before it was ready"));
        }
        if Instant::now() > deadline {
            return Err(format!("no ready file within {STARTUP_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One HTTP/1.1 request to `address`; the response's status and body.
fn http(
    address: &str,
    method: &str,
    path: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut connection = TcpStream::connect(address).expect("the server's HTTP side");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request += &format!("{name}: {value}\r\n");
    }
    write!(connection, "{request}\r\n{body}").unwrap();
    let mut response = String::new();
    connection.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok());
    (status.expect("an HTTP status line"), body.to_string())
}

/// `value` as application/x-www-form-urlencoded wants it.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts that `acks` are all durable and cover offsets `0..=last_offset` in order, each
/// range starting right after the previous one.
pub fn assert_acked_in_order(acks: &[Ack], last_offset: u64) {
    let mut next = 0;
    for ack in acks {
        assert!(ack.error().is_none(), "unexpected failure: {ack:?}");
        assert_eq!(*ack.offsets().start(), next, "acks out of order: {acks:?}");
        assert!(ack.offsets().end() >= ack.offsets().start());
        next = ack.offsets().end() + 1;
    }
    assert_eq!(next, last_offset + 1, "acks stop short: {acks:?}");
}
