//! Token federation against `zerobus serve --federation-key`: a closure hands the library the
//! subject JWT, which `zerobus idp` signs (the test needs no crypto of its own), and the
//! library exchanges it for the stream's token.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{Server, TABLE, zerobus_binary};
use zerobus::{ErrorCode, RecordFormat, Sdk, SdkOptions, StreamOptions};

const WAIT: Duration = Duration::from_secs(30);

type ProviderResult = Result<String, Box<dyn std::error::Error + Send + Sync>>;

/// `zerobus idp`: a key pair in a directory of the test's.
struct IdentityProvider {
    dir: tempfile::TempDir,
}

impl IdentityProvider {
    fn new() -> IdentityProvider {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let made = Command::new(zerobus_binary())
            .args(["idp", "keygen"])
            .arg(dir.path())
            .output()
            .expect("zerobus idp keygen runs");
        assert!(made.status.success(), "zerobus idp keygen: {made:?}");
        IdentityProvider { dir }
    }

    /// The PEM file `zerobus serve --federation-key` takes.
    fn public_key(&self) -> PathBuf {
        self.dir.path().join("idp.pem")
    }

    /// A JWT signed with the provider's key, good for ten minutes.
    fn sign(&self) -> ProviderResult {
        sign_with(&self.dir.path().join("idp-key.pem"))
    }
}

fn sign_with(key: &Path) -> ProviderResult {
    let signed = Command::new(zerobus_binary())
        .args(["idp", "sign"])
        .arg(key)
        .output()?;
    if !signed.status.success() {
        return Err(format!("zerobus idp sign: {signed:?}").into());
    }
    Ok(String::from_utf8(signed.stdout)?.trim().to_string())
}

fn federation_sdk(server: &Server) -> Sdk {
    let options = SdkOptions::new()
        .plaintext(true)
        .workspace_url(server.workspace_url());
    Sdk::with_options(&server.endpoint, &options).expect("an SDK")
}

#[test]
fn a_trusted_subject_token_opens_the_stream() {
    let idp = Arc::new(IdentityProvider::new());
    let key = idp.public_key();
    let server = Server::start(&["--federation-key", key.to_str().unwrap()]);
    let sdk = federation_sdk(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let options = StreamOptions::new().token_federation({
        let (idp, calls) = (Arc::clone(&idp), Arc::clone(&calls));
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
            idp.sign()
        }
    });
    let stream = sdk
        .create_stream(TABLE, RecordFormat::Json, &options)
        .unwrap();
    stream
        .ingest_json(r#"{"id": 7, "payload": "federated"}"#)
        .unwrap();
    stream.close(WAIT).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(server.stored_ids(), vec![7]);
}

#[test]
fn a_wrong_token_an_error_or_a_panic_is_refused_with_auth() {
    let trusted = IdentityProvider::new();
    let key = trusted.public_key();
    let server = Server::start(&["--federation-key", key.to_str().unwrap()]);
    let sdk = federation_sdk(&server);
    let other = Arc::new(IdentityProvider::new());
    let open = |options: StreamOptions| {
        let options = options.recovery(false);
        sdk.create_stream(TABLE, RecordFormat::Json, &options)
            .map(drop)
            .unwrap_err()
    };
    let refusals = [
        (
            "another provider's JWT",
            open(StreamOptions::new().token_federation(move || other.sign())),
        ),
        (
            "an error",
            open(StreamOptions::new().token_federation(|| Err("no token today".into()))),
        ),
        (
            "an empty token",
            open(StreamOptions::new().token_federation(|| Ok(String::new()))),
        ),
        (
            "a panic",
            open(StreamOptions::new().token_federation(|| panic!("the provider broke"))),
        ),
    ];
    for (what, error) in refusals {
        assert_eq!(error.code(), ErrorCode::AUTH, "{what}: {error}");
    }
    assert!(server.stored_ids().is_empty());
}

#[test]
fn the_federation_client_id_names_the_service_principal() {
    let idp = Arc::new(IdentityProvider::new());
    let key = idp.public_key();
    let server = Server::start(&[
        "--federation-key",
        key.to_str().unwrap(),
        "--auth",
        "the-sp:its-secret",
    ]);
    let sdk = federation_sdk(&server);
    let open = |client_id: &str| {
        let idp = Arc::clone(&idp);
        let options = StreamOptions::new()
            .token_federation(move || idp.sign())
            .federation_client_id(client_id)
            .recovery(false);
        sdk.create_stream(TABLE, RecordFormat::Json, &options)
    };
    open("the-sp").unwrap().close(WAIT).unwrap();
    let refused = open("someone-else").map(drop).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AUTH, "{refused}");
}
