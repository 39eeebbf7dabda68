// Options set by string key (zb_config) and the typed settings the engine reads from them.
#ifndef ZEROBUS_CORE_CONFIG_H
#define ZEROBUS_CORE_CONFIG_H

#include <cstdint>
#include <string>
#include <string_view>

#include "core/callbacks.h"
#include "core/log_level.h"
#include "core/status.h"

namespace zerobus {

// transport.engine's values: gRPC C++, or the library's own HTTP/2 client (src/net).
inline constexpr char kGrpcEngine[] = "grpc";
inline constexpr char kHttp2Engine[] = "http2";

// One option as zb_config_describe() describes it; static strings.
struct PropertyInfo {
  const char *name;
  const char *type;           // "bool", "int" or "string"
  const char *default_value;  // as Config::Get() prints it
  const char *range;
  const char *scope;  // "sdk" or "stream"
  const char *description;
};

// Every option's typed value. Defaults are in config.cc's property table, the one place that
// names, documents and bounds each option.
struct Settings {
  int64_t max_inflight_records;
  int64_t max_inflight_bytes;
  int64_t max_request_bytes;
  int64_t max_payload_bytes;
  int64_t ingest_timeout_ms;
  int64_t ack_timeout_ms;
  bool recovery;
  int64_t recovery_timeout_ms;
  int64_t recovery_backoff_ms;
  int64_t recovery_backoff_max_ms;
  int64_t recovery_retries;
  int64_t paused_max_wait_ms;
  int64_t keepalive_time_ms;
  int64_t keepalive_timeout_ms;
  int64_t connect_timeout_ms;
  bool plaintext;
  std::string tls_ca_file;
  std::string tls_ca_pem;
  std::string tls_cert_file;
  std::string tls_cert_pem;
  std::string tls_key_file;
  std::string tls_key_pem;
  std::string tls_server_name;
  std::string proxy;
  int64_t lanes;
  bool own_connection;
  std::string transport_engine;  // kGrpcEngine or kHttp2Engine
  std::string arrow_compression;
  std::string workspace_url;
  std::string auth_token;
  std::string client_id;
  std::string client_secret;
  std::string federation_client_id;
  int64_t token_refresh_margin_ms;
  LogLevel log_level;
  int64_t statistics_interval_ms;
  int64_t dispatch_threads;
  int64_t supervision_threads;
  std::string application_name;
  bool warnings_enabled;
};

class Config {
 public:
  Config();

  // ZB_ERR_UNKNOWN_KEY or ZB_ERR_INVALID_VALUE leave the config unchanged.
  Status Set(std::string_view key, std::string_view value);
  Status Get(std::string_view key, std::string *value) const;

  const Settings &settings() const { return settings_; }

  void set_headers_provider(HeadersProviderRef provider) {
    headers_provider_ = std::move(provider);
  }
  void set_token_federation(SubjectTokenProviderRef provider) {
    token_federation_ = std::move(provider);
  }
  void set_event_callback(EventCallbackRef callback) { event_callback_ = std::move(callback); }
  void set_wakeup(WakeupRef wakeup) { wakeup_ = std::move(wakeup); }
  void set_log_callback(LogCallbackRef callback) { log_callback_ = std::move(callback); }
  void set_stats_callback(StatsCallbackRef callback) { stats_callback_ = std::move(callback); }
  const HeadersProviderRef &headers_provider() const { return headers_provider_; }
  const SubjectTokenProviderRef &token_federation() const { return token_federation_; }
  const EventCallbackRef &event_callback() const { return event_callback_; }
  const WakeupRef &wakeup() const { return wakeup_; }
  const LogCallbackRef &log_callback() const { return log_callback_; }
  const StatsCallbackRef &stats_callback() const { return stats_callback_; }

  // The `index`-th property, for zb_config_describe(); false past the last.
  static bool Describe(size_t index, PropertyInfo *out);

 private:
  Settings settings_;
  HeadersProviderRef headers_provider_;
  SubjectTokenProviderRef token_federation_;
  EventCallbackRef event_callback_;
  WakeupRef wakeup_;
  LogCallbackRef log_callback_;
  StatsCallbackRef stats_callback_;
};

}  // namespace zerobus

#endif  // ZEROBUS_CORE_CONFIG_H
