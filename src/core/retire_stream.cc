#include "core/retire_stream.h"

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/connection.h"
#include "core/endpoint.h"
#include "core/grpc_call.h"
#include "core/headers.h"
#include "core/oauth.h"
#include "core/stream.h"
#include "core/wire.h"

namespace zerobus {
namespace {

constexpr char kRetireMethod[] = "/databricks.zerobus.Zerobus/RetireStream";

}  // namespace

Status RetireStream(const std::shared_ptr<Sdk> &sdk, const std::string &table_name,
                    const std::string &stream_id, const Config &config) {
  Status valid = CheckTableName(table_name);
  if (!valid.ok()) return valid;
  if (stream_id.empty()) return Status(StatusCode::kInvalidArg, "the stream id is empty");
  const Settings &settings = config.settings();
  std::shared_ptr<TokenSource> tokens;
  Status credentials = MakeTokenSource(*sdk, table_name, config, &tokens);
  if (!credentials.ok()) return credentials;
  std::string bearer = settings.auth_token;
  if (tokens) {
    bool fetched = false;
    Status got = tokens->Get(false, &bearer, &fetched);
    if (!got.ok()) return got;
  }
  Headers headers;
  Status collected = CollectHeaders(config.headers_provider(), bearer, table_name, &headers);
  if (!collected.ok()) return collected;

  grpc::GenericStub stub(sdk->channel());
  grpc::ClientContext context;
  for (const auto &[name, value] : headers.entries) context.AddMetadata(name, value);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(settings.recovery_timeout_ms));
  const std::string encoded = wire::EncodeRetireStream(table_name, stream_id);
  grpc::Slice slice(encoded.data(), encoded.size());
  const grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  Status outcome;
  // The grpc::Status is read where it is given and never copied: its code is whatever number
  // the server sent (grpc_call.h).
  StartUnaryCall(&stub, &context, kRetireMethod, &request, &response,
                 [&](const grpc::Status &status) {
                   Status read = GrpcStatusNumber(status) == static_cast<int>(grpc::StatusCode::OK)
                                     ? Status::Ok()
                                     : StatusFromGrpc(status, true);
                   std::lock_guard<std::mutex> lock(mu);
                   outcome = std::move(read);
                   done = true;
                   done_cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  done_cv.wait(lock, [&] { return done; });
  if (outcome.ok()) return Status::Ok();
  return Status(outcome.code(), "retiring stream " + stream_id + ": " + outcome.message(),
                outcome.retryable(), outcome.grpc_status());
}

}  // namespace zerobus
