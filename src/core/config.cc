#include "core/config.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <variant>

#include "core/endpoint.h"
#include "core/log.h"
#include "core/proxy.h"

namespace zerobus {
namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kTenMiB = 10 * 1024 * 1024;
// gRPC refuses a call whose headers exceed 8 KiB; a name this long leaves them room.
constexpr size_t kMaxHeaderValueBytes = 512;

struct IntOption {
  int64_t Settings::*field;
  int64_t min;
  int64_t max;
};
struct BoolOption {
  bool Settings::*field;
};
// How a string option is checked when set and shown when read back.
enum class Text {
  kPlain,        // printable ASCII
  kSecret,       // printable ASCII, never shown nor echoed in errors
  kPem,          // printable ASCII and line breaks
  kSecretPem,    // as kPem, never shown nor echoed in errors
  kHostName,     // letters, digits, '-' and '.', or empty
  kUrl,          // an endpoint-like URL, or empty
  kProxy,        // a proxy URL, "direct" or empty; its user and password are never shown
  kHeaderValue,  // what may follow a product name in a user-agent header, or empty
  kArrowCodec,   // none, lz4_frame or zstd
  kEngine,       // grpc or http2
};
struct StringOption {
  std::string Settings::*field;
  Text text;
};
// A level by name, as zb_log_level_name() spells it.
struct LogLevelOption {
  LogLevel Settings::*field;
};

struct Property {
  const char *name;
  const char *default_value;
  const char *range;
  const char *scope;
  const char *description;
  std::variant<IntOption, BoolOption, StringOption, LogLevelOption> option;
};

// The one list of options: docs/CONFIGURATION.md is generated from it.
const Property kProperties[] = {
    {"stream.max.inflight.records", "1000000", "1 .. 9223372036854775807", "stream",
     "Records (record batches, on an Arrow stream) the stream holds until they are "
     "acknowledged; ingest waits (or fails with ZB_ERR_QUEUE_FULL) while the window is full.",
     IntOption{&Settings::max_inflight_records, 1, kMaxInt64}},
    {"stream.max.inflight.bytes", "67108864", "1 .. 9223372036854775807", "stream",
     "Bytes of records (with their few bytes of framing) the stream holds until they are "
     "acknowledged. A record larger than this is still accepted into an empty window. The "
     "memory the stream writes records into, buffers kept for reuse included, stays within "
     "it too.",
     IntOption{&Settings::max_inflight_bytes, 1, kMaxInt64}},
    {"stream.max.request.bytes", "10485760", "1024 .. 10485760", "stream",
     "The largest request the stream sends. Pending records are coalesced into requests of up "
     "to 1 MiB (or this size, if smaller), which keeps the server busy while the next one is "
     "written; one batch may fill a request up to this size. A record or batch that cannot fit "
     "into one is rejected with ZB_ERR_RECORD_TOO_LARGE. The service accepts at most 10 MiB.",
     IntOption{&Settings::max_request_bytes, 1024, kTenMiB}},
    {"stream.max.payload.bytes", "10420224", "1 .. 10485760", "stream",
     "The record bytes one ingest call may carry, framing aside; a call with more fails at once "
     "with ZB_ERR_RECORD_TOO_LARGE naming its size and this limit. The default, as the official "
     "SDKs have it, leaves 64 KiB of the service's 10 MiB message for the request's envelope.",
     IntOption{&Settings::max_payload_bytes, 1, kTenMiB}},
    {"stream.ingest.timeout.ms", "30000", "-1 .. 2147483647", "stream",
     "How long an ingest call waits for room in a full window before it fails with "
     "ZB_ERR_QUEUE_FULL. 0 never waits; -1 waits without limit.",
     IntOption{&Settings::ingest_timeout_ms, -1, kMaxInt32}},
    {"stream.ack.timeout.ms", "60000", "1 .. 2147483647", "stream",
     "How long the stream waits for the server to acknowledge new records while requests are "
     "unacknowledged before it treats the connection as dead (a retryable failure). Other "
     "messages, a repeated acknowledgement among them, do not count.",
     IntOption{&Settings::ack_timeout_ms, 1, kMaxInt32}},
    {"recovery.enable", "true", "true, false", "stream",
     "Whether retryable failures are retried: connection attempts, and on a broken connection "
     "a new one that replays every unacknowledged record in order. A connection the server "
     "accepted and that ended before any record was acknowledged counts as a failed attempt "
     "(unless it had nothing to acknowledge and lasted at least recovery.backoff.ms).",
     BoolOption{&Settings::recovery}},
    {"recovery.timeout.ms", "15000", "1 .. 2147483647", "stream",
     "The time one connection attempt may take, headers provider included, until the server "
     "has accepted the stream. An attempt while gRPC cannot connect (the server is down) "
     "waits this long for a connection, instead of failing with gRPC's last error.",
     IntOption{&Settings::recovery_timeout_ms, 1, kMaxInt32}},
    {"recovery.backoff.ms", "2000", "0 .. 2147483647", "stream",
     "The delay before the first retried connection attempt; it doubles with each further "
     "attempt up to recovery.backoff.max.ms. Each delay is a random time between half of it and "
     "all of it, so that many clients do not reconnect in step.",
     IntOption{&Settings::recovery_backoff_ms, 0, kMaxInt32}},
    {"recovery.backoff.max.ms", "30000", "0 .. 2147483647", "stream",
     "The longest delay between two connection attempts.",
     IntOption{&Settings::recovery_backoff_max_ms, 0, kMaxInt32}},
    {"recovery.retries", "4", "0 .. 2147483647", "stream",
     "Connection attempts after the first before a failure is final. The count starts again "
     "once the server acknowledges records.",
     IntOption{&Settings::recovery_retries, 0, kMaxInt32}},
    {"stream.paused.max.wait.ms", "60000", "-1 .. 2147483647", "stream",
     "When the server announces that it will close the call (CloseStreamSignal), the stream "
     "stops sending, collects the acks of what it sent, and reconnects once everything sent is "
     "acknowledged, or when the server's announced time or this long has passed, whichever "
     "comes first; as outside a pause, stream.ack.timeout.ms without an acknowledgement ends "
     "the connection too. -1 waits as long as the server grants; 0 reconnects at once. Ingest "
     "keeps accepting records meanwhile. Ignored when recovery.enable is false.",
     IntOption{&Settings::paused_max_wait_ms, -1, kMaxInt32}},
    {"grpc.keepalive.time.ms", "60000", "1000 .. 2147483647", "sdk",
     "How often a connection pings the server (HTTP/2 PING) while a stream is open, so that "
     "a dead connection is found (and recovered from) even when no acks are due; the name is "
     "kept from when gRPC C++ was the only engine.",
     IntOption{&Settings::keepalive_time_ms, 1000, kMaxInt32}},
    {"grpc.keepalive.timeout.ms", "20000", "1000 .. 2147483647", "sdk",
     "How long a connection waits for the answer to a ping before it is declared dead.",
     IntOption{&Settings::keepalive_timeout_ms, 1000, kMaxInt32}},
    {"auth.token", "", "any printable ASCII", "stream",
     "A bearer token sent as 'authorization: Bearer <token>'. One source of credentials per "
     "stream: this, auth.client.id with auth.client.secret, a headers provider, or token "
     "federation. Reads back hidden.",
     StringOption{&Settings::auth_token, Text::kSecret}},
    {"grpc.connect.timeout.ms", "20000", "1 .. 2147483647", "sdk",
     "How long setting up a connection (with transport.engine=http2 the name's lookup too; TCP, "
     "proxy tunnel, TLS handshake, the server's HTTP/2 settings) may take before the attempt "
     "fails.",
     IntOption{&Settings::connect_timeout_ms, 1, kMaxInt32}},
    {"transport.plaintext", "false", "true, false", "sdk",
     "Speak plaintext HTTP/2 to the endpoint and the workspace, without TLS: for local servers "
     "only. Required for an http:// endpoint; contradicts an https:// one.",
     BoolOption{&Settings::plaintext}},
    {"tls.ca.file", "", "a PEM file's path", "sdk",
     "Trust only the certificate authorities in this PEM file, for the endpoint and the "
     "workspace (token and Unity Catalog requests): the system's authorities are then not "
     "trusted at all (a corporate TLS-inspecting proxy, a private authority, a local server). "
     "Empty: the system's. Read by zb_sdk_new().",
     StringOption{&Settings::tls_ca_file, Text::kPlain}},
    {"tls.ca.pem", "", "PEM text", "sdk",
     "As tls.ca.file, the certificates given as PEM text. Takes precedence over tls.ca.file.",
     StringOption{&Settings::tls_ca_pem, Text::kPem}},
    {"tls.cert.file", "", "a PEM file's path", "sdk",
     "Mutual TLS: the client certificate (chain) this PEM file holds is presented to the "
     "endpoint and the workspace. Needs tls.key.file or tls.key.pem. Read by zb_sdk_new().",
     StringOption{&Settings::tls_cert_file, Text::kPlain}},
    {"tls.cert.pem", "", "PEM text", "sdk",
     "As tls.cert.file, the certificate given as PEM text. Takes precedence over tls.cert.file.",
     StringOption{&Settings::tls_cert_pem, Text::kPem}},
    {"tls.key.file", "", "a PEM file's path", "sdk",
     "The private key (unencrypted PEM) of the client certificate of tls.cert.file or "
     "tls.cert.pem. Read by zb_sdk_new(); its content never appears in errors or logs.",
     StringOption{&Settings::tls_key_file, Text::kPlain}},
    {"tls.key.pem", "", "PEM text", "sdk",
     "As tls.key.file, the key given as PEM text. Takes precedence over tls.key.file. Reads "
     "back hidden; never appears in errors.",
     StringOption{&Settings::tls_key_pem, Text::kSecretPem}},
    {"tls.server.name", "", "a host name, or empty", "sdk",
     "The name the server certificates of the endpoint and the workspace are checked against, "
     "and sent in SNI and as the requests' authority (Host), instead of the host of their URLs: "
     "to connect by address, or through a tunnel, to a server whose certificate names another "
     "host. Empty: each URL's host.",
     StringOption{&Settings::tls_server_name, Text::kHostName}},
    {"proxy", "", "http://[user:password@]host[:port], direct, or empty", "sdk",
     "The HTTP CONNECT proxy for the endpoint and the token request. Empty: from the "
     "environment as the official SDKs read it (grpc_proxy, https_proxy, http_proxy, then their "
     "upper-case forms; hosts in no_grpc_proxy or no_proxy go direct); 'direct': no proxy. The "
     "user and password read back hidden.",
     StringOption{&Settings::proxy, Text::kProxy}},
    {"stream.lanes", "1", "1 .. 64", "stream",
     "Server streams (lanes) of the table that the stream carries its records over, each on a "
     "call of its own (and a connection of its own with stream.own.connection): more than one "
     "stream's quota behind one handle, with one offset space and one cumulative watermark. "
     "Rows of different lanes land in the table in no particular order; a lane that fails for "
     "good fails the stream (see the Streams section of zerobus.h).",
     IntOption{&Settings::lanes, 1, 64}},
    {"transport.engine", "http2", "grpc, http2", "sdk",
     "Who speaks HTTP/2 for the streams. http2: the library's own client (nghttp2 and "
     "OpenSSL, on one I/O thread per SDK), where a record at a low rate costs one TCP segment "
     "and one thread wake-up for its ack; a stream's every call has a connection of its own, "
     "or shares the SDK's one with stream.own.connection=false. grpc: gRPC C++, with its own "
     "threads and one write in flight per call.",
     StringOption{&Settings::transport_engine, Text::kEngine}},
    {"stream.own.connection", "true", "true, false", "stream",
     "Give the stream (each of its lanes) an HTTP/2 connection of its own, as the official "
     "SDKs do since Rust 2.9 / FFI 1.9; false shares the SDK's one connection, which costs "
     "less on a clean link (up to a fifth more throughput) but lets one lost packet stall "
     "every stream on it and caps their throughput at one TCP connection's: across 1% loss "
     "and a 20 ms round trip, 4 streams made 3.3 to 3.8 times as much on connections of "
     "their own with Reno, 1.6 to 1.7 times with BBR (README, \"Lanes and connections\"; "
     "bench/lossy).",
     BoolOption{&Settings::own_connection}},
    {"arrow.compression", "none", "none, lz4_frame, zstd", "stream",
     "The IPC body compression of an Arrow stream's record batches (each buffer compressed on "
     "its own, as the Arrow format specifies). none sends a batch taken as Arrow C Data without "
     "copying it: its buffers go to the wire as they are.",
     StringOption{&Settings::arrow_compression, Text::kArrowCodec}},
    {"workspace.url", "", "https://host[:port], or empty", "sdk",
     "The workspace URL (https://<instance>.cloud.databricks.com), where OAuth tokens are "
     "requested (POST /oidc/v1/token). Needed with auth.client.id.",
     StringOption{&Settings::workspace_url, Text::kUrl}},
    {"auth.client.id", "", "any printable ASCII", "stream",
     "The OAuth client id (the service principal's application id). With auth.client.secret "
     "the stream requests a token for its table from workspace.url, keeps it, and requests a "
     "new one before it expires and after the server refuses it. The SDK keeps one token per "
     "table and credentials for all of its streams: 64 streams of one table make one request.",
     StringOption{&Settings::client_id, Text::kPlain}},
    {"auth.client.secret", "", "any printable ASCII", "stream",
     "The OAuth client secret of auth.client.id. Reads back hidden; never appears in errors.",
     StringOption{&Settings::client_secret, Text::kSecret}},
    {"auth.federation.client.id", "", "any printable ASCII", "stream",
     "With token federation (zb_config_set_token_federation()): the client id of the service "
     "principal whose federation policy accepts the identity provider's token (workload "
     "identity federation), sent as client_id in the token exchange. Empty: account-level "
     "federation, without a client id.",
     StringOption{&Settings::federation_client_id, Text::kPlain}},
    {"auth.refresh.margin.ms", "300000", "0 .. 2147483647", "stream",
     "How long before its expiry an OAuth token is replaced by a new one (at most half its "
     "lifetime), so that a reconnection never presents a token about to expire. A replacement "
     "that fails leaves the token in use until it expires (tried again 30 s later).",
     IntOption{&Settings::token_refresh_margin_ms, 0, kMaxInt32}},
    {"log.level", "info", "error, warn, info, debug", "sdk",
     "The most detailed messages handed to the log callback (zb_config_set_log_callback()) of "
     "the SDK and its streams: error (a stream failed or could not open), warn (also failed "
     "connection attempts, connections that ended in error, timed-out closes, streams destroyed "
     "with records unacknowledged, a stream per record as sdk.warnings.enable says), info (also "
     "the SDK created, streams opened and closed, "
     "recoveries, close signals, OAuth tokens obtained), debug (also every connection attempt "
     "and kept token). Without a log callback the library logs nothing anywhere, whatever the "
     "level.",
     LogLevelOption{&Settings::log_level}},
    {"statistics.interval.ms", "0", "0 .. 86400000", "sdk",
     "How often the statistics callback (zb_config_set_stats_callback()) receives the SDK's "
     "statistics JSON (docs/STATISTICS.md); 0 never calls it.",
     IntOption{&Settings::statistics_interval_ms, 0, 86400000}},
    {"dispatch.threads", "4", "1 .. 256", "sdk",
     "The SDK's threads that run its streams' event callbacks and wakeups, shared by all of its "
     "streams and started as they are needed. One stream's events are delivered in order, one "
     "at a time; a callback that blocks holds one thread, and the other streams' events go on "
     "over the rest, so more threads than callbacks that may block at once keep every stream's "
     "acknowledgements flowing.",
     IntOption{&Settings::dispatch_threads, 1, 256}},
    {"supervision.threads", "2", "1 .. 256", "sdk",
     "The SDK's threads that reconnect its streams, request their OAuth tokens, run the headers "
     "provider for reconnections, and watch for acknowledgements that do not come and for the "
     "end of a close signal's pause, shared by all of its streams and started as they are "
     "needed. A reconnection holds one while it requests a token or runs the headers provider.",
     IntOption{&Settings::supervision_threads, 1, 256}},
    {"sdk.application.name", "", "printable ASCII, no leading or trailing space, at most 512 bytes",
     "sdk",
     "Names the application to the service, which attributes traffic by it: every gRPC call "
     "and every request to the workspace (OAuth token, Unity Catalog) carries 'user-agent: "
     "libzerobus/<version> <this>' (gRPC adds its own name after it). A product/version pair "
     "such as my-app/1.4 is customary; each binding adds its language and version. Empty: "
     "libzerobus/<version> alone.",
     StringOption{&Settings::application_name, Text::kHeaderValue}},
    {"sdk.warnings.enable", "true", "true, false", "sdk",
     "Whether the SDK logs warnings about likely misuse: 100 or more streams opened for one "
     "table within 60 seconds (usually a stream per record, where one stream should take them "
     "all), once per table. The environment variable ZEROBUS_SDK_WARNINGS_ENABLED=false silences "
     "them too.",
     BoolOption{&Settings::warnings_enabled}},
};

const Property *FindProperty(std::string_view key) {
  for (const Property &property : kProperties) {
    if (key == property.name) return &property;
  }
  return nullptr;
}

bool IsSecret(const Property &property) {
  const auto *option = std::get_if<StringOption>(&property.option);
  return option && (option->text == Text::kSecret || option->text == Text::kSecretPem);
}

// `why` says what is wrong when the range alone does not. Secrets are never echoed, and a
// proxy only with its credentials hidden.
Status InvalidValue(const Property &property, std::string_view value, const std::string &why) {
  const auto *option = std::get_if<StringOption>(&property.option);
  std::string shown;
  if (!IsSecret(property)) {
    shown = "'" +
            (option && option->text == Text::kProxy ? RedactProxy(value) : std::string(value)) +
            "' ";
  }
  return Status(StatusCode::kInvalidValue,
                "invalid value " + shown + "for " + property.name + ": " +
                    (why.empty() ? "expected " + std::string(property.range) : why));
}

bool IsPrintable(std::string_view text, bool line_breaks) {
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 0x20 && c <= 0x7e) || (line_breaks && (c == '\n' || c == '\r' || c == '\t'));
  });
}

// Checks a string option's value; "" when it is fine, else why not (may be just the range).
std::string CheckText(Text text, std::string_view value) {
  switch (text) {
    case Text::kPlain:
    case Text::kSecret:
      return IsPrintable(value, false) ? "" : "expected printable ASCII";
    case Text::kPem:
    case Text::kSecretPem:
      return IsPrintable(value, true) ? "" : "expected PEM text";
    case Text::kHostName: {
      const bool valid = std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
      });
      return valid ? "" : "expected a host name: letters, digits, '-' and '.'";
    }
    case Text::kHeaderValue:
      if (!IsPrintable(value, false)) return "a header value is printable ASCII";
      if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
        return "a header value neither starts nor ends with a space";
      }
      return value.size() <= kMaxHeaderValueBytes ? "" : "longer than 512 bytes";
    case Text::kEngine:
      return value == kGrpcEngine || value == kHttp2Engine ? "" : "unknown engine";
    case Text::kArrowCodec:
      return value == "none" || value == "lz4_frame" || value == "zstd" ? "" : "unknown codec";
    case Text::kUrl: {
      if (value.empty()) return "";
      ParsedUrl url;
      Status parsed = ParseUrl(value, "URL", &url);
      return parsed.ok() ? "" : parsed.message();
    }
    case Text::kProxy: {
      if (value.empty() || value == kDirectProxy) return "";
      ProxyUrl proxy;
      Status parsed = ParseProxyUrl(value, "the proxy", &proxy);
      return parsed.ok() ? "" : parsed.message();
    }
  }
  return "";
}

// Parses `value` for `property` into `settings`; false with `*why` (perhaps empty: see
// InvalidValue()) when it does not parse or is out of range.
bool Assign(const Property &property, std::string_view value, Settings *settings,
            std::string *why) {
  if (const auto *option = std::get_if<IntOption>(&property.option)) {
    int64_t parsed;
    const char *end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
    if (value.empty() || ec != std::errc() || ptr != end) return false;
    if (parsed < option->min || parsed > option->max) return false;
    settings->*option->field = parsed;
    return true;
  }
  if (const auto *option = std::get_if<BoolOption>(&property.option)) {
    if (value == "true" || value == "1") {
      settings->*option->field = true;
    } else if (value == "false" || value == "0") {
      settings->*option->field = false;
    } else {
      return false;
    }
    return true;
  }
  if (const auto *option = std::get_if<LogLevelOption>(&property.option)) {
    return ParseLogLevel(value, &(settings->*option->field));
  }
  const auto &option = std::get<StringOption>(property.option);
  *why = CheckText(option.text, value);
  if (!why->empty()) return false;
  settings->*option.field = std::string(value);
  return true;
}

const char *TypeName(const Property &property) {
  if (std::holds_alternative<IntOption>(property.option)) return "int";
  if (std::holds_alternative<BoolOption>(property.option)) return "bool";
  return "string";
}

}  // namespace

Config::Config() {
  std::string unused;
  for (const Property &property : kProperties) {
    Assign(property, property.default_value, &settings_, &unused);
  }
}

Status Config::Set(std::string_view key, std::string_view value) {
  const Property *property = FindProperty(key);
  if (!property) {
    return Status(StatusCode::kUnknownKey, "unknown configuration key '" + std::string(key) + "'");
  }
  Settings updated = settings_;
  std::string why;
  if (!Assign(*property, value, &updated, &why)) return InvalidValue(*property, value, why);
  settings_ = std::move(updated);
  return Status::Ok();
}

Status Config::Get(std::string_view key, std::string *value) const {
  const Property *property = FindProperty(key);
  if (!property) {
    return Status(StatusCode::kUnknownKey, "unknown configuration key '" + std::string(key) + "'");
  }
  if (const auto *int_option = std::get_if<IntOption>(&property->option)) {
    *value = std::to_string(settings_.*int_option->field);
  } else if (const auto *bool_option = std::get_if<BoolOption>(&property->option)) {
    *value = settings_.*bool_option->field ? "true" : "false";
  } else if (const auto *level_option = std::get_if<LogLevelOption>(&property->option)) {
    *value = LogLevelName(settings_.*level_option->field);
  } else {
    const auto &string_option = std::get<StringOption>(property->option);
    const std::string &text = settings_.*string_option.field;
    if (string_option.text == Text::kSecret || string_option.text == Text::kSecretPem) {
      *value = text.empty() ? "" : "[hidden]";
    } else if (string_option.text == Text::kProxy) {
      *value = RedactProxy(text);
    } else {
      *value = text;
    }
  }
  return Status::Ok();
}

bool Config::Describe(size_t index, PropertyInfo *out) {
  if (index >= std::size(kProperties)) return false;
  const Property &property = kProperties[index];
  *out = PropertyInfo{property.name,  TypeName(property), property.default_value,
                      property.range, property.scope,     property.description};
  return true;
}

}  // namespace zerobus
