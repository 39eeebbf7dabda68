//! Builders for the options of an SDK and of a stream, turned into a `zb_config` when the SDK
//! or stream is created.

use std::ffi::{CStr, c_void};
use std::fmt;
use std::ptr::{NonNull, null_mut};
use std::sync::Arc;
use std::time::Duration;

use zerobus_sys as sys;

use log::LevelFilter;

use crate::callbacks::{
    self, AckCallback, HeadersProvider, StatsCallback, SubjectTokenProvider, WakeupCallback,
};
use crate::error::{Result, call};
use crate::events::{self, Hub};
use crate::reactor::Reactor;
use crate::{Ack, c_string, logging, timeout_ms};

/// The binding's part of the user-agent, after the library's name and version (which the
/// library adds itself) and before the application's name.
const BINDING: &str = concat!("rust/", env!("ZEROBUS_RUSTC_VERSION"));

/// The options whose values `Debug` must not print.
const SECRETS: [&str; 2] = ["auth.token", "auth.client.secret"];

/// Options of an [`Sdk`](crate::Sdk): the keys of scope "sdk" in `docs/CONFIGURATION.md`.
///
/// A builder: each method returns the options with one more setting, and a later setting of a
/// key replaces an earlier one. Values are checked by the library when the SDK is created,
/// which fails with [`ErrorCode::UNKNOWN_KEY`](crate::ErrorCode::UNKNOWN_KEY) or
/// [`ErrorCode::INVALID_VALUE`](crate::ErrorCode::INVALID_VALUE) and the library's message.
/// Cloning the options shares their statistics callback.
#[derive(Clone, Default)]
pub struct SdkOptions {
    settings: Settings,
    log_level: Option<LevelFilter>,
    on_statistics: Option<Arc<StatsCallback>>,
}

impl SdkOptions {
    /// Every option at its default.
    pub fn new() -> SdkOptions {
        SdkOptions::default()
    }

    /// Sets any option by its key and textual value, as `docs/CONFIGURATION.md` lists them.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> SdkOptions {
        self.settings.set(key.into(), value.into());
        self
    }

    /// How often a connection pings the server while a stream is open
    /// (`grpc.keepalive.time.ms`).
    pub fn keepalive_time(self, interval: Duration) -> SdkOptions {
        self.set("grpc.keepalive.time.ms", timeout_ms(interval).to_string())
    }

    /// How long a connection waits for the answer to a ping (`grpc.keepalive.timeout.ms`).
    pub fn keepalive_timeout(self, timeout: Duration) -> SdkOptions {
        self.set("grpc.keepalive.timeout.ms", timeout_ms(timeout).to_string())
    }

    /// How long establishing the connection may take (`grpc.connect.timeout.ms`).
    pub fn connect_timeout(self, timeout: Duration) -> SdkOptions {
        self.set("grpc.connect.timeout.ms", timeout_ms(timeout).to_string())
    }

    /// Allows an `http://` endpoint, spoken without TLS (`transport.plaintext`): for local
    /// servers such as `zerobus serve`.
    pub fn plaintext(self, allow: bool) -> SdkOptions {
        self.set("transport.plaintext", allow.to_string())
    }

    /// Trusts only the certificate authorities of this PEM file, not the system's
    /// (`tls.ca.file`).
    pub fn tls_ca_file(self, path: impl Into<String>) -> SdkOptions {
        self.set("tls.ca.file", path)
    }

    /// Trusts only the certificate authorities of this PEM text, not the system's
    /// (`tls.ca.pem`).
    pub fn tls_ca_pem(self, pem: impl Into<String>) -> SdkOptions {
        self.set("tls.ca.pem", pem)
    }

    /// Mutual TLS: presents the client certificate (chain) of the PEM file `cert` with the
    /// unencrypted PEM private key of `key` to the endpoint and the workspace (`tls.cert.file`,
    /// `tls.key.file`). [`Sdk::with_options`](crate::Sdk::with_options) reads both.
    pub fn client_certificate_files(
        self,
        cert: impl Into<String>,
        key: impl Into<String>,
    ) -> SdkOptions {
        self.set("tls.cert.file", cert).set("tls.key.file", key)
    }

    /// As [`client_certificate_files`](Self::client_certificate_files), with the certificate
    /// and the key as PEM text (`tls.cert.pem`, `tls.key.pem`); the key never appears in errors.
    pub fn client_certificate_pem(
        self,
        cert: impl Into<String>,
        key: impl Into<String>,
    ) -> SdkOptions {
        self.set("tls.cert.pem", cert).set("tls.key.pem", key)
    }

    /// The name the server certificates of the endpoint and the workspace are checked against,
    /// and sent in SNI, instead of the hosts of their URLs (`tls.server.name`).
    pub fn tls_server_name(self, name: impl Into<String>) -> SdkOptions {
        self.set("tls.server.name", name)
    }

    /// Connects through this HTTP proxy, `http://[user:password@]host[:port]`, or `direct`
    /// (`proxy`).
    pub fn proxy(self, proxy: impl Into<String>) -> SdkOptions {
        self.set("proxy", proxy)
    }

    /// How many threads of the SDK deliver its streams' events (`dispatch.threads`, 4 by
    /// default): one stream's events come in order, one at a time, and a callback that blocks
    /// holds one thread while the other streams' events go on over the rest.
    pub fn dispatch_threads(self, threads: u32) -> SdkOptions {
        self.set("dispatch.threads", threads.to_string())
    }

    /// How many threads of the SDK reconnect its streams, request their tokens and watch for
    /// acknowledgements that do not come (`supervision.threads`, 2 by default).
    pub fn supervision_threads(self, threads: u32) -> SdkOptions {
        self.set("supervision.threads", threads.to_string())
    }

    /// The workspace, `https://host[:port]`, whose OAuth endpoint issues tokens for
    /// [`StreamOptions::oauth_client`] (`workspace.url`).
    pub fn workspace_url(self, url: impl Into<String>) -> SdkOptions {
        self.set("workspace.url", url)
    }

    /// Names the application to the service, which attributes traffic by the user-agent:
    /// `libzerobus/<version> rust/<compiler version> <name>` (`sdk.application.name`). The
    /// binding adds its part even without a name.
    pub fn application_name(self, name: impl Into<String>) -> SdkOptions {
        self.set("sdk.application.name", name)
    }

    /// Whether the SDK logs warnings about likely misuse, such as a stream opened per record
    /// (`sdk.warnings.enable`; `ZEROBUS_SDK_WARNINGS_ENABLED=false` silences them too).
    pub fn warnings(self, enable: bool) -> SdkOptions {
        self.set("sdk.warnings.enable", enable.to_string())
    }

    /// The most detailed log messages of the SDK and its streams that go to the `log` facade.
    ///
    /// Without this option the SDK follows [`log::max_level()`] as it is when the SDK is
    /// created: nothing while no logger is installed (the library is then silent and costs
    /// nothing), and what the installed logger's maximum lets through otherwise. So install
    /// the logger (`env_logger::init()`, say) before creating the SDK, or set the level here;
    /// `LevelFilter::Off` silences the SDK whatever the logger. The logger still filters each
    /// record as usual.
    ///
    /// Records have the targets `zerobus::sdk`, `zerobus::stream`, `zerobus::connection`,
    /// `zerobus::recovery` and `zerobus::auth`, and the levels `Error` (a stream failed),
    /// `Warn` (a connection ended in error or an attempt failed, to be retried), `Info`
    /// (streams opened and closed, recoveries) and `Debug` (every connection attempt). A
    /// stream's messages start with its table's name; no message contains a secret. They are
    /// logged on the thread of the call whose work they report (creating the SDK, opening,
    /// closing or dropping a stream) or on a library thread (connections ending, recoveries,
    /// failures), so the logger must not block for long: a reconnection waits for it. The
    /// `log.level` key, [`set`](Self::set) explicitly, overrides the level asked of the
    /// library, though not the facade's own filter.
    pub fn log_level(mut self, level: LevelFilter) -> SdkOptions {
        self.log_level = Some(level);
        self
    }

    /// Hands the SDK's statistics to `callback` every `interval` (`statistics.interval.ms`),
    /// as the JSON text [`Sdk::stats_json`](crate::Sdk::stats_json) returns (its fields are in
    /// `docs/STATISTICS.md`).
    ///
    /// The callback runs on a thread the library keeps for the SDK, one call at a time; it may
    /// call any method of the crate and should return within the interval, as the reports it
    /// overruns are skipped. Dropping the SDK stops it: once drop returns, it is not running
    /// and will not run again, and it is dropped once these options (and their clones) are
    /// gone too. A panic in it is caught at the boundary (the panic hook reports it as usual);
    /// the next report comes as planned.
    pub fn on_statistics(
        mut self,
        interval: Duration,
        callback: impl Fn(&str) + Send + Sync + 'static,
    ) -> SdkOptions {
        self.on_statistics = Some(Arc::new(callback));
        self.set("statistics.interval.ms", timeout_ms(interval).to_string())
    }

    pub(crate) fn config(&self) -> Result<Config> {
        let config = self.settings.config()?;
        let name = match self.settings.get("sdk.application.name") {
            Some(application) if !application.is_empty() => format!("{BINDING} {application}"),
            _ => BINDING.to_string(),
        };
        config.set(
            c"sdk.application.name",
            &c_string("application name", &name)?,
        )?;
        let filter = self.log_level.unwrap_or_else(log::max_level);
        if let Some(level) = logging::library_level(filter) {
            if !self.settings.has("log.level") {
                config.set(c"log.level", level)?;
            }
            // SAFETY: the config is live; forward_log reads no user_data, so none is given.
            call(|err| unsafe {
                sys::zb_config_set_log_callback(
                    config.raw.as_ptr(),
                    Some(callbacks::forward_log),
                    null_mut(),
                    None,
                    err,
                )
            })?;
        }
        if let Some(on_statistics) = &self.on_statistics {
            let trampoline = Some(callbacks::deliver_stats as _);
            // SAFETY: deliver_stats reads its user_data as the boxed Arc registered with it.
            unsafe {
                config.register(sys::zb_config_set_stats_callback, trampoline, on_statistics)?
            };
        }
        Ok(config)
    }
}

impl fmt::Debug for SdkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkOptions")
            .field("settings", &self.settings)
            .field("log_level", &self.log_level)
            .field("on_statistics", &self.on_statistics.is_some())
            .finish()
    }
}

/// Options of a [`Stream`](crate::Stream): the keys of scope "stream" in
/// `docs/CONFIGURATION.md`, and how the stream reports acknowledgements.
///
/// A builder like [`SdkOptions`]. Without [`on_ack`](Self::on_ack), acknowledgements queue up
/// in the stream and are read with [`Stream::acks`](crate::Stream::acks) or
/// [`Stream::poll`](crate::Stream::poll). Cloning the options shares their callbacks.
#[derive(Clone, Default)]
pub struct StreamOptions {
    settings: Settings,
    on_ack: Option<Arc<AckCallback>>,
    on_wakeup: Option<Arc<WakeupCallback>>,
    headers_provider: Option<Arc<HeadersProvider>>,
    token_federation: Option<Arc<SubjectTokenProvider>>,
}

impl StreamOptions {
    /// Every option at its default, acknowledgements delivered by polling.
    pub fn new() -> StreamOptions {
        StreamOptions::default()
    }

    /// Sets any option by its key and textual value, as `docs/CONFIGURATION.md` lists them.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> StreamOptions {
        self.settings.set(key.into(), value.into());
        self
    }

    /// Carries the stream over `lanes` server streams of its table (`stream.lanes`, 1 to 64),
    /// for more than one stream's quota, behind the same API: offsets stay contiguous and the
    /// acknowledged watermark cumulative across lanes. Rows of different lanes land in the
    /// table in no particular order; one lane (the default) keeps offset order. A lane that
    /// fails for good fails the stream, and its unacknowledged records come back in offset
    /// order.
    pub fn lanes(self, lanes: u32) -> StreamOptions {
        self.set("stream.lanes", lanes.to_string())
    }

    /// The most records held until acknowledged (`stream.max.inflight.records`); ingest waits
    /// while the window is full.
    pub fn max_inflight_records(self, records: u64) -> StreamOptions {
        self.set("stream.max.inflight.records", records.to_string())
    }

    /// The most bytes of records held until acknowledged (`stream.max.inflight.bytes`).
    pub fn max_inflight_bytes(self, bytes: u64) -> StreamOptions {
        self.set("stream.max.inflight.bytes", bytes.to_string())
    }

    /// The largest request sent (`stream.max.request.bytes`); larger records are rejected.
    pub fn max_request_bytes(self, bytes: u64) -> StreamOptions {
        self.set("stream.max.request.bytes", bytes.to_string())
    }

    /// The most record bytes one ingest call may carry (`stream.max.payload.bytes`); a call
    /// with more is refused at once with
    /// [`ErrorCode::RECORD_TOO_LARGE`](crate::ErrorCode::RECORD_TOO_LARGE).
    pub fn max_payload_bytes(self, bytes: u64) -> StreamOptions {
        self.set("stream.max.payload.bytes", bytes.to_string())
    }

    /// How long a blocking ingest call ([`Stream::ingest_proto`](crate::Stream::ingest_proto)
    /// and its kin) waits for room in a full window before it fails with
    /// [`ErrorCode::QUEUE_FULL`](crate::ErrorCode::QUEUE_FULL) (`stream.ingest.timeout.ms`).
    /// `Duration::ZERO` never waits; `Duration::MAX` waits without limit. The `try_*` forms
    /// never wait and the `*_async` forms wait without limit: the crate does the waiting, and
    /// hands the library `stream.ingest.timeout.ms=0`.
    pub fn ingest_timeout(self, timeout: Duration) -> StreamOptions {
        self.set("stream.ingest.timeout.ms", timeout_ms(timeout).to_string())
    }

    /// How long the stream waits for the server while records are unacknowledged before it
    /// treats the connection as dead (`stream.ack.timeout.ms`).
    pub fn ack_timeout(self, timeout: Duration) -> StreamOptions {
        self.set("stream.ack.timeout.ms", timeout_ms(timeout).to_string())
    }

    /// Whether retryable failures are retried by reconnecting and replaying every
    /// unacknowledged record (`recovery.enable`, on by default).
    pub fn recovery(self, enable: bool) -> StreamOptions {
        self.set("recovery.enable", enable.to_string())
    }

    /// The time one connection attempt may take (`recovery.timeout.ms`).
    pub fn recovery_timeout(self, timeout: Duration) -> StreamOptions {
        self.set("recovery.timeout.ms", timeout_ms(timeout).to_string())
    }

    /// The delay before the first retried connection attempt, doubled for each further one
    /// (`recovery.backoff.ms`).
    pub fn recovery_backoff(self, delay: Duration) -> StreamOptions {
        self.set("recovery.backoff.ms", timeout_ms(delay).to_string())
    }

    /// The longest delay between two connection attempts (`recovery.backoff.max.ms`).
    pub fn recovery_backoff_max(self, delay: Duration) -> StreamOptions {
        self.set("recovery.backoff.max.ms", timeout_ms(delay).to_string())
    }

    /// Connection attempts after the first before a failure is final (`recovery.retries`).
    pub fn recovery_retries(self, retries: u32) -> StreamOptions {
        self.set("recovery.retries", retries.to_string())
    }

    /// How long a stream told by the server that its call will end waits for the acks of
    /// what it sent before it reconnects (`stream.paused.max.wait.ms`); `Duration::MAX` waits
    /// as long as the server grants.
    pub fn paused_max_wait(self, wait: Duration) -> StreamOptions {
        self.set("stream.paused.max.wait.ms", timeout_ms(wait).to_string())
    }

    /// Whether the stream (each of its lanes) has a connection of its own, the default, or
    /// shares the SDK's one (`stream.own.connection`).
    pub fn own_connection(self, own: bool) -> StreamOptions {
        self.set("stream.own.connection", own.to_string())
    }

    /// Authenticates with OAuth client credentials: the stream fetches its tokens from the
    /// [workspace](SdkOptions::workspace_url) and renews them before they expire
    /// (`auth.client.id`, `auth.client.secret`). `Debug` hides the secret.
    pub fn oauth_client(self, id: impl Into<String>, secret: impl Into<String>) -> StreamOptions {
        self.set("auth.client.id", id)
            .set("auth.client.secret", secret)
    }

    /// How long before a token expires the stream fetches a new one
    /// (`auth.refresh.margin.ms`).
    pub fn auth_refresh_margin(self, margin: Duration) -> StreamOptions {
        self.set("auth.refresh.margin.ms", timeout_ms(margin).to_string())
    }

    /// A bearer token sent as `authorization: Bearer <token>` (`auth.token`). `Debug` hides it.
    pub fn auth_token(self, token: impl Into<String>) -> StreamOptions {
        self.set("auth.token", token)
    }

    /// Delivers every [`Ack`] of the stream to `callback` instead of queueing it for polling.
    ///
    /// The callback runs on one of the SDK's dispatch threads, one ack at a time in offset
    /// order, never on the thread that ingests, flushes or closes; it may call any method of
    /// the stream, and may drop it (the destroy takes effect once the callback returns). A
    /// blocking ingest in it does not wait for room. It should return quickly: acks queue up behind it. A panic in it is caught at
    /// the boundary (the panic hook reports it as usual) and delivery goes on with the next
    /// ack. The callback is dropped once the stream is dropped and these options (and their
    /// clones) are gone; so a callback that needs its own stream should hold a `Weak` to it,
    /// since an `Arc` would keep the stream and the callback alive forever.
    pub fn on_ack(mut self, callback: impl Fn(Ack) + Send + Sync + 'static) -> StreamOptions {
        self.on_ack = Some(Arc::new(callback));
        self
    }

    /// Calls `wakeup` each time the stream's ack queue turns from empty to non-empty, for
    /// polling from an event loop: after a wakeup, poll until the queue is empty. (An async
    /// task needs none: [`Stream::ack_events`](crate::Stream::ack_events) wakes it.)
    ///
    /// It runs on one of the SDK's dispatch threads, and should not block and not call the
    /// stream (signal your loop instead). Panics are caught as in [`on_ack`](Self::on_ack).
    pub fn on_wakeup(mut self, wakeup: impl Fn() + Send + Sync + 'static) -> StreamOptions {
        self.on_wakeup = Some(Arc::new(wakeup));
        self
    }

    /// Takes the gRPC headers of every connection attempt from `provider` (such as
    /// `("authorization", "Bearer TOKEN")`) instead of the [`auth_token`](Self::auth_token).
    ///
    /// The library calls it before the stream's first connection and before every
    /// reconnection, on a thread of its own, never twice at once for one stream; it may block
    /// (to fetch a token, say), which delays the connection. Names are lower-case ASCII
    /// letters, digits, `-`, `_` and `.`; values printable ASCII. An error, a panic (caught at
    /// the boundary) or a header that cannot be sent fails the attempt with
    /// [`ErrorCode::AUTH`](crate::ErrorCode::AUTH), retried as the `recovery_*` options say;
    /// the provider's own error does not reach the caller.
    pub fn headers_provider<F>(mut self, provider: F) -> StreamOptions
    where
        F: Fn() -> std::result::Result<
                Vec<(String, String)>,
                Box<dyn std::error::Error + Send + Sync>,
            > + Send
            + Sync
            + 'static,
    {
        self.headers_provider = Some(Arc::new(provider));
        self
    }

    /// Authenticates by token federation (RFC 8693) instead of a client secret: `provider`
    /// supplies a JWT from an external identity provider (Entra ID, a Kubernetes service
    /// account, ...), which the stream exchanges at the [workspace](SdkOptions::workspace_url)
    /// for a token scoped to its table, and renews like one got with a secret, never keeping
    /// it past the JWT's own `exp`. Add [`federation_client_id`](Self::federation_client_id)
    /// for workload identity federation; without it, the exchange is account-level.
    ///
    /// The library calls `provider` whenever the stream needs a new token (when it opens, and
    /// when a reconnection finds the kept token expiring or refused), on a thread of its own,
    /// never twice at once; it may block (to ask the identity provider), which delays the
    /// connection. An error, an empty token, one that is not printable ASCII, or a panic
    /// (caught at the boundary: the process never aborts) fails the attempt with
    /// [`ErrorCode::AUTH`](crate::ErrorCode::AUTH), retried as the `recovery_*` options say.
    /// Neither token appears in a log line or an error. Federation is the stream's one source
    /// of credentials: with [`oauth_client`](Self::oauth_client),
    /// [`auth_token`](Self::auth_token) or [`headers_provider`](Self::headers_provider) as
    /// well, opening the stream fails with [`ErrorCode::INVALID_ARG`](crate::ErrorCode::INVALID_ARG).
    pub fn token_federation<F>(mut self, provider: F) -> StreamOptions
    where
        F: Fn() -> std::result::Result<String, Box<dyn std::error::Error + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        self.token_federation = Some(Arc::new(provider));
        self
    }

    /// The client id of the service principal whose federation policy accepts the identity
    /// provider's token (workload identity federation), sent in the token exchange of
    /// [`token_federation`](Self::token_federation) (`auth.federation.client.id`).
    pub fn federation_client_id(self, id: impl Into<String>) -> StreamOptions {
        self.set("auth.federation.client.id", id)
    }

    /// The stream's `zb_config`, with the crate's event callback registered for a new [`Hub`]
    /// of the user's callbacks, and the ingest timeout, which the crate keeps for itself: the
    /// library gets `stream.ingest.timeout.ms=0`, so that every ingest call returns at once
    /// and each of the crate's ingest forms decides whether and how to wait for room.
    pub(crate) fn config(&self) -> Result<StreamConfig> {
        let config = self.settings.config()?;
        let timeouts = Timeouts {
            ingest_ms: config.get_int(INGEST_TIMEOUT)?,
            ack_ms: config.get_int(c"stream.ack.timeout.ms")?,
        };
        config.set(INGEST_TIMEOUT, c"0")?;
        let reactor = self.reactor_for(&config)?;
        let hub = Arc::new(Hub::new(
            self.on_ack.clone(),
            self.on_wakeup.clone(),
            reactor.clone(),
        ));
        // SAFETY: each trampoline reads its user_data as the boxed Arc registered with it.
        unsafe {
            if let Some(provider) = &self.headers_provider {
                let trampoline = Some(callbacks::provide_headers as _);
                config.register(sys::zb_config_set_headers_provider, trampoline, provider)?;
            }
            if let Some(provider) = &self.token_federation {
                let trampoline = Some(callbacks::provide_subject_token as _);
                config.register(sys::zb_config_set_token_federation, trampoline, provider)?;
            }
            if reactor.is_none() {
                let trampoline = Some(events::deliver_event as _);
                config.register(sys::zb_config_set_event_callback, trampoline, &hub)?;
            }
        }
        Ok(StreamConfig {
            config,
            hub,
            timeouts,
        })
    }
}

impl StreamOptions {
    /// With the `tokio` feature, inside a runtime, and when no callback of the user's needs
    /// the events delivered on the library's threads (`on_ack`, `on_wakeup`): a reactor
    /// watching a descriptor that the config's streams write at each event, in place of the
    /// event callback (see `events`).
    #[cfg(feature = "tokio")]
    fn reactor_for(&self, config: &Config) -> Result<Option<Arc<Reactor>>> {
        if self.on_ack.is_some() || self.on_wakeup.is_some() {
            return Ok(None);
        }
        use std::os::fd::IntoRawFd;
        let Some((reactor, library_end)) = Reactor::new() else {
            return Ok(None);
        };
        // SAFETY: the config is live; the library owns the descriptor from here on, whatever
        // the outcome, and closes it with the last config or stream that holds it.
        call(|err| unsafe {
            sys::zb_config_set_wakeup_fd(config.raw.as_ptr(), library_end.into_raw_fd(), 1, err)
        })?;
        Ok(Some(reactor))
    }

    #[cfg(not(feature = "tokio"))]
    fn reactor_for(&self, _: &Config) -> Result<Option<Arc<Reactor>>> {
        Ok(None)
    }
}

/// The key of the ingest timeout, which [`StreamOptions::config`] takes over.
const INGEST_TIMEOUT: &CStr = c"stream.ingest.timeout.ms";

/// What a stream is created with.
pub(crate) struct StreamConfig {
    pub(crate) config: Config,
    pub(crate) hub: Arc<Hub>,
    pub(crate) timeouts: Timeouts,
}

/// The timeouts of a stream's options that the crate applies itself, in the C ABI's
/// milliseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// How long the blocking ingest forms wait for room.
    pub(crate) ingest_ms: i32,
    /// `stream.ack.timeout.ms`: how long [`Stream::close_async`](crate::Stream::close_async)
    /// gives its last step (with the `tokio` feature).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) ack_ms: i32,
}

impl fmt::Debug for StreamOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamOptions")
            .field("settings", &self.settings)
            .field("on_ack", &self.on_ack.is_some())
            .field("on_wakeup", &self.on_wakeup.is_some())
            .field("headers_provider", &self.headers_provider.is_some())
            .field("token_federation", &self.token_federation.is_some())
            .finish()
    }
}

/// Options as key and value text, in the order they were set.
#[derive(Clone, Default)]
struct Settings(Vec<(String, String)>);

impl Settings {
    fn set(&mut self, key: String, value: String) {
        self.0.retain(|(earlier, _)| *earlier != key);
        self.0.push((key, value));
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(set, _)| set == key)
            .map(|(_, value)| value.as_str())
    }

    fn config(&self) -> Result<Config> {
        let mut raw = null_mut();
        // SAFETY: `raw` is a valid out parameter.
        call(|err| unsafe { sys::zb_config_new(&mut raw, err) })?;
        let config = Config {
            raw: NonNull::new(raw).expect("zb_config_new() succeeded without a config"),
        };
        for (key, value) in &self.0 {
            config.set(
                &c_string("option key", key)?,
                &c_string("option value", value)?,
            )?;
        }
        Ok(config)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(key, value)| {
                let secret = SECRETS.contains(&key.as_str());
                (key, if secret { "[hidden]" } else { value.as_str() })
            }))
            .finish()
    }
}

/// A `zb_config` owned by the crate for the duration of one constructor call.
pub(crate) struct Config {
    raw: NonNull<sys::zb_config>,
}

// SAFETY: a config is used by one thread at a time (it moves to the thread that opens the
// stream, with the `tokio` feature); the library shares nothing of it with other threads.
unsafe impl Send for Config {}

/// One of the `zb_config_set_*` functions that register a callback of type `C`.
type CallbackSetter<C> = unsafe extern "C" fn(
    *mut sys::zb_config,
    C,
    *mut c_void,
    sys::zb_free_cb,
    *mut *mut sys::zb_error,
) -> sys::zb_status;

impl Config {
    pub(crate) fn as_ptr(&self) -> *const sys::zb_config {
        self.raw.as_ptr()
    }

    fn set(&self, key: &CStr, value: &CStr) -> Result<()> {
        // SAFETY: the config is live; both strings are NUL-terminated and only borrowed.
        call(|err| unsafe {
            sys::zb_config_set(self.raw.as_ptr(), key.as_ptr(), value.as_ptr(), err)
        })
    }

    /// Reads an integer option, as the config holds it or at its default.
    fn get_int(&self, key: &CStr) -> Result<i32> {
        let mut text = [0u8; 24];
        let mut size = text.len();
        // SAFETY: the config is live; `text` has room for `size` bytes.
        call(|err| unsafe {
            sys::zb_config_get(
                self.raw.as_ptr(),
                key.as_ptr(),
                text.as_mut_ptr().cast(),
                &mut size,
                err,
            )
        })?;
        CStr::from_bytes_until_nul(&text)
            .ok()
            .and_then(|value| value.to_str().ok()?.parse().ok())
            .ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorCode::INTERNAL,
                    format!("{key:?} does not read back as an integer"),
                )
            })
    }

    /// Registers `callback` through `setter` with `trampoline`, which gets it as `user_data`.
    ///
    /// # Safety
    /// `trampoline` reads its `user_data` as a `Box<Arc<T>>` from [`callbacks::register`].
    unsafe fn register<C, T: ?Sized>(
        &self,
        setter: CallbackSetter<C>,
        trampoline: C,
        callback: &Arc<T>,
    ) -> Result<()> {
        let (user_data, free_user_data) = callbacks::register(Arc::clone(callback));
        // SAFETY: the config is live; from here on the library owns user_data and frees it
        // exactly once through free_user_data, also when the call fails.
        call(|err| unsafe {
            setter(
                self.raw.as_ptr(),
                trampoline,
                user_data,
                free_user_data,
                err,
            )
        })
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: the config is live and owned by self; the constructors copied what they need.
        unsafe { sys::zb_config_destroy(self.raw.as_ptr()) }
    }
}
