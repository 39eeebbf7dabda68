#include "core/native_connection.h"

#include <grpcpp/support/slice.h>

namespace zerobus {

std::shared_ptr<Connection> NativeTransport::Open(
    const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
    std::string create_request, ConnectionListener *listener, bool *waits_for_ready) {
  *waits_for_ready = false;
  std::shared_ptr<net::Http2Connection> http2 =
      shared_ ? shared_->Get(loop_, options_) : net::Http2Connection::Create(loop_, options_);
  {
    sync::MutexLock lock(mu_);
    last_ = http2;
  }
  std::vector<std::pair<std::string, std::string>> all = headers;
  all.emplace_back("user-agent", user_agent_ + " " + net::Http2LibraryName());
  return std::make_shared<NativeConnection>(loop_, std::move(http2), !shared_, std::move(all), kind,
                                            std::move(create_request), listener);
}

bool NativeTransport::Connected() const {
  sync::MutexLock lock(mu_);
  std::shared_ptr<net::Http2Connection> last = last_.lock();
  return last && last->connected();
}

NativeConnection::NativeConnection(net::IoLoop &loop, std::shared_ptr<net::Http2Connection> http2,
                                   bool owns,
                                   std::vector<std::pair<std::string, std::string>> headers,
                                   const CallKind &kind, std::string create_request,
                                   ConnectionListener *listener)
    : loop_(loop),
      http2_(std::move(http2)),
      owns_http2_(owns),
      headers_(std::move(headers)),
      kind_(kind),
      listener_(listener),
      create_request_(std::move(create_request)) {}

NativeConnection::~NativeConnection() {
  if (owns_http2_) http2_->Shutdown("the call is over");
}

std::shared_ptr<net::Http2Connection> SharedHttp2Connection::Get(
    net::IoLoop &loop, const net::ConnectionOptions &options) {
  sync::MutexLock lock(mu_);
  if (!current_ || current_->failed()) current_ = net::Http2Connection::Create(loop, options);
  return current_;
}

void NativeConnection::Start() {
  {
    sync::MutexLock lock(mu_);
    self_ = shared_from_this();
  }
  call_ = http2_->StartCall(kind_.method, headers_, this);
  auto create = std::make_shared<std::string>(std::move(create_request_));
  Answered(call_->Write(net::OutgoingMessage{{*create}, std::move(create)}));
}

void NativeConnection::Answered(net::GrpcCall::WriteResult result) {
  if (result == net::GrpcCall::WriteResult::kLater) return;
  listener_->OnWriteDone(this, result == net::GrpcCall::WriteResult::kDone);
}

void NativeConnection::Write(grpc::ByteBuffer request, bool) {
  // The request's slices stay where they are (an Arrow batch's buffers among them): the call
  // reads them as it sends, and lets go of them once sent.
  auto slices = std::make_shared<std::vector<grpc::Slice>>();
  (void)request.Dump(slices.get());
  net::OutgoingMessage message;
  message.pieces.reserve(slices->size());
  for (const grpc::Slice &slice : *slices) {
    message.pieces.emplace_back(reinterpret_cast<const char *>(slice.begin()), slice.size());
  }
  message.owner = std::move(slices);
  Answered(call_->Write(std::move(message)));
}

void NativeConnection::WritesDone() {
  {
    sync::MutexLock lock(mu_);
    half_closed_ = true;
  }
  Answered(call_->WritesDone());
}

void NativeConnection::Fail(const Status &why) {
  {
    sync::MutexLock lock(mu_);
    if (failure_.ok()) failure_ = why;
  }
  if (call_) call_->Cancel(why.message());
}

void NativeConnection::ReleaseHold() {
  {
    sync::MutexLock lock(mu_);
    hold_released_ = true;
  }
  // Told on the loop's thread, as every end of a call is.
  loop_.Post([self = shared_from_this()] { self->MaybeDone(); });
}

void NativeConnection::OnMessage(net::GrpcCall *, std::string_view message) {
  {
    sync::MutexLock lock(mu_);
    if (reads_ended_) return;
  }
  wire::Response response;
  Status status = kind_.decode(message, &response);
  if (status.ok()) status = listener_->OnResponse(this, response);
  if (!status.ok()) {
    Fail(status);
    EndReads();
  }
}

void NativeConnection::OnWriteDone(net::GrpcCall *, bool ok) {
  listener_->OnWriteDone(this, ok);
}

void NativeConnection::OnEnd(net::GrpcCall *, const net::CallEnd &end) {
  EndReads();
  {
    sync::MutexLock lock(mu_);
    ended_ = true;
    if (!failure_.ok()) {
      outcome_ = failure_;
    } else if (!half_closed_ || end.grpc_status != net::kGrpcOk) {
      // Without our half-close, even OK is the server ending the stream before its time.
      outcome_ = StatusFromGrpc(end.grpc_status, end.message, kind_.durable);
    }
  }
  MaybeDone();
}

void NativeConnection::EndReads() {
  {
    sync::MutexLock lock(mu_);
    if (reads_ended_) return;
    reads_ended_ = true;
  }
  listener_->OnReadsEnded(this);
}

void NativeConnection::MaybeDone() {
  std::shared_ptr<NativeConnection> self;
  Status outcome;
  {
    sync::MutexLock lock(mu_);
    if (!ended_ || !hold_released_ || done_) return;
    done_ = true;
    // The listener holds a reference until it has heard of OnDone, so this one is never the
    // last.
    self = std::move(self_);
    outcome = outcome_;
  }
  listener_->OnDone(this, outcome);
}

}  // namespace zerobus
