#include "secure_server.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "table/ddl_parser.h"

namespace zbtest {

zerobus::Config MakeConfig(const Options &options) {
  zb_config *raw = nullptr;
  EXPECT_EQ(zb_config_new(&raw, nullptr), ZB_OK);
  zerobus::Config config = zerobus::Config::adopt(raw);
  for (const auto &[key, value] : options) {
    zb_error *error = nullptr;
    EXPECT_EQ(zb_config_set(config.get(), key.c_str(), value.c_str(), &error), ZB_OK)
        << key << ": " << zb_error_message(error);
    zb_error_free(error);
  }
  return config;
}

std::string TestEngine() {
  const char *engine = std::getenv("ZBTEST_TRANSPORT_ENGINE");
  return engine != nullptr && *engine != '\0' ? engine : "http2";
}

std::string StackName() {
  return TestEngine() == "http2" ? " nghttp2/" : " grpc-c++/";
}

zerobus::Sdk PlaintextSdk(const std::string &endpoint) {
  zerobus::Config config =
      MakeConfig({{"transport.plaintext", "true"}, {"transport.engine", TestEngine()}});
  zb_sdk *raw = nullptr;
  zb_error *error = nullptr;
  EXPECT_EQ(zb_sdk_new(endpoint.c_str(), config.get(), &raw, &error), ZB_OK)
      << zb_error_message(error);
  zb_error_free(error);
  return zerobus::Sdk::adopt(raw);
}

Opened OpenJson(zb_sdk *sdk, const std::string &table, const Options &options) {
  zerobus::Config config = MakeConfig(options);
  zb_stream *stream = nullptr;
  zb_error *error = nullptr;
  Opened opened;
  opened.status =
      zb_stream_new(sdk, table.c_str(), ZB_RECORD_JSON, nullptr, 0, config.get(), &stream, &error);
  opened.stream = zerobus::Stream::adopt(stream);
  opened.error = TakeError(error);
  EXPECT_EQ(opened.status == ZB_OK, stream != nullptr);
  return opened;
}

zerobus::Error TakeError(zb_error *error) {
  if (error == nullptr) return zerobus::Error(ZB_OK, "", false, -1);
  zerobus::Error copy = zerobus::Error::from_c(zb_error_code(error), error);
  zb_error_free(error);
  return copy;
}

void IngestJson(zb_stream *stream, int64_t first, int64_t count) {
  for (int64_t id = first; id < first + count; ++id) {
    const std::string record = R"({"id": )" + std::to_string(id) + R"(, "msg": "m"})";
    zb_error *error = nullptr;
    ASSERT_EQ(zb_stream_ingest_json(stream, record.data(), record.size(), nullptr, &error), ZB_OK)
        << zb_error_message(error);
  }
}

int64_t IngestUntilRecoveries(zb_stream *stream, uint64_t recoveries) {
  int64_t ingested = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Info(stream).recoveries < recoveries && std::chrono::steady_clock::now() < deadline) {
    IngestJson(stream, ingested, 10);
    ingested += 10;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ingested;
}

zb_stream_info Info(zb_stream *stream) {
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  EXPECT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  return info;
}

void FlushAndClose(zb_stream *stream) {
  zb_error *error = nullptr;
  EXPECT_EQ(zb_stream_flush(stream, 30000, &error), ZB_OK) << zb_error_message(error);
  zb_error_free(error);
  error = nullptr;
  EXPECT_EQ(zb_stream_close(stream, 30000, &error), ZB_OK) << zb_error_message(error);
  zb_error_free(error);
}

SecureServer::SecureServer(Settings settings, const std::string &federation_key_file) {
  std::string error;
  EXPECT_TRUE(
      settings.server_names.empty()
          ? zerobus::server::EnsureSelfSignedCertificate(dir_.path(), "127.0.0.1", &files_, &error)
          : zerobus::server::MakeSelfSignedCertificate(dir_.path(), settings.server_names, &files_,
                                                       &error))
      << error;
  zerobus::server::ServerOptions options;
  options.tls_cert_file = files_.cert_file;
  options.tls_key_file = files_.key_file;
  if (settings.require_client_certificate) options.tls_client_ca_file = files_.ca_file;
  options.http_port = 0;
  options.auth = zerobus::server::ClientCredentials{kClientId, kClientSecret};
  options.token_lifetime = settings.token_lifetime;
  options.federation_key_file = federation_key_file;
  options.stream_lifetime = settings.stream_lifetime;
  options.close_signal_lead = settings.stream_lifetime / 3;
  options.data_dir = dir_.path();
  // As the service: no token, and no stream, for a table the workspace does not have.
  options.accept_undeclared_tables = false;
  options.tables.resize(1);
  EXPECT_TRUE(zerobus::table::ParseTableDdl(std::string(kTable) + " (id BIGINT, msg STRING)",
                                            &options.tables[0], &error))
      << error;
  options.log = [this](const std::string &line) {
    std::lock_guard<std::mutex> lock(log_mu_);
    log_.push_back(line);
  };
  server_ = zerobus::server::Server::Start(std::move(options), &error);
  EXPECT_NE(server_, nullptr) << error;
}

std::string SecureServer::address() const {
  return "127.0.0.1:" + std::to_string(server_->port());
}

std::string SecureServer::ca_pem() const {
  std::string pem;
  std::string error;
  EXPECT_TRUE(zerobus::server::ReadTextFile(files_.ca_file, &pem, &error)) << error;
  return pem;
}

Options SecureServer::SdkOptions() const {
  return {{"workspace.url", server_->workspace_url()}, {"tls.ca.file", files_.ca_file}};
}

Options SecureServer::ClientOptions() {
  return {{"auth.client.id", kClientId}, {"auth.client.secret", kClientSecret}};
}

zerobus::Sdk SecureServer::NewSdk(const Options &options) const {
  Options with_engine = options;
  const bool named = std::any_of(options.begin(), options.end(), [](const auto &option) {
    return option.first == "transport.engine";
  });
  if (!named) with_engine.emplace_back("transport.engine", TestEngine());
  zerobus::Config config = MakeConfig(with_engine);
  zb_sdk *sdk = nullptr;
  zb_error *error = nullptr;
  EXPECT_EQ(zb_sdk_new(server_->endpoint().c_str(), config.get(), &sdk, &error), ZB_OK)
      << zb_error_message(error);
  zb_error_free(error);
  return zerobus::Sdk::adopt(sdk);
}

std::vector<int64_t> SecureServer::StoredIds() const {
  std::vector<int64_t> ids;
  const int64_t count = server_->rows().Count(kTable);
  for (int64_t index = 0; index < count; ++index) {
    std::optional<zerobus::server::Record> row = server_->rows().Get(kTable, index);
    if (!row) break;
    ids.push_back(nlohmann::json::parse(row->data).at("id").get<int64_t>());
  }
  return ids;
}

std::vector<std::string> SecureServer::log() const {
  std::lock_guard<std::mutex> lock(log_mu_);
  return log_;
}

}  // namespace zbtest
