#include "core/stream.h"

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/channel.h>

#include <algorithm>
#include <cassert>

#include "arrow/ipc_writer.h"
#include "core/endpoint.h"
#include "core/flight_wire.h"
#include "core/headers.h"
#include "table/json_value.h"

namespace zerobus {
namespace {

// Checked before any connection: a protobuf stream's descriptor, an Avro stream's writer
// schema (its fit to the table is the server's to judge). ZB_ERR_INVALID_TARGET, as a table
// name that cannot be.
Status CheckSchemaOf(RecordFormat format, const std::string &schema) {
  if (format == RecordFormat::kProto) {
    google::protobuf::DescriptorProto parsed;
    if (!parsed.ParseFromString(schema) || parsed.name().empty()) {
      return Status(StatusCode::kInvalidTarget,
                    "the descriptor is not a serialized google.protobuf.DescriptorProto with a "
                    "message name");
    }
  } else if (format == RecordFormat::kAvro) {
    nlohmann::json parsed;
    std::string error;
    if (!table::ParseJson(schema, &parsed, &error)) {
      return Status(StatusCode::kInvalidTarget, "the Avro writer schema " + error);
    }
    if (!parsed.is_object() || parsed.value("type", nlohmann::json()) != "record") {
      return Status(StatusCode::kInvalidTarget,
                    "the Avro writer schema must be a record, not " + table::DescribeJson(parsed));
    }
  }
  return Status::Ok();
}

// Lines about connections ending, failing and recovering: the first few of an episode, then
// one per period (LogThrottle).
constexpr int64_t kConnectionLogBurst = 6;
constexpr std::chrono::seconds kConnectionLogPeriod(10);

// `from + wait`, or the end of time when that is beyond what the clock can hold (a pause a
// server announced in years).
Stream::Clock::time_point Later(Stream::Clock::time_point from, std::chrono::milliseconds wait) {
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(
      Stream::Clock::time_point::max() - from);
  return wait >= room ? Stream::Clock::time_point::max() : from + wait;
}

// One batch as the IPC stream format has it: its schema, the batch, the end-of-stream marker.
std::string IpcStreamOf(const arrow::Schema &schema, const arrow::RecordBatch &rows) {
  std::vector<arrow::Buffer> slices;
  arrow::AppendEncapsulated(arrow::EncodeSchema(schema), &slices);
  arrow::EncodedMessage batch;
  // Without compression the encoder only lays out the buffers it is given: it cannot fail on a
  // batch the stream encoded once already.
  if (arrow::EncodeRecordBatch(schema, rows, arrow::WriteOptions{}, &batch).ok()) {
    arrow::AppendEncapsulated(batch, &slices);
  }
  slices.push_back(arrow::EndOfStream());
  return arrow::Concatenate(slices);
}

// arrow.compression's value as a codec (the config checked it).
arrow::Codec ArrowCodec(const std::string &name) {
  return name == "lz4_frame" ? arrow::Codec::kLz4Frame
         : name == "zstd"    ? arrow::Codec::kZstd
                             : arrow::Codec::kNone;
}

}  // namespace

Status MakeTokenSource(const Sdk &sdk, const std::string &table, const Config &config,
                       std::shared_ptr<TokenSource> *out) {
  const Settings &settings = config.settings();
  const bool client = !settings.client_id.empty() || !settings.client_secret.empty();
  const bool federation = config.token_federation() != nullptr;
  const int sources = static_cast<int>(client) + static_cast<int>(!settings.auth_token.empty()) +
                      static_cast<int>(config.headers_provider() != nullptr) +
                      static_cast<int>(federation);
  if (sources > 1) {
    return Status(StatusCode::kInvalidArg,
                  "more than one source of credentials: set one of auth.client.id with "
                  "auth.client.secret, auth.token, a headers provider, or token federation");
  }
  if (!client && !federation) return Status::Ok();
  if (client && (settings.client_id.empty() || settings.client_secret.empty())) {
    return Status(StatusCode::kInvalidArg, "auth.client.id and auth.client.secret go together");
  }
  if (sdk.workspace_url().empty()) {
    return Status(
        StatusCode::kInvalidArg,
        std::string(federation ? "token federation needs" : "OAuth client credentials need") +
            " workspace.url, where tokens are requested, in the SDK's config");
  }
  OAuthClient oauth{
      sdk.workspace_url(),       sdk.endpoint().workspace_id,
      settings.client_id,        settings.client_secret,
      sdk.workspace_transport(), std::chrono::milliseconds(settings.token_refresh_margin_ms)};
  oauth.transport.timeout_ms = settings.recovery_timeout_ms;
  *out = std::make_shared<TokenSource>(
      std::move(oauth), table,
      TokenFederation{config.token_federation(), settings.federation_client_id}, sdk.token_cache(),
      sdk.logger());
  return Status::Ok();
}

Status Stream::OpenWith(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                        std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                        const Config &config, UserHandle handle, Persistence persistence,
                        std::unique_ptr<Stream> *out) {
  return OpenChecked(std::move(sdk), std::move(table_name),
                     Kind{format, std::move(descriptor), std::move(schema), nullptr}, config,
                     handle, nullptr, std::move(persistence), out);
}

Status Stream::OpenLane(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                        std::string descriptor, const Config &config, LaneOf lane,
                        std::unique_ptr<Stream> *out) {
  return OpenChecked(std::move(sdk), std::move(table_name),
                     Kind{format, std::move(descriptor), nullptr, nullptr}, config, nullptr, &lane,
                     Persistence(), out);
}

Status Stream::OpenArrow(std::shared_ptr<Sdk> sdk, std::string table_name,
                         std::shared_ptr<const arrow::Schema> schema, const Config &config,
                         UserHandle handle, std::unique_ptr<Stream> *out) {
  return OpenChecked(std::move(sdk), std::move(table_name),
                     Kind{RecordFormat::kArrow, std::string(), nullptr, std::move(schema)}, config,
                     handle, nullptr, Persistence(), out);
}

Status Stream::OpenChecked(std::shared_ptr<Sdk> sdk, std::string table_name, Kind kind,
                           const Config &config, UserHandle handle, const LaneOf *lane,
                           Persistence persistence, std::unique_ptr<Stream> *out) {
  Status valid = CheckTableName(table_name);
  if (!valid.ok()) return valid;
  if (persistence.mode == Persistence::Mode::kResume && persistence.stream_id.empty()) {
    return Status(StatusCode::kInvalidArg, "the stream id to resume is empty");
  }
  Status described = CheckSchemaOf(kind.format, kind.descriptor);
  if (!described.ok()) return described;
  std::shared_ptr<TokenSource> tokens;
  if (lane) {
    tokens = lane->tokens;
  } else {
    Status credentials = MakeTokenSource(*sdk, table_name, config, &tokens);
    if (!credentials.ok()) return credentials;
  }
  std::unique_ptr<Stream> stream(new Stream(std::move(sdk), std::move(table_name), std::move(kind),
                                            config, handle, std::move(tokens), lane, persistence));
  Status connected = stream->RunUntilOpen();
  if (!connected.ok()) {
    stream->Log(LogLevel::kError, "stream",
                [&] { return "opening the stream failed: " + DescribeForLog(connected); });
    return connected;
  }
  if (!lane) {
    stream->sdk_->streams().Add(stream.get());
    stream->sdk_->stream_open_warning().Opened(stream->table_name_, stream->sdk_->logger());
  }
  std::string server_stream_id, resumed;
  {
    sync::MutexLock lock(stream->mu_);
    server_stream_id = stream->server_stream_id_;
    if (stream->resumed_at_open_) {
      resumed = stream->resume_has_watermark_
                    ? ", resumed at committed offset " + std::to_string(stream->resume_watermark_)
                    : ", resumed with nothing committed";
    }
  }
  stream->Log(LogLevel::kInfo, "stream", [&] {
    // A Flight call has no server stream id.
    return stream->format_ == RecordFormat::kArrow
               ? std::string("stream of Arrow record batches opened (Flight DoPut)")
               : std::string("stream of ") + RecordFormatName(stream->format_) +
                     " records opened (" +
                     (stream->call_kind_.durable ? "persistent " : "server ") + "stream id " +
                     server_stream_id + resumed + ")";
  });
  *out = std::move(stream);
  return Status::Ok();
}

Stream::Stream(std::shared_ptr<Sdk> sdk, std::string table_name, Kind kind, const Config &config,
               UserHandle handle, std::shared_ptr<TokenSource> tokens, const LaneOf *lane,
               const Persistence &persistence)
    : sdk_(std::move(sdk)),
      table_name_(std::move(table_name)),
      format_(kind.format),
      descriptor_(std::move(kind.descriptor)),
      schema_(std::move(kind.schema)),
      arrow_schema_(std::move(kind.arrow_schema)),
      call_kind_(format_ == RecordFormat::kArrow                     ? flight::kDoPutCall
                 : persistence.mode == Persistence::Mode::kEphemeral ? kEphemeralStreamCall
                                                                     : kPersistentStreamCall),
      config_(config),
      settings_(config_.settings()),
      create_request_(format_ == RecordFormat::kArrow
                          ? flight::SchemaFrame(arrow::EncodeSchema(*arrow_schema_))
                      : call_kind_.durable
                          ? wire::EncodeCreatePersistentStream(table_name_, format_, descriptor_)
                          : wire::EncodeCreateStream(table_name_, format_, descriptor_)),
      // A Flight call always has a connection of its own (reference/official-3x.md §2).
      transport_(sdk_->NewTransport(settings_.own_connection || format_ == RecordFormat::kArrow)),
      tokens_(std::move(tokens)),
      sink_(lane ? lane->sink : nullptr),
      lane_index_(lane ? lane->index : 0),
      log_name_(lane ? table_name_ + " (lane " + std::to_string(lane->index) + ")" : table_name_),
      window_(MakeOutbox(lane)),
      persistent_id_(persistence.stream_id),
      jitter_(std::random_device{}()),
      connection_log_(kConnectionLogBurst, kConnectionLogPeriod),
      events_(handle, config_.event_callback(), config_.wakeup(), sdk_->dispatch()) {}

std::unique_ptr<Outbox> Stream::MakeOutbox(const LaneOf *lane) const {
  if (format_ == RecordFormat::kArrow) {
    return std::make_unique<BatchWindow>(
        arrow_schema_, BatchLimits{static_cast<size_t>(settings_.max_inflight_records),
                                   static_cast<size_t>(settings_.max_inflight_bytes),
                                   static_cast<size_t>(settings_.max_request_bytes),
                                   ArrowCodec(settings_.arrow_compression)});
  }
  return std::make_unique<Window>(WindowLimits{static_cast<size_t>(settings_.max_inflight_records),
                                               static_cast<size_t>(settings_.max_inflight_bytes),
                                               static_cast<size_t>(settings_.max_request_bytes),
                                               static_cast<size_t>(settings_.max_payload_bytes)},
                                  lane ? lane->pool : nullptr, format_, call_kind_.durable);
}

Stream::~Stream() {
  if (!sink_) sdk_->streams().Remove(this);
  Shutdown();
}

Status Stream::CheckFitsUnlocked(const RecordView *records, size_t count, size_t *framed) const {
  if (format_ == RecordFormat::kArrow) {
    return Status(StatusCode::kRecordType, "this stream takes Arrow record batches");
  }
  return record_window().CheckFits(records, count, framed);
}

Status Stream::Ingest(const RecordView *records, size_t count, RecordFormat format,
                      uint64_t *last_offset) {
  if (format_ == RecordFormat::kArrow) {
    return Status(StatusCode::kRecordType, "this stream takes Arrow record batches");
  }
  std::vector<std::string> encoded;
  std::vector<RecordView> views;
  Status taken = PrepareRecords(schema_.get(), format_, format, count, &records, &encoded, &views);
  if (!taken.ok()) return taken;
  size_t framed = 0;
  Status fits = CheckFitsUnlocked(records, count, &framed);
  if (!fits.ok()) return fits;
  return Admit(
      count, framed,
      [&]()
          ABSL_NO_THREAD_SAFETY_ANALYSIS { return record_window().Append(records, count, framed); },
      last_offset);
}

Status Stream::IngestBatch(arrow::RecordBatch rows, uint64_t *offset) {
  if (format_ != RecordFormat::kArrow) {
    return Status(StatusCode::kRecordType, std::string("this stream takes ") +
                                               RecordFormatName(format_) +
                                               " records, not Arrow record batches");
  }
  EncodedBatch encoded;
  Status fits = EncodeUnlocked(std::move(rows), &encoded);
  if (!fits.ok()) return fits;
  const size_t bytes = encoded.bytes;
  return Admit(
      1, bytes,
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return batch_window().Append(std::move(encoded)); },
      offset);
}

Status Stream::Admit(size_t count, size_t bytes, absl::FunctionRef<uint64_t()> append,
                     uint64_t *last_offset) {
  grpc::ByteBuffer request;
  bool write = false, more_follows = false;
  std::shared_ptr<Connection> connection;
  {
    sync::UniqueLock lock(mu_);
    auto can_go_on = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return state_ != State::kOpen || window_->HasRoom(count, bytes);
    };
    if (!can_go_on() &&
        (settings_.ingest_timeout_ms == 0 ||
         !WaitLocked(lock, room_, static_cast<int32_t>(settings_.ingest_timeout_ms), can_go_on))) {
      const char *unit = format_ == RecordFormat::kArrow ? "batch" : "record";
      return Status(StatusCode::kQueueFull,
                    "the in-flight window is full (" + Plural(window_->records(), unit) + ", " +
                        Plural(window_->bytes(), "byte") +
                        "; see stream.max.inflight.records and stream.max.inflight.bytes)",
                    true);
    }
    if (state_ == State::kFailed) return failure_;
    if (state_ != State::kOpen) return Status(StatusCode::kClosed, "the stream is closed");
    uint64_t last = append();
    if (sink_) last = sink_->OnLaneAppended(lane_index_, last + 1 - count, count, bytes);
    if (last_offset) *last_offset = last;
    write = TakeWriteLocked(&request, &more_follows);
    if (write) connection = connection_;
  }
  if (write) connection->Write(std::move(request), more_follows);
  return Status::Ok();
}

bool Stream::TakeWriteLocked(grpc::ByteBuffer *request, bool *more_follows) {
  if (link_ != Link::kLive || call_.writer_busy || call_.reads_ended) return false;
  const bool was_idle = !window_->has_unacked_sent();
  if (!window_->TakeNextRequest(request)) return false;
  *more_follows = window_->more_ready();
  call_.writer_busy = true;
  // The ack timeout counts from now, not from the last progress before the lull. The
  // supervisor needs no wakeup: idle, it looks again within one ack timeout anyway.
  if (was_idle) last_progress_ = Clock::now();
  return true;
}

bool Stream::TakeHalfCloseLocked() {
  if (!half_close_wanted_ || call_.writer_busy || call_.reads_ended ||
      (link_ != Link::kLive && link_ != Link::kPaused)) {
    return false;
  }
  call_.writer_busy = true;
  MoveLocked(Link::kHalfClosed);
  return true;
}

template <typename Predicate>
bool Stream::WaitLocked(sync::UniqueLock &lock, std::condition_variable &cv, int32_t timeout_ms,
                        Predicate done) {
  if (timeout_ms < 0) {
    lock.Wait(cv, done);
    return true;
  }
  return lock.WaitFor(cv, std::chrono::milliseconds(timeout_ms), done);
}

Status Stream::WaitForOffset(uint64_t offset, int32_t timeout_ms) {
  sync::UniqueLock lock(mu_);
  if (offset >= window_->next_offset()) {
    return Status(StatusCode::kInvalidArg, "offset " + std::to_string(offset) +
                                               " was never issued; the next offset is " +
                                               std::to_string(window_->next_offset()));
  }
  WaitLocked(lock, changed_, timeout_ms, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return window_->acked_count() > offset || state_ == State::kFailed || state_ == State::kClosed;
  });
  if (window_->acked_count() > offset) return Status::Ok();
  if (state_ == State::kFailed) return failure_;
  if (state_ == State::kClosed) {
    return Status(StatusCode::kClosed, "the stream was closed before offset " +
                                           std::to_string(offset) + " was acknowledged");
  }
  return Status(StatusCode::kTimeout,
                "offset " + std::to_string(offset) + " was not acknowledged within " +
                    std::to_string(timeout_ms) + " ms",
                true);
}

Status Stream::Flush(int32_t timeout_ms) {
  uint64_t next_offset;
  {
    sync::MutexLock lock(mu_);
    next_offset = window_->next_offset();
  }
  if (next_offset == 0) return Status::Ok();
  return WaitForOffset(next_offset - 1, timeout_ms);
}

void Stream::LogClosed(const Status &result) const {
  // A failed stream logged its failure when it failed.
  if (sink_) return;
  if (result.ok()) {
    uint64_t acked;
    {
      sync::MutexLock lock(mu_);
      acked = window_->acked_count();
    }
    Log(LogLevel::kInfo, "stream", [&] {
      return "stream closed with all of its " + Plural(acked, "record") + " acknowledged";
    });
  } else if (result.code() == StatusCode::kTimeout) {
    Log(LogLevel::kWarn, "stream", [&] { return result.message(); });
  }
}

Status Stream::CloseOnce(int32_t timeout_ms, bool *first) {
  sync::MutexLock serial(close_mu_);
  const Clock::time_point started = Clock::now();
  Status result;
  {
    sync::UniqueLock lock(mu_);
    if (close_done_) return close_result_;
    *first = true;
    if (state_ == State::kOpen) state_ = State::kClosing;
    room_.notify_all();
    WaitLocked(lock, changed_, timeout_ms, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return window_->all_acked() || state_ == State::kFailed;
    });
    if (state_ == State::kFailed) {
      result = failure_;
    } else if (!window_->all_acked()) {
      const uint64_t first = window_->acked_count(), last = window_->next_offset() - 1;
      result = CloseTimedOut(timeout_ms, first, last);
      // A lane's laned stream reports its own close.
      if (!sink_) events_.PushError(first, last, result);
    }
    if (state_ != State::kFailed) state_ = State::kClosed;
    if (result.ok()) {
      // The server's status may take what is left of the close's time, and no longer than a
      // silent server may keep records unacknowledged (stream.ack.timeout.ms).
      const Clock::time_point patience =
          Clock::now() + std::chrono::milliseconds(settings_.ack_timeout_ms);
      EndCallGracefully(
          lock, timeout_ms < 0
                    ? patience
                    : std::min(patience, Later(started, std::chrono::milliseconds(timeout_ms))));
    }
    close_done_ = true;
    close_result_ = result;
    changed_.notify_all();
  }
  StopBackground();
  return result;
}

void Stream::EndCallGracefully(sync::UniqueLock &lock, Clock::time_point deadline) {
  // Between connections there is no call to end: StopBackground() ends an attempt under way.
  if (link_ != Link::kLive && link_ != Link::kPaused) return;
  const std::shared_ptr<Connection> connection = connection_;
  half_close_wanted_ = true;
  // Else the writer is busy, and half-closes when its write ends (OnWriteDone).
  if (TakeHalfCloseLocked()) {
    lock.Unlock();
    connection->WritesDone();
    lock.Lock();
  }
  const bool ended = lock.WaitUntil(changed_, deadline, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !CallAliveLocked() || connection_ != connection;
  });
  const Status outcome = ended && connection_ == connection ? connection_outcome_ : Status::Ok();
  lock.Unlock();
  if (!ended) {
    // StopBackground() cancels the call.
    Log(LogLevel::kInfo, "connection", [&] {
      return "the server sent no status in the close's time after the half-close; cancelling "
             "the call";
    });
  } else if (!outcome.ok()) {
    Log(LogLevel::kInfo, "connection", [&] {
      return "with every record acknowledged, the call ended: " + DescribeForLog(outcome);
    });
  }
  lock.Lock();
}

Status Stream::Poll(size_t capacity, int32_t timeout_ms, const EventQueue::Take &take,
                    size_t *count) {
  const Clock::time_point deadline = timeout_ms < 0
                                         ? Clock::time_point::max()
                                         : Clock::now() + std::chrono::milliseconds(timeout_ms);
  return events_.Poll(capacity, deadline, take, count);
}

void Stream::CopyUnacked(std::vector<std::pair<uint64_t, std::string>> *out) const {
  sync::MutexLock lock(mu_);
  out->reserve(window_->records());
  if (format_ == RecordFormat::kArrow) {
    batch_window().VisitUnacked([&](uint64_t offset, const arrow::RecordBatch &rows) {
      out->emplace_back(offset, IpcStreamOf(*arrow_schema_, rows));
    });
    return;
  }
  record_window().VisitUnacked([&](size_t, uint64_t offset, std::string_view record) {
    out->emplace_back(offset, std::string(record));
  });
}

std::chrono::milliseconds Stream::PauseFor(int64_t server_ms) const {
  const int64_t cap = settings_.paused_max_wait_ms;
  const int64_t asked = std::max<int64_t>(server_ms, 0);
  return std::chrono::milliseconds(cap < 0 ? asked : std::min(cap, asked));
}

std::chrono::milliseconds Stream::Backoff(int64_t attempt) {
  const int64_t cap = settings_.recovery_backoff_max_ms;
  int64_t base = std::min(settings_.recovery_backoff_ms, cap);
  for (int64_t i = 1; i < attempt && base < cap; ++i) base = std::min(base * 2, cap);
  const int64_t spread = base / 2;
  const int64_t random = spread > 0 ? static_cast<int64_t>(jitter_() % (spread + 1)) : 0;
  return std::chrono::milliseconds(base - spread + random);
}

StreamState Stream::PublicStateLocked() const {
  if (state_ == State::kFailed) return StreamState::kFailed;
  if (state_ == State::kClosed) return StreamState::kClosed;
  switch (link_) {
    case Link::kLive:
    case Link::kHalfClosed:
      return StreamState::kOpen;
    case Link::kPaused:
      return StreamState::kPaused;
    default:
      return StreamState::kRecovering;
  }
}

StreamInfo Stream::GetInfo() const {
  StreamInfo info;
  sync::MutexLock lock(mu_);
  info.state = PublicStateLocked();
  info.records_accepted = window_->next_offset();
  info.records_acked = window_->acked_count();
  info.records_in_flight = window_->records();
  info.bytes_in_flight = window_->bytes();
  info.recoveries = recoveries_;
  info.records_replayed = records_replayed_;
  return info;
}

PersistentInfo Stream::GetPersistentInfo() const {
  PersistentInfo info;
  sync::MutexLock lock(mu_);
  info.persistent = call_kind_.durable;
  info.stream_id = persistent_id_;
  info.resumed = resumed_at_open_;
  info.has_watermark = resume_has_watermark_;
  info.watermark = resume_watermark_;
  return info;
}

void Stream::Snapshot(StreamStats *out) const {
  out->taken_at = std::chrono::system_clock::now();
  out->table = table_name_;
  out->format = format_;
  sync::MutexLock lock(mu_);
  out->state = PublicStateLocked();
  out->server_stream_id = server_stream_id_;
  out->offsets_issued = window_->next_offset();
  out->offsets_sent = window_->sent_watermark();
  out->offsets_acked = window_->acked_count();
  out->records_in_flight = window_->records();
  out->bytes_in_flight = window_->bytes();
  out->recoveries = recoveries_;
  out->records_replayed = records_replayed_;
  out->errors = errors_;
  out->last_error = last_error_;
  out->wire = window_->wire_counters();
  out->ack_latency = window_->ack_latency();
}

Status Stream::Recreate(UserHandle handle, std::unique_ptr<StreamHandle> *out) const {
  std::vector<std::vector<std::string>> requests;
  std::vector<arrow::RecordBatch> batches;
  uint64_t first_unacked = 0;
  Persistence persistence;
  {
    sync::MutexLock lock(mu_);
    if (state_ != State::kFailed && state_ != State::kClosed) {
      return Status(StatusCode::kState, "only a failed or closed stream can be recreated");
    }
    if (format_ == RecordFormat::kArrow) {
      batch_window().VisitUnacked(
          [&](uint64_t, const arrow::RecordBatch &rows) { batches.push_back(rows); });
    } else {
      first_unacked = window_->acked_count();
      record_window().VisitUnacked([&](size_t request, uint64_t, std::string_view record) {
        if (request == requests.size()) requests.emplace_back();
        requests.back().emplace_back(record);
      });
    }
    // A persistent stream is resumed, not created anew: its records keep their offsets.
    if (call_kind_.durable) {
      persistence.mode =
          persistent_id_.empty() ? Persistence::Mode::kCreate : Persistence::Mode::kResume;
      persistence.stream_id = persistent_id_;
    }
  }
  std::unique_ptr<Stream> fresh;
  Status opened = OpenChecked(sdk_, table_name_, Kind{format_, descriptor_, schema_, arrow_schema_},
                              config_, handle, nullptr, std::move(persistence), &fresh);
  if (!opened.ok()) return opened;
  for (arrow::RecordBatch &rows : batches) {
    Status ingested = fresh->IngestBatch(std::move(rows), nullptr);
    if (!ingested.ok()) return ingested;
  }
  // Offsets the resume found committed are not sent again: the server would store them twice.
  uint64_t skip = 0;
  if (fresh->GetPersistentInfo().resumed) {
    const uint64_t next = fresh->GetInfo().records_accepted;
    if (next < first_unacked) {
      return Status(StatusCode::kProtocol,
                    "the server resumed the stream at offset " + std::to_string(next) +
                        " after acknowledging offsets up to " + std::to_string(first_unacked - 1));
    }
    skip = next - first_unacked;
  }
  std::vector<RecordView> views;
  for (const std::vector<std::string> &records : requests) {
    views.clear();
    for (const std::string &record : records) {
      if (skip > 0) {
        --skip;
      } else {
        views.push_back(RecordView{record.data(), record.size()});
      }
    }
    if (views.empty()) continue;
    Status ingested = fresh->Ingest(views.data(), views.size(), format_, nullptr);
    if (!ingested.ok()) return ingested;
  }
  *out = std::move(fresh);
  return Status::Ok();
}

template <typename MakeMessage>
void Stream::LogConnection(LogLevel level, const char *component, MakeMessage what) {
  uint64_t left_out = 0;
  if (!connection_log_.Admit(Clock::now(), &left_out)) return;
  Log(level, component, [&] {
    std::string text = what();
    if (left_out > 0) {
      text += " [" + Plural(left_out, "line") + " like this left out since the last one]";
    }
    return text;
  });
}

void Stream::NoteErrorLocked(const Status &error) {
  ++errors_;
  last_error_ = error;
}

bool Stream::RenewsToken(const Status &why) const {
  return tokens_ && why.grpc_status() == static_cast<int>(grpc::StatusCode::UNAUTHENTICATED);
}

std::string Stream::FirstRequestLocked() const {
  if (call_kind_.durable && !persistent_id_.empty()) {
    return wire::EncodeResumeStream(persistent_id_, format_, descriptor_);
  }
  return create_request_;
}

Status Stream::PrepareAttempt(std::string first_request, bool renew_token, bool *kept_token,
                              bool *waits_for_ready, std::shared_ptr<Connection> *connection) {
  *kept_token = false;
  std::string bearer = settings_.auth_token;
  Log(LogLevel::kDebug, "connection", [&] { return "connecting to " + sdk_->endpoint().target(); });
  if (tokens_) {
    bool fetched = false;
    // A failure is logged as the attempt's (AttemptFailedLocked()).
    Status got = tokens_->Get(renew_token, &bearer, &fetched);
    if (!got.ok()) return got;
    *kept_token = !fetched;
    if (fetched) {
      Log(LogLevel::kInfo, "auth", [&] {
        return std::string(renew_token
                               ? "obtained a new OAuth token, as the server refused the last"
                               : "obtained an OAuth token") +
               " (from " + sdk_->workspace_url() + "/oidc/v1/token)";
      });
    } else {
      Log(LogLevel::kDebug, "auth", [] { return "presenting the OAuth token obtained earlier"; });
    }
  }
  Headers headers;
  Status collected = CollectHeaders(config_.headers_provider(), bearer, table_name_, &headers);
  if (!collected.ok()) return collected;
  // A Flight call names its table by this header alone: ours, last, whatever a provider set.
  if (format_ == RecordFormat::kArrow) SetTableHeaderLast(table_name_, &headers);
  *connection = transport_->Open(headers.entries, call_kind_, std::move(first_request), this,
                                 waits_for_ready);
  return Status::Ok();
}

std::shared_ptr<Connection> Stream::BeginAttemptLocked(std::shared_ptr<Connection> connection,
                                                       Clock::time_point deadline, bool kept_token,
                                                       bool waits_for_ready) {
  rewound_ = window_->Rewind();
  records_replayed_ += rewound_;
  std::shared_ptr<Connection> previous = std::move(connection_);
  connection_ = std::move(connection);
  MoveLocked(Link::kConnecting);
  attempt_deadline_ = deadline;
  attempt_kept_token_ = kept_token;
  attempt_waits_for_ready_ = waits_for_ready;
  call_ = CallProgress{};
  call_.writer_busy = true;  // the create_stream request
  connection_outcome_ = Status::Ok();
  last_progress_ = Clock::now();
  return previous;
}

Status Stream::AbandonReason() const {
  const int32_t timeout_ms = static_cast<int32_t>(settings_.recovery_timeout_ms);
  // Whether the transport got a connection to the server: asked outside mu_.
  if (transport_->Connected()) {
    // A failure of the call, not a wait's time running out: ZB_ERR_TIMEOUT is kept for that,
    // so that a caller waiting in slices never mistakes the stream's end for "not yet".
    return Status(StatusCode::kTransport,
                  "the server did not accept the stream within " + std::to_string(timeout_ms) +
                      " ms (recovery.timeout.ms)",
                  true, static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
  }
  return Status(
      StatusCode::kTransport,
      "could not connect to " + sdk_->endpoint().target() + " within " +
          std::to_string(timeout_ms) + " ms (recovery.timeout.ms)" +
          (last_connect_error_.empty() ? ""
                                       : "; the last attempt to reach it: " + last_connect_error_),
      true, static_cast<int>(grpc::StatusCode::UNAVAILABLE));
}

Status Stream::RefusalLocked() {
  const Status &outcome = connection_outcome_;
  if (!attempt_waits_for_ready_ &&
      outcome.grpc_status() == static_cast<int>(grpc::StatusCode::UNAVAILABLE)) {
    last_connect_error_ = outcome.message();
  }
  // gRPC cannot tell a server that expects TLS, or a client certificate, from one that drops
  // connections; the user can.
  return ExplainRefusal(outcome, sdk_->endpoint().tls,
                        !sdk_->workspace_transport().tls.cert_pem.empty(), ever_connected_);
}

void Stream::AttemptFailedLocked(const Status &failed, bool kept_token, PendingLogs *logs) {
  NoteErrorLocked(failed);
  const int64_t attempts = settings_.recovery ? settings_.recovery_retries + 1 : 1;
  // Being accepted is no progress yet: a connection that was accepted leaves the budget as it
  // is until it ends (PlanReconnectLocked()).
  const int64_t attempt = ++failed_attempts_;
  // A kept token that the server refused is replaced once; a new one it refuses is final.
  const bool renew_token = kept_token && RenewsToken(failed);
  const bool again = attempt < attempts && (failed.retryable() || renew_token);
  const std::chrono::milliseconds delay = again ? Backoff(attempt) : std::chrono::milliseconds(0);
  // A refused token is a matter of authentication, though the refusal came over gRPC.
  const bool auth = failed.code() == StatusCode::kAuth || renew_token;
  logs->push_back({LogLevel::kWarn, auth ? "auth" : "connection", true, [=] {
                     std::string text = "connection attempt " + std::to_string(attempt) + " of " +
                                        std::to_string(attempts) +
                                        " failed: " + DescribeForLog(failed);
                     if (again) {
                       text += "; next attempt in " + std::to_string(delay.count()) + " ms";
                       if (renew_token) text += " with a new OAuth token";
                     }
                     return text;
                   }});
  if (again) {
    RetryLaterLocked(delay, renew_token);
  } else {
    GiveUpLocked(failed, logs);
  }
}

void Stream::RetryLaterLocked(std::chrono::milliseconds delay, bool renew_token) {
  MoveLocked(Link::kBackoff);
  retry_at_ = Clock::now() + delay;
  renew_token_ = renew_token;
}

void Stream::OnWriteDone(Connection *connection, bool ok) {
  grpc::ByteBuffer request;
  bool write = false, more_follows = false;
  bool half_close = false;
  bool release = false;
  {
    sync::MutexLock lock(mu_);
    call_.writer_busy = false;
    if (ok) write = TakeWriteLocked(&request, &more_follows);
    if (ok && !write) half_close = TakeHalfCloseLocked();
    if (!write && !half_close && call_.reads_ended && !call_.hold_released) {
      release = call_.hold_released = true;
    }
  }
  if (write) connection->Write(std::move(request), more_follows);
  if (half_close) connection->WritesDone();
  if (release) connection->ReleaseHold();
}

Status Stream::OnResponse(Connection *connection, const wire::Response &response) {
  grpc::ByteBuffer request;
  bool write = false, more_follows = false;
  {
    sync::MutexLock lock(mu_);
    switch (response.kind) {
      case wire::Response::Kind::kCreated:
        // Too late: Supervise() is cancelling the call.
        if (link_ == Link::kAbandoning) break;
        // On a live Flight call, {-1, 0 rows} is an ack of nothing yet (a server repeating
        // its latest), which reads like the ready signal.
        if (format_ == RecordFormat::kArrow && AcceptedLocked()) break;
        if (link_ != Link::kConnecting) {
          return Status(StatusCode::kProtocol, "the server accepted the stream twice", true);
        }
        // A Flight call has no stream id: its ready signal is all the acceptance there is.
        if (response.stream_id.empty() && format_ != RecordFormat::kArrow) {
          return Status(StatusCode::kProtocol, "the server accepted the stream without a stream id",
                        true);
        }
        if (call_kind_.durable) {
          if (!persistent_id_.empty()) {
            return Status(StatusCode::kProtocol,
                          "the server created a stream when asked to resume " + persistent_id_,
                          false);
          }
          persistent_id_ = response.stream_id;
        }
        write = AcceptLocked(response.stream_id, &request, &more_follows);
        break;
      case wire::Response::Kind::kResumed: {
        if (link_ == Link::kAbandoning) break;
        Status resumed = ResumedLocked(response);
        if (!resumed.ok()) return resumed;
        write = AcceptLocked(persistent_id_, &request, &more_follows);
        break;
      }
      case wire::Response::Kind::kAck: {
        if (!AcceptedLocked()) {
          return Status(StatusCode::kProtocol, "the server acked before accepting the stream",
                        true);
        }
        if (!response.has_ack_offset) {
          return Status(StatusCode::kProtocol, "the server sent an ack without an offset", true);
        }
        Status acked = AckLocked(response.ack_offset);
        if (!acked.ok()) return acked;
        break;
      }
      case wire::Response::Kind::kCloseSignal:
        // A Flight close signal carries the latest ack too.
        if (response.has_ack_offset && AcceptedLocked()) {
          Status acked = AckLocked(response.ack_offset);
          if (!acked.ok()) return acked;
        }
        // Without recovery there is no next connection to move to: the server's end of the
        // call then fails the stream.
        if (settings_.recovery && link_ == Link::kLive) {
          MoveLocked(Link::kPaused);
          call_.close_signalled = true;
          close_signal_ms_ = response.close_after_ms;
          pause_deadline_ = Later(Clock::now(), PauseFor(response.close_after_ms));
          changed_.notify_all();
          WakeSupervisorLocked();
        }
        break;
      case wire::Response::Kind::kNone:
        return Status(StatusCode::kProtocol, "the server sent an empty response", true);
    }
  }
  if (write) connection->Write(std::move(request), more_follows);
  return Status::Ok();
}

Status Stream::AckLocked(int64_t ack) {
  AckedRange acked;
  bool released = false;
  Status error;
  if (!window_->Ack(ack, &acked, &released, &error)) return error;
  if (released) ReleasedLocked(acked);
  return Status::Ok();
}

bool Stream::AcceptLocked(const std::string &stream_id, grpc::ByteBuffer *request,
                          bool *more_follows) {
  MoveLocked(Link::kLive);
  ++connections_accepted_;
  accepted_at_ = Clock::now();
  acked_when_accepted_ = window_->acked_count();
  server_stream_id_ = stream_id;
  // Counted here, before the first ack on the new connection can end a flush.
  if (ever_connected_) {
    ++recoveries_;
    recovery_to_log_ = true;
  }
  ever_connected_ = true;
  changed_.notify_all();
  WakeSupervisorLocked();
  return TakeWriteLocked(request, more_follows);
}

Status Stream::ResumedLocked(const wire::Response &response) {
  if (link_ != Link::kConnecting || !call_kind_.durable || persistent_id_.empty()) {
    return Status(StatusCode::kProtocol, "the server resumed a stream it was not asked to resume",
                  true);
  }
  if (response.has_committed_offset && response.committed_offset < 0) {
    return Status(StatusCode::kProtocol,
                  "the server resumed the stream at a negative offset, " +
                      std::to_string(response.committed_offset),
                  false);
  }
  const uint64_t committed = static_cast<uint64_t>(response.committed_offset);
  if (!ever_connected_) {
    // Opened by resume: this process's offsets continue after what the server committed.
    record_window().StartAt(response.has_committed_offset ? committed + 1 : 0);
    resumed_at_open_ = true;
    resume_has_watermark_ = response.has_committed_offset;
    resume_watermark_ = committed;
    return Status::Ok();
  }
  // A reconnection: what the server committed of what it never acknowledged is not sent again.
  AckedRange acked;
  bool released = false;
  Status error;
  if (!record_window().Resume(response.has_committed_offset, response.committed_offset, &acked,
                              &released, &error)) {
    return error;
  }
  if (released) {
    // Committed, so never sent again: not replayed after all.
    records_replayed_ -= std::min(acked.last_offset + 1 - acked.first_offset, rewound_);
    ReleasedLocked(acked);
  }
  return Status::Ok();
}

void Stream::ReleasedLocked(const AckedRange &acked) {
  last_progress_ = Clock::now();
  if (sink_) {
    sink_->OnLaneAcked(lane_index_, acked.last_offset);
  } else {
    events_.PushAck(acked.first_offset, acked.last_offset);
  }
  changed_.notify_all();
  // Waking blocked ingest calls at every released request would make them all runnable for a
  // few records each (on a producer outrunning the wire, one context switch per thread per
  // request); a quarter of the window lets each in for a long turn.
  if (window_->HasRefillRoom()) room_.notify_all();
  // A pause ends once everything sent is acknowledged.
  if (link_ == Link::kPaused) WakeSupervisorLocked();
}

void Stream::OnReadsEnded(Connection *connection) {
  bool release = false;
  {
    sync::MutexLock lock(mu_);
    call_.reads_ended = true;
    if (!call_.writer_busy && !call_.hold_released) release = call_.hold_released = true;
  }
  if (release) connection->ReleaseHold();
}

void Stream::OnDone(Connection * /*connection*/, const Status &outcome) {
  sync::MutexLock lock(mu_);
  switch (link_) {
    case Link::kConnecting:
    case Link::kAbandoning:
      MoveLocked(Link::kRefused);
      break;
    case Link::kLive:
    case Link::kPaused:
    case Link::kEnding:
      MoveLocked(Link::kDown);
      break;
    case Link::kHalfClosed:
      MoveLocked(Link::kFinished);
      break;
    case Link::kBackoff:
    case Link::kRefused:
    case Link::kDown:
    case Link::kFinished:
    case Link::kGone:
      break;  // no call was running: there is only one at a time
  }
  connection_outcome_ = outcome;
  // connection_ stays: it is released by the next attempt or the destructor, on threads of
  // ours (see ConnectionListener::OnDone).
  changed_.notify_all();
  WakeSupervisorLocked();
}

void Stream::MoveLocked(Link to) {
  // Where each state may come from.
  bool allowed = false;
  switch (to) {
    case Link::kBackoff:  // a failed attempt or an ended call, retried
      allowed = link_ == Link::kBackoff || link_ == Link::kRefused || link_ == Link::kDown;
      break;
    case Link::kConnecting:
      allowed = link_ == Link::kBackoff;
      break;
    case Link::kAbandoning:
    case Link::kLive:
      allowed = link_ == Link::kConnecting;
      break;
    case Link::kPaused:
      allowed = link_ == Link::kLive;
      break;
    case Link::kEnding:
    case Link::kHalfClosed:
      allowed = link_ == Link::kLive || link_ == Link::kPaused;
      break;
    case Link::kRefused:
      allowed = link_ == Link::kConnecting || link_ == Link::kAbandoning;
      break;
    case Link::kDown:
      allowed = link_ == Link::kLive || link_ == Link::kPaused || link_ == Link::kEnding;
      break;
    case Link::kFinished:
      allowed = link_ == Link::kHalfClosed;
      break;
    case Link::kGone:  // attempts spent, or a call ended that is not retried
      allowed = link_ == Link::kBackoff || link_ == Link::kRefused || link_ == Link::kDown;
      break;
  }
  assert(allowed && "a change of Stream::Link that its table does not allow");
  (void)allowed;
  if (sink_ && (to == Link::kLive) != (link_ == Link::kLive)) {
    sink_->OnLaneLive(lane_index_, to == Link::kLive);
  }
  link_ = to;
}

bool Stream::CallAliveLocked() const {
  switch (link_) {
    case Link::kConnecting:
    case Link::kAbandoning:
    case Link::kLive:
    case Link::kPaused:
    case Link::kEnding:
    case Link::kHalfClosed:
      return true;
    case Link::kBackoff:
    case Link::kRefused:
    case Link::kDown:
    case Link::kFinished:
    case Link::kGone:
      return false;
  }
  return false;
}

bool Stream::AcceptedLocked() const {
  return link_ == Link::kLive || link_ == Link::kPaused || link_ == Link::kEnding ||
         link_ == Link::kHalfClosed;
}

void Stream::WakeSupervisorLocked() {
  if (supervisor_) {
    supervisor_->Wake();
  } else {
    woken_ = true;
    supervisor_wake_.notify_one();
  }
}

bool Stream::PlanReconnectLocked(const Status &ended, bool renew_token,
                                 std::chrono::milliseconds *delay, Status *why) {
  *why = ended;
  if (!settings_.recovery || !(ended.retryable() || renew_token)) return false;
  // A server that accepts each stream and then fails it (overloaded, or a proxy dropping
  // connections) must meet the backoff and the budget of one that refuses streams, not a
  // reconnection as fast as the loop runs. Progress: the server acknowledged records on the
  // connection, or it had nothing to acknowledge and lived at least the first backoff.
  const std::chrono::milliseconds first_backoff(settings_.recovery_backoff_ms);
  const bool brief = Clock::now() - accepted_at_ < first_backoff;
  const bool progress =
      window_->acked_count() > acked_when_accepted_ || (window_->all_acked() && !brief);
  failed_attempts_ = progress ? 0 : failed_attempts_ + 1;
  const int64_t attempts = settings_.recovery_retries + 1;
  if (failed_attempts_ >= attempts) {
    *why = Status(ended.code(),
                  ended.message() + " (" +
                      Plural(static_cast<uint64_t>(failed_attempts_), "connection attempt") +
                      " in a row failed or ended without any record acknowledged; "
                      "recovery.retries)",
                  ended.retryable(), ended.grpc_status());
    return false;
  }
  // Even a connection that made progress waits before the next when it was brief: one that
  // acknowledges a little each time and then fails must not be reconnected at full speed.
  *delay = failed_attempts_ > 0 ? Backoff(failed_attempts_)
           : brief              ? Backoff(1)
                                : std::chrono::milliseconds(0);
  return true;
}

void Stream::FailLocked(const Status &why) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  state_ = State::kFailed;
  failure_ = why;
  if (sink_) {
    sink_->OnLaneFailed(lane_index_, why);
  } else if (!window_->all_acked()) {
    events_.PushError(window_->acked_count(), window_->next_offset() - 1, why);
  }
  changed_.notify_all();
  room_.notify_all();
}

Status Stream::RunUntilOpen() {
  for (;;) {
    const Clock::time_point next = Supervise();
    sync::UniqueLock lock(mu_);
    // Accepted, even if the connection has ended since: the supervision threads take care of
    // what followed.
    if (ever_connected_) {
      opening_ = false;
      supervisor_ = sdk_->supervision().NewTask([this] { return Supervise(); });
      supervisor_->Wake();
      return Status::Ok();
    }
    if (link_ == Link::kGone) return open_failure_;
    auto woken = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return woken_; };
    if (next == Clock::time_point::max()) {
      lock.Wait(supervisor_wake_, woken);
    } else {
      lock.WaitUntil(supervisor_wake_, next, woken);
    }
  }
}

Stream::Clock::time_point Stream::Supervise() {
  PendingLogs logs;
  sync::UniqueLock lock(mu_);
  woken_ = false;
  Clock::time_point wake = Clock::time_point::max();
  // Each turn moves link_ on, or ends the round with what to wait for.
  for (bool again = true; again;) {
    again = false;
    if (stopping_ || state_ == State::kFailed || (opening_ && ever_connected_)) break;
    switch (link_) {
      case Link::kBackoff: {
        if (Clock::now() < retry_at_) {
          wake = retry_at_;
          break;
        }
        const bool renew_token = renew_token_;
        std::string first_request = FirstRequestLocked();
        lock.Unlock();
        // The token request and the headers provider take their share of the attempt's time.
        const Clock::time_point deadline =
            Clock::now() + std::chrono::milliseconds(settings_.recovery_timeout_ms);
        bool kept_token = false, waits_for_ready = false;
        std::shared_ptr<Connection> connection;
        const Status prepared = PrepareAttempt(std::move(first_request), renew_token, &kept_token,
                                               &waits_for_ready, &connection);
        lock.Lock();
        if (stopping_) break;
        if (!prepared.ok()) {
          AttemptFailedLocked(prepared, kept_token, &logs);
        } else {
          std::shared_ptr<Connection> previous =
              BeginAttemptLocked(connection, deadline, kept_token, waits_for_ready);
          lock.Unlock();
          previous.reset();
          connection->Start();
          lock.Lock();
        }
        again = true;
        break;
      }
      case Link::kConnecting: {
        if (Clock::now() < attempt_deadline_) {
          wake = attempt_deadline_;
          break;
        }
        MoveLocked(Link::kAbandoning);
        const std::shared_ptr<Connection> connection = connection_;
        lock.Unlock();
        // Its end (OnDone()) brings the stream to kRefused with this outcome.
        connection->Fail(AbandonReason());
        lock.Lock();
        again = true;
        break;
      }
      case Link::kRefused:
        AttemptFailedLocked(RefusalLocked(), attempt_kept_token_, &logs);
        again = true;
        break;
      case Link::kLive:
      case Link::kPaused: {
        Status end;
        const std::shared_ptr<Connection> connection = WatchLiveLocked(&end, &wake, &logs);
        if (connection) {
          lock.Unlock();
          connection->Fail(end);
          lock.Lock();
          again = true;
        }
        break;
      }
      case Link::kDown:
        // A closed stream has every record acknowledged, or gave up on them.
        if (state_ == State::kClosed) break;
        CallEndedLocked(&logs);
        again = true;
        break;
      case Link::kAbandoning:
      case Link::kEnding:
      case Link::kHalfClosed:
      case Link::kFinished:
      case Link::kGone:
        break;  // OnDone() or the close moves on
    }
    if (!logs.empty()) {
      lock.Unlock();
      WriteLogs(&logs);
      lock.Lock();
      again = true;
    }
  }
  return wake;
}

std::shared_ptr<Connection> Stream::WatchLiveLocked(Status *end, Clock::time_point *wake,
                                                    PendingLogs *logs) {
  NoteRecoveryLocked(logs);
  if (link_ == Link::kPaused && !call_.pause_logged) {
    call_.pause_logged = true;
    const int64_t announced_ms = close_signal_ms_;
    const std::chrono::milliseconds wait = PauseFor(announced_ms);
    logs->push_back({LogLevel::kInfo, "recovery", false, [=] {
                       return "the server will end the call in " + std::to_string(announced_ms) +
                              " ms (close signal): sending paused until what was sent is "
                              "acknowledged (at most " +
                              std::to_string(wait.count()) + " ms), then reconnecting";
                     }});
  }
  // Whether to end the call now, and else when to look again: at the latest one ack timeout
  // from now, since a request sent meanwhile starts its timeout no earlier.
  const Clock::time_point now = Clock::now();
  *wake = now + std::chrono::milliseconds(settings_.ack_timeout_ms);
  // Paused or not: a server that announced a close in years and then fell silent must not
  // hold the stream any longer than one that never announced anything.
  const bool awaiting_acks = window_->has_unacked_sent();
  const Clock::time_point ack_deadline =
      Later(last_progress_, std::chrono::milliseconds(settings_.ack_timeout_ms));
  const bool paused = link_ == Link::kPaused;
  if (paused && (!awaiting_acks || now >= pause_deadline_)) {
    *end = Status(StatusCode::kTransport, "the server announced the end of the call; reconnecting",
                  true);
  } else if (awaiting_acks && now >= ack_deadline) {
    // DEADLINE_EXCEEDED, as the official SDKs end a silent call; not ZB_ERR_TIMEOUT (see
    // AbandonReason()).
    *end = Status(StatusCode::kTransport,
                  "no acknowledgement from the server for " +
                      std::to_string(settings_.ack_timeout_ms) +
                      " ms while requests were unacknowledged (stream.ack.timeout.ms)",
                  true, static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
    // Not the end the server announced: a failure, as such counted and logged.
    call_.close_signalled = false;
  } else {
    if (awaiting_acks) *wake = ack_deadline;
    if (paused) *wake = std::min(*wake, pause_deadline_);
    return nullptr;
  }
  MoveLocked(Link::kEnding);
  return connection_;
}

void Stream::NoteRecoveryLocked(PendingLogs *logs) {
  if (!recovery_to_log_) return;
  recovery_to_log_ = false;
  const uint64_t replayed = records_replayed_ - replayed_before_recovery_;
  const uint64_t recoveries = recoveries_;
  logs->push_back({LogLevel::kInfo, "recovery", true, [=] {
                     return "recovered on a new connection (recovery " +
                            std::to_string(recoveries) + "), " + Plural(replayed, "record") +
                            " sent again";
                   }});
}

void Stream::CallEndedLocked(PendingLogs *logs) {
  const Status ended = connection_outcome_;
  // Reconnecting after a close signal is the protocol at work, not an error.
  const bool planned = call_.close_signalled;
  if (!planned) NoteErrorLocked(ended);
  const bool renew_token = RenewsToken(ended);
  std::chrono::milliseconds delay(0);
  Status why;
  const bool retry = PlanReconnectLocked(ended, renew_token, &delay, &why);
  logs->push_back({planned ? LogLevel::kInfo : LogLevel::kWarn, "connection", true, [=] {
                     std::string text =
                         planned ? "the connection ended after the server's close signal: "
                                 : "the connection ended: ";
                     text += DescribeForLog(ended);
                     if (retry) {
                       text += delay.count() > 0
                                   ? "; reconnecting in " + std::to_string(delay.count()) + " ms"
                                   : "; reconnecting";
                     }
                     return text;
                   }});
  if (!retry) {
    GiveUpLocked(why, logs);
    return;
  }
  RetryLaterLocked(delay, renew_token);
  replayed_before_recovery_ = records_replayed_;
}

void Stream::GiveUpLocked(const Status &why, PendingLogs *logs) {
  MoveLocked(Link::kGone);
  if (opening_) {
    open_failure_ = why;  // RunUntilOpen() returns it, and Open() logs it
    return;
  }
  const uint64_t first_unacked = window_->acked_count(), next = window_->next_offset();
  FailLocked(why);
  logs->push_back({LogLevel::kError, "stream", false, [=] {
                     std::string text = "the stream failed: " + DescribeForLog(why);
                     if (next > first_unacked) {
                       text += "; " + Plural(next - first_unacked, "record") +
                               " not acknowledged (offsets " + std::to_string(first_unacked) +
                               ".." + std::to_string(next - 1) +
                               ") stay retrievable with zb_stream_unacked()";
                     }
                     return text;
                   }});
}

void Stream::WriteLogs(PendingLogs *logs) {
  for (const PendingLog &line : *logs) {
    if (line.throttled) {
      LogConnection(line.level, line.component, line.what);
    } else {
      Log(line.level, line.component, line.what);
    }
  }
  logs->clear();
}

void Stream::Halt() {
  StopBackground();
}

void Stream::StopBackground() {
  std::shared_ptr<Connection> connection;
  std::shared_ptr<Scheduler::Task> supervisor;
  {
    sync::MutexLock lock(mu_);
    stopping_ = true;
    if (CallAliveLocked()) connection = connection_;
    supervisor = supervisor_;
    changed_.notify_all();
    room_.notify_all();
  }
  if (connection) connection->Fail(Status(StatusCode::kClosed, "the stream was closed"));
  // A barrier: a round under way (a token request, say) ends first.
  if (supervisor) supervisor->Stop();
  PendingLogs logs;
  {
    sync::UniqueLock lock(mu_);
    lock.Wait(changed_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !CallAliveLocked(); });
    // Supervise() had no turn to say it since the close began; the recovery did happen.
    NoteRecoveryLocked(&logs);
  }
  WriteLogs(&logs);
}

void Stream::Shutdown() {
  bool unclosed = false;  // an open stream (not one that failed to open) being abandoned
  uint64_t unacked = 0;
  {
    sync::MutexLock lock(mu_);
    if (!close_done_) {
      unclosed = ever_connected_;
      unacked = window_->next_offset() - window_->acked_count();
      if (state_ != State::kFailed) state_ = State::kClosed;
      close_done_ = true;
      close_result_ = Status(StatusCode::kClosed, "the stream was destroyed");
    }
  }
  StopBackground();
  events_.Stop();
  if (unclosed) {
    Log(unacked ? LogLevel::kWarn : LogLevel::kInfo, "stream", [&] {
      return "stream destroyed without zb_stream_close(), " + Plural(unacked, "record") +
             " not acknowledged";
    });
  }
}

}  // namespace zerobus
