#include "core/grpcpp_connection.h"

#include <grpcpp/support/slice.h>

#include "core/grpc_call.h"

namespace zerobus {

std::shared_ptr<Connection> GrpcppTransport::Open(
    const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
    std::string create_request, ConnectionListener *listener, bool *waits_for_ready) {
  *waits_for_ready = channel_->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE;
  if (*waits_for_ready) grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  return GrpcppConnection::Create(channel_, headers, kind, std::move(create_request),
                                  *waits_for_ready, listener);
}

bool GrpcppTransport::Connected() const {
  return channel_->GetState(false) == GRPC_CHANNEL_READY;
}

std::shared_ptr<GrpcppConnection> GrpcppConnection::Create(
    const std::shared_ptr<grpc::Channel> &channel,
    const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
    std::string create_request, bool wait_for_ready, ConnectionListener *listener) {
  std::shared_ptr<GrpcppConnection> connection(
      new GrpcppConnection(channel, kind, std::move(create_request), listener));
  for (const auto &[name, value] : headers) connection->context_.AddMetadata(name, value);
  connection->context_.set_wait_for_ready(wait_for_ready);
  return connection;
}

GrpcppConnection::GrpcppConnection(const std::shared_ptr<grpc::Channel> &channel,
                                   const CallKind &kind, std::string create_request,
                                   ConnectionListener *listener)
    : stub_(channel),
      kind_(kind),
      listener_(listener),
      create_request_(std::move(create_request)) {}

void GrpcppConnection::Fence() {
  std::lock_guard<std::recursive_mutex> lock(order_mu_);
}

void GrpcppConnection::Start() {
  // Held until the call is set up: the first reaction's Fence() waits for it.
  std::lock_guard<std::recursive_mutex> setup(order_mu_);
  self_ = shared_from_this();
  PrepareBidiCall(&stub_, &context_, kind_.method, this);
  AddHold();
  grpc::Slice create(create_request_.data(), create_request_.size());
  write_buffer_ = grpc::ByteBuffer(&create, 1);
  StartWrite(&write_buffer_);
  StartRead(&read_buffer_);
  StartCall();
}

void GrpcppConnection::Write(grpc::ByteBuffer request, bool more_follows) {
  // The reaction that reports this write's end must see it started (see Fence()).
  std::lock_guard<std::recursive_mutex> started(order_mu_);
  write_buffer_ = std::move(request);
  grpc::WriteOptions options;
  if (more_follows) options.set_buffer_hint();
  StartWrite(&write_buffer_, options);
}

void GrpcppConnection::WritesDone() {
  // The reaction that reports the half-close's end must see it started (see Fence()).
  std::lock_guard<std::recursive_mutex> started(order_mu_);
  {
    sync::MutexLock lock(failure_mu_);
    half_closed_ = true;
  }
  StartWritesDone();
}

void GrpcppConnection::Fail(const Status &why) {
  {
    sync::MutexLock lock(failure_mu_);
    if (failure_.ok()) failure_ = why;
  }
  context_.TryCancel();
}

void GrpcppConnection::OnWriteDone(bool ok) {
  Fence();
  // gRPC is done with the request: what its slices hold (an Arrow batch's buffers, which are
  // the producer's until released) goes once acknowledged, not at the next write.
  write_buffer_.Clear();
  listener_->OnWriteDone(this, ok);
  Fence();
}

// The half-close's end is reported as a write's: it frees the one writer.
void GrpcppConnection::OnWritesDoneDone(bool ok) {
  OnWriteDone(ok);
}

void GrpcppConnection::OnReadDone(bool ok) {
  Fence();
  HandleRead(ok);
  Fence();
}

void GrpcppConnection::HandleRead(bool ok) {
  if (!ok) {
    listener_->OnReadsEnded(this);
    return;
  }
  grpc::Slice single;
  std::string joined;
  std::string_view bytes;
  if (read_buffer_.TrySingleSlice(&single).ok()) {
    bytes = std::string_view(reinterpret_cast<const char *>(single.begin()), single.size());
  } else {
    std::vector<grpc::Slice> slices;
    (void)read_buffer_.Dump(&slices);
    for (const grpc::Slice &slice : slices) {
      joined.append(reinterpret_cast<const char *>(slice.begin()), slice.size());
    }
    bytes = joined;
  }
  wire::Response response;
  Status status = kind_.decode(bytes, &response);
  if (status.ok()) status = listener_->OnResponse(this, response);
  if (!status.ok()) {
    Fail(status);
    listener_->OnReadsEnded(this);
    return;
  }
  StartRead(&read_buffer_);
}

void GrpcppConnection::OnDone(const grpc::Status &status) {
  Fence();
  Status outcome;
  {
    sync::MutexLock lock(failure_mu_);
    if (!failure_.ok()) {
      outcome = failure_;
    } else if (!half_closed_ ||
               GrpcStatusNumber(status) != static_cast<int>(grpc::StatusCode::OK)) {
      // Without our half-close, even OK is the server ending the stream before its time.
      outcome = StatusFromGrpc(status, kind_.durable);
    }
  }
  // The listener holds a reference until it has heard of OnDone, so this one is never the
  // last: the connection, its stub and perhaps the channel must not be freed on a gRPC thread,
  // where destroying the channel can join the very thread doing it.
  self_.reset();
  listener_->OnDone(this, outcome);
}

}  // namespace zerobus
