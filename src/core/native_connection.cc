#include "core/native_connection.h"

#include <grpcpp/support/slice.h>

#include <algorithm>

namespace zerobus {
namespace {

// The pace of gRPC's connection backoff (doc/connection-backoff.md; grpc_core::BackOff as a
// subchannel uses it), which ChannelResetConnectionBackoff() restarts when a call waits for ready
// on a channel in TRANSIENT_FAILURE: the next connection attempt starts 1 s after the previous
// one began (at once if that one took longer to fail), each delay 1.6 times the last, up to
// 120 s, each within 20% either way.
constexpr std::chrono::milliseconds kFirstRedialDelay{1000};
constexpr double kRedialMultiplier = 1.6;
constexpr double kRedialJitter = 0.2;
constexpr std::chrono::milliseconds kMaxRedialDelay{120000};

}  // namespace

std::shared_ptr<net::Http2Connection> Http2Dialer::Dial() {
  std::shared_ptr<net::Http2Connection> http2 =
      shared_ ? shared_->Get(loop_, options_) : net::Http2Connection::Create(loop_, options_);
  sync::MutexLock lock(mu_);
  last_ = http2;
  return http2;
}

bool Http2Dialer::LastConnected() const {
  std::shared_ptr<net::Http2Connection> last;
  {
    sync::MutexLock lock(mu_);
    last = last_.lock();
  }
  return last && last->connected();
}

bool Http2Dialer::LastUnreachable() const {
  std::shared_ptr<net::Http2Connection> last;
  {
    sync::MutexLock lock(mu_);
    last = last_.lock();
  }
  return last && last->unreachable();
}

std::shared_ptr<net::Http2Connection> SharedHttp2Connection::Get(
    net::IoLoop &loop, const net::ConnectionOptions &options) {
  sync::MutexLock lock(mu_);
  if (!current_ || current_->failed()) current_ = net::Http2Connection::Create(loop, options);
  return current_;
}

std::shared_ptr<Connection> NativeTransport::Open(
    const std::vector<std::pair<std::string, std::string>> &headers, const CallKind &kind,
    std::string create_request, ConnectionListener *listener, bool *waits_for_ready) {
  // gRPC's channel is in TRANSIENT_FAILURE after any connection attempt that failed, the TLS
  // handshake's included; only those that never reached the server count here (a refused or
  // unreachable address, a name that did not resolve), as a server that restarts gives them. A
  // server that answers in another protocol or fails the handshake is a setup to fix, which the
  // stream reports at once (ExplainRefusal()) rather than after recovery.timeout.ms.
  *waits_for_ready = dialer_->LastUnreachable();
  std::shared_ptr<net::Http2Connection> http2 = dialer_->Dial();
  std::vector<std::pair<std::string, std::string>> all = headers;
  all.emplace_back("user-agent", user_agent_ + " " + net::Http2LibraryName());
  return std::make_shared<NativeConnection>(loop_, dialer_, std::move(http2), *waits_for_ready,
                                            std::move(all), kind, std::move(create_request),
                                            listener);
}

bool NativeTransport::Connected() const {
  return dialer_->LastConnected();
}

NativeConnection::NativeConnection(net::IoLoop &loop, std::shared_ptr<Http2Dialer> dialer,
                                   std::shared_ptr<net::Http2Connection> http2,
                                   bool waits_for_ready,
                                   std::vector<std::pair<std::string, std::string>> headers,
                                   const CallKind &kind, std::string create_request,
                                   ConnectionListener *listener)
    : loop_(loop),
      dialer_(std::move(dialer)),
      waits_for_ready_(waits_for_ready),
      headers_(std::move(headers)),
      kind_(kind),
      listener_(listener),
      create_request_(std::make_shared<const std::string>(std::move(create_request))),
      http2_(std::move(http2)),
      dialed_at_(net::IoLoop::Clock::now()),
      jitter_(static_cast<std::minstd_rand::result_type>(
          net::IoLoop::Clock::now().time_since_epoch().count())) {}

NativeConnection::~NativeConnection() {
  std::shared_ptr<net::Http2Connection> http2;
  {
    sync::MutexLock lock(mu_);
    if (redial_timer_ != 0) loop_.Cancel(redial_timer_);
    http2 = http2_;
  }
  if (dialer_->owns()) http2->Shutdown("the call is over");
}

void NativeConnection::Start() {
  std::shared_ptr<net::Http2Connection> http2;
  {
    sync::MutexLock lock(mu_);
    self_ = shared_from_this();
    http2 = http2_;
  }
  StartOn(http2);
}

void NativeConnection::StartOn(const std::shared_ptr<net::Http2Connection> &http2) {
  std::shared_ptr<net::GrpcCall> call;
  Status failure;
  {
    sync::MutexLock lock(mu_);
    call_ = call = http2->StartCall(kind_.method, headers_, this);
    create_outstanding_ = true;
    create_failed_ = false;
    call_ended_ = false;
    failure = failure_;
  }
  CreateAnswered(call->Write(net::OutgoingMessage{{*create_request_}, create_request_}));
  // A Fail() that came before there was a call to cancel.
  if (!failure.ok()) call->Cancel(failure.message());
}

void NativeConnection::Answered(net::GrpcCall::WriteResult result) {
  if (result == net::GrpcCall::WriteResult::kLater) return;
  listener_->OnWriteDone(this, result == net::GrpcCall::WriteResult::kDone);
}

void NativeConnection::CreateAnswered(net::GrpcCall::WriteResult result) {
  switch (result) {
    case net::GrpcCall::WriteResult::kLater:
      return;  // OnWriteDone() tells it
    case net::GrpcCall::WriteResult::kDone:
      CreateDone(true);
      return;
    case net::GrpcCall::WriteResult::kEnded:
      // On the loop's thread, as the call's end is told, so that both are weighed there.
      loop_.Post([self = shared_from_this()] { self->CreateDone(false); });
      return;
  }
}

void NativeConnection::CreateDone(bool ok) {
  bool conclude = false;
  {
    sync::MutexLock lock(mu_);
    create_outstanding_ = false;
    create_failed_ = !ok;
    // A call may end before a write that it took is told (kDone from another thread).
    conclude = call_ended_;
  }
  if (ok) listener_->OnWriteDone(this, true);
  if (conclude) Conclude();
}

void NativeConnection::Conclude() {
  bool redial = false, create_failed = false;
  net::CallEnd end;
  {
    sync::MutexLock lock(mu_);
    create_failed = create_failed_;
    // Nothing of the call reached the server, so it may start again on a new connection, as
    // gRPC sends a call that waits for ready once a connection is.
    redial = waits_for_ready_ && failure_.ok() && create_failed_ && http2_->unreachable();
    if (redial) {
      redial_timer_ = loop_.RunAt(dialed_at_ + NextRedialDelayLocked(), [weak = weak_from_this()] {
        if (std::shared_ptr<NativeConnection> self = weak.lock()) self->Redial();
      });
    }
    end = call_end_;
  }
  if (redial) return;
  if (create_failed) listener_->OnWriteDone(this, false);
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

void NativeConnection::Redial() {
  {
    sync::MutexLock lock(mu_);
    redial_timer_ = 0;
    // Fail() came first and ends the call.
    if (!failure_.ok()) return;
    dialed_at_ = net::IoLoop::Clock::now();
  }
  std::shared_ptr<net::Http2Connection> http2 = dialer_->Dial();
  bool failed = false;
  {
    sync::MutexLock lock(mu_);
    http2_ = http2;
    failed = !failure_.ok();
  }
  if (failed) {
    Conclude();  // Fail() came during the dial and left the end to this
  } else {
    StartOn(http2);
  }
}

std::chrono::milliseconds NativeConnection::NextRedialDelayLocked() {
  redial_backoff_ =
      redial_backoff_.count() == 0
          ? kFirstRedialDelay
          : std::min(kMaxRedialDelay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          redial_backoff_ * kRedialMultiplier));
  std::uniform_real_distribution<double> spread(1 - kRedialJitter, 1 + kRedialJitter);
  return std::chrono::duration_cast<std::chrono::milliseconds>(redial_backoff_ * spread(jitter_));
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
  Answered(CurrentCall()->Write(std::move(message)));
}

void NativeConnection::WritesDone() {
  {
    sync::MutexLock lock(mu_);
    half_closed_ = true;
  }
  Answered(CurrentCall()->WritesDone());
}

net::GrpcCall *NativeConnection::CurrentCall() {
  sync::MutexLock lock(mu_);
  return call_.get();
}

void NativeConnection::Fail(const Status &why) {
  std::shared_ptr<net::GrpcCall> call;
  bool between_dials = false;
  {
    sync::MutexLock lock(mu_);
    if (failure_.ok()) failure_ = why;
    call = call_;
    // Waiting for the next dial, no call runs whose end would end this one.
    between_dials = redial_timer_ != 0;
    if (between_dials) loop_.Cancel(redial_timer_);
    redial_timer_ = 0;
  }
  if (between_dials) {
    loop_.Post([self = shared_from_this()] { self->Conclude(); });
  } else if (call) {
    call->Cancel(why.message());
  }
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
  bool create = false;
  {
    sync::MutexLock lock(mu_);
    create = create_outstanding_;
  }
  if (create) {
    CreateDone(ok);
  } else {
    listener_->OnWriteDone(this, ok);
  }
}

void NativeConnection::OnEnd(net::GrpcCall *, const net::CallEnd &end) {
  bool conclude = false;
  {
    sync::MutexLock lock(mu_);
    call_ended_ = true;
    call_end_ = end;
    // The create request's end may be told after the call's: CreateDone() then concludes.
    conclude = !create_outstanding_;
  }
  if (conclude) Conclude();
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
