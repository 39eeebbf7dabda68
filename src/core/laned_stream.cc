#include "core/laned_stream.h"

#include <algorithm>

namespace zerobus {

Status LanedStream::Open(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                         std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                         const Config &config, UserHandle handle,
                         std::unique_ptr<StreamHandle> *out) {
  // One token source for every lane: one token request, whatever the number of lanes.
  std::shared_ptr<TokenSource> tokens;
  Status credentials = MakeTokenSource(*sdk, table_name, config, &tokens);
  if (!credentials.ok()) return credentials;
  std::unique_ptr<LanedStream> stream(new LanedStream(std::move(sdk), std::move(table_name), format,
                                                      std::move(descriptor), std::move(schema),
                                                      config, handle));
  const size_t count = static_cast<size_t>(config.settings().lanes);
  // The lanes' windows take their memory from one pool, bounded as one window is.
  const std::shared_ptr<SegmentPool> pool = Window::MakePool(stream->max_bytes_);
  {
    sync::MutexLock lock(stream->mu_);
    stream->books_.resize(count);
  }
  for (size_t index = 0; index < count; ++index) {
    std::unique_ptr<Stream> lane;
    Status opened = Stream::OpenLane(stream->sdk_, stream->table_name_, format, stream->descriptor_,
                                     config, LaneOf{stream.get(), index, tokens, pool}, &lane);
    if (!opened.ok()) {
      stream->Log(LogLevel::kError, "stream", [&] {
        return "opening lane " + std::to_string(index) + " of " + std::to_string(count) +
               " failed: " + DescribeForLog(opened);
      });
      return opened;  // the destructor closes the lanes that opened
    }
    stream->lanes_.push_back(std::move(lane));
  }
  LanedStream *raw = stream.get();
  {
    sync::MutexLock lock(stream->mu_);
    stream->halter_ = stream->sdk_->supervision().NewTask([raw] {
      raw->HaltLanes();
      return Clock::time_point::max();
    });
    // A lane that failed while the others were opening.
    if (stream->state_ == State::kFailed) stream->halter_->Wake();
  }
  stream->sdk_->streams().Add(stream.get());
  stream->registered_ = true;
  stream->sdk_->stream_open_warning().Opened(stream->table_name_, stream->sdk_->logger());
  stream->Log(LogLevel::kInfo, "stream", [&] {
    return std::string("stream of ") + RecordFormatName(format) + " records opened over " +
           Plural(count, "lane");
  });
  *out = std::move(stream);
  return Status::Ok();
}

LanedStream::LanedStream(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                         std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                         const Config &config, UserHandle handle)
    : sdk_(std::move(sdk)),
      table_name_(std::move(table_name)),
      format_(format),
      descriptor_(std::move(descriptor)),
      schema_(std::move(schema)),
      config_(config),
      max_records_(static_cast<size_t>(config_.settings().max_inflight_records)),
      max_bytes_(static_cast<size_t>(config_.settings().max_inflight_bytes)),
      ingest_timeout_ms_(config_.settings().ingest_timeout_ms),
      events_(handle, config_.event_callback(), config_.wakeup(), sdk_->dispatch()) {}

LanedStream::~LanedStream() {
  std::shared_ptr<Scheduler::Task> halter;
  bool unclosed = false;
  uint64_t unacked = 0;
  {
    sync::MutexLock lock(mu_);
    halter = halter_;
    if (!close_done_) {
      unclosed = registered_;
      unacked = next_offset_ - acked_count_;
      if (state_ != State::kFailed) state_ = State::kClosed;
      close_done_ = true;
    }
  }
  if (halter) halter->Stop();
  if (registered_) sdk_->streams().Remove(this);
  // A closed lane reports nothing of its own; one with records left ends its call at once.
  for (const std::unique_ptr<Stream> &lane : lanes_) lane->Close(0);
  lanes_.clear();
  events_.Stop();
  if (unclosed) {
    Log(unacked ? LogLevel::kWarn : LogLevel::kInfo, "stream", [&] {
      return "stream destroyed without zb_stream_close(), " + Plural(unacked, "record") +
             " not acknowledged";
    });
  }
}

template <typename Predicate>
bool LanedStream::WaitLocked(sync::UniqueLock &lock, std::condition_variable &cv,
                             int32_t timeout_ms, Predicate done) {
  if (timeout_ms < 0) {
    lock.Wait(cv, done);
    return true;
  }
  return lock.WaitFor(cv, std::chrono::milliseconds(timeout_ms), done);
}

Status LanedStream::Ingest(const RecordView *records, size_t count, RecordFormat format,
                           uint64_t *last_offset) {
  std::vector<std::string> encoded;
  std::vector<RecordView> views;
  Status taken = PrepareRecords(schema_.get(), format_, format, count, &records, &encoded, &views);
  if (!taken.ok()) return taken;
  size_t framed = 0;
  Status fits = lanes_.front()->Frame(records, count, &framed);
  if (!fits.ok()) return fits;

  size_t lane = 0;
  {
    sync::UniqueLock lock(mu_);
    auto can_go_on = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return state_ != State::kOpen || records_ == 0 ||
             (records_ + count <= max_records_ && bytes_ + framed <= max_bytes_);
    };
    if (!can_go_on() &&
        (ingest_timeout_ms_ == 0 ||
         !WaitLocked(lock, room_, static_cast<int32_t>(ingest_timeout_ms_), can_go_on))) {
      return Status(StatusCode::kQueueFull,
                    "the in-flight window is full (" + Plural(records_, "record") + ", " +
                        Plural(bytes_, "byte") +
                        " over every lane; see stream.max.inflight.records and "
                        "stream.max.inflight.bytes)",
                    true);
    }
    if (state_ == State::kFailed) return failure_;
    if (state_ != State::kOpen) return Status(StatusCode::kClosed, "the stream is closed");
    lane = PickLaneLocked();
    records_ += count;
    bytes_ += framed;
    books_[lane].bytes += framed;
  }
  // The lane numbers the records in our offsets (OnLaneAppended()) as it takes them.
  Status ingested = lanes_[lane]->Ingest(records, count, format_, last_offset);
  if (!ingested.ok()) {
    sync::MutexLock lock(mu_);
    records_ -= count;
    bytes_ -= framed;
    books_[lane].bytes -= framed;
    changed_.notify_all();
    room_.notify_all();
    if (state_ == State::kFailed) return failure_;
  }
  return ingested;
}

size_t LanedStream::PickLaneLocked() const {
  size_t best = 0;
  for (size_t lane = 1; lane < books_.size(); ++lane) {
    const LaneBook &candidate = books_[lane], &chosen = books_[best];
    if (candidate.live != chosen.live ? candidate.live : candidate.bytes < chosen.bytes) {
      best = lane;
    }
  }
  return best;
}

uint64_t LanedStream::WatermarkLocked() const {
  uint64_t watermark = next_offset_;
  for (const LaneBook &book : books_) {
    if (!book.unacked.empty()) watermark = std::min(watermark, book.unacked.front().logical_first);
  }
  return watermark;
}

void LanedStream::ReportUnackedLocked(const Status &why) {
  if (next_offset_ > acked_count_) events_.PushError(acked_count_, next_offset_ - 1, why);
}

uint64_t LanedStream::OnLaneAppended(size_t lane, uint64_t lane_first, size_t count,
                                     size_t framed_bytes) {
  sync::MutexLock lock(mu_);
  const Chunk chunk{next_offset_, lane_first, count, framed_bytes};
  next_offset_ += count;
  books_[lane].unacked.push_back(chunk);
  const uint64_t last = chunk.logical_first + count - 1;
  // Taken by a lane as the stream failed or its close gave up: reported like the rest.
  if (state_ == State::kFailed) {
    events_.PushError(chunk.logical_first, last, failure_);
  } else if (state_ == State::kClosed) {
    events_.PushError(
        chunk.logical_first, last,
        Status(StatusCode::kClosed, "the stream was closed before the records were acknowledged"));
  }
  return last;
}

void LanedStream::OnLaneAcked(size_t lane, uint64_t lane_last) {
  sync::MutexLock lock(mu_);
  LaneBook &book = books_[lane];
  while (!book.unacked.empty()) {
    Chunk &front = book.unacked.front();
    if (front.lane_first > lane_last) break;
    const uint64_t through = lane_last - front.lane_first + 1;
    if (through < front.count) {
      // Records appended together travel in one request, so an ack covers them all; were it
      // ever otherwise, the rest of the unit stays unacknowledged (its bytes with it).
      front.lane_first += through;
      front.logical_first += through;
      front.count -= static_cast<size_t>(through);
      records_ -= static_cast<size_t>(through);
      break;
    }
    records_ -= front.count;
    bytes_ -= front.framed_bytes;
    book.bytes -= front.framed_bytes;
    book.unacked.pop_front();
  }
  // After a failure or a close that gave up, every offset above the watermark was reported.
  if (state_ == State::kOpen || state_ == State::kClosing) {
    const uint64_t watermark = WatermarkLocked();
    if (watermark > acked_count_) {
      events_.PushAck(acked_count_, watermark - 1);
      acked_count_ = watermark;
    }
  }
  changed_.notify_all();
  // As Window::HasRefillRoom(): waking blocked ingest calls for a few records each would make
  // them all runnable at every ack.
  if (records_ == 0 ||
      (records_ + max_records_ / 4 <= max_records_ && bytes_ + max_bytes_ / 4 <= max_bytes_)) {
    room_.notify_all();
  }
}

void LanedStream::OnLaneFailed(size_t lane, const Status &why) {
  sync::MutexLock lock(mu_);
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  state_ = State::kFailed;
  failure_ = Status(why.code(),
                    "lane " + std::to_string(lane) + " of " + std::to_string(books_.size()) +
                        " failed: " + why.message(),
                    why.retryable(), why.grpc_status());
  ReportUnackedLocked(failure_);
  changed_.notify_all();
  room_.notify_all();
  if (halter_) halter_->Wake();
}

void LanedStream::OnLaneLive(size_t lane, bool live) {
  sync::MutexLock lock(mu_);
  books_[lane].live = live;
}

void LanedStream::HaltLanes() {
  for (const std::unique_ptr<Stream> &lane : lanes_) lane->Halt();
}

Status LanedStream::WaitForOffset(uint64_t offset, int32_t timeout_ms) {
  sync::UniqueLock lock(mu_);
  if (offset >= next_offset_) {
    return Status(StatusCode::kInvalidArg, "offset " + std::to_string(offset) +
                                               " was never issued; the next offset is " +
                                               std::to_string(next_offset_));
  }
  WaitLocked(lock, changed_, timeout_ms, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return acked_count_ > offset || state_ == State::kFailed || state_ == State::kClosed;
  });
  if (acked_count_ > offset) return Status::Ok();
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

Status LanedStream::Flush(int32_t timeout_ms) {
  uint64_t next_offset;
  {
    sync::MutexLock lock(mu_);
    next_offset = next_offset_;
  }
  if (next_offset == 0) return Status::Ok();
  return WaitForOffset(next_offset - 1, timeout_ms);
}

void LanedStream::LogClosed(const Status &result) const {
  if (result.ok()) {
    uint64_t acked;
    {
      sync::MutexLock lock(mu_);
      acked = acked_count_;
    }
    Log(LogLevel::kInfo, "stream", [&] {
      return "stream closed with all of its " + Plural(acked, "record") + " acknowledged over " +
             Plural(lanes_.size(), "lane");
    });
  } else if (result.code() == StatusCode::kTimeout) {
    Log(LogLevel::kWarn, "stream", [&] { return result.message(); });
  }
}

Status LanedStream::CloseOnce(int32_t timeout_ms, bool *first) {
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
      return records_ == 0 || state_ == State::kFailed;
    });
    if (state_ == State::kFailed) {
      result = failure_;
    } else if (records_ != 0) {
      result = CloseTimedOut(timeout_ms, acked_count_, next_offset_ - 1);
      ReportUnackedLocked(result);
    }
    if (state_ != State::kFailed) state_ = State::kClosed;
  }
  // With every record acknowledged each lane ends its call gracefully in what is left of the
  // close's time; else each ends at once, keeping its records for zb_stream_unacked().
  for (const std::unique_ptr<Stream> &lane : lanes_) {
    int32_t left = 0;
    if (result.ok()) {
      const auto spent =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
      left = timeout_ms < 0
                 ? -1
                 : static_cast<int32_t>(std::max<int64_t>(0, timeout_ms - spent.count()));
    }
    lane->Close(left);
  }
  sync::MutexLock lock(mu_);
  close_done_ = true;
  close_result_ = result;
  changed_.notify_all();
  return result;
}

Status LanedStream::Poll(size_t capacity, int32_t timeout_ms, const EventQueue::Take &take,
                         size_t *count) {
  const Clock::time_point deadline = timeout_ms < 0
                                         ? Clock::time_point::max()
                                         : Clock::now() + std::chrono::milliseconds(timeout_ms);
  return events_.Poll(capacity, deadline, take, count);
}

void LanedStream::CopyUnacked(std::vector<std::pair<uint64_t, std::string>> *out) const {
  // Each lane's records in its own offsets, then mapped to ours. A record acknowledged in
  // between has lost its chunk, and is left out: it is durable.
  std::vector<std::vector<std::pair<uint64_t, std::string>>> by_lane(lanes_.size());
  for (size_t lane = 0; lane < lanes_.size(); ++lane) lanes_[lane]->CopyUnacked(&by_lane[lane]);
  sync::MutexLock lock(mu_);
  for (size_t lane = 0; lane < by_lane.size(); ++lane) {
    const std::deque<Chunk> &chunks = books_[lane].unacked;
    for (std::pair<uint64_t, std::string> &record : by_lane[lane]) {
      auto after = std::upper_bound(
          chunks.begin(), chunks.end(), record.first,
          [](uint64_t offset, const Chunk &chunk) { return offset < chunk.lane_first; });
      if (after == chunks.begin()) continue;
      const Chunk &chunk = *(after - 1);
      if (record.first - chunk.lane_first >= chunk.count) continue;
      out->emplace_back(chunk.logical_first + (record.first - chunk.lane_first),
                        std::move(record.second));
    }
  }
  std::sort(out->begin(), out->end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
}

StreamInfo LanedStream::GetInfo() const {
  StreamInfo info;
  for (const std::unique_ptr<Stream> &lane : lanes_) {
    const StreamInfo of_lane = lane->GetInfo();
    info.recoveries += of_lane.recoveries;
    info.records_replayed += of_lane.records_replayed;
  }
  sync::MutexLock lock(mu_);
  if (state_ == State::kFailed) {
    info.state = StreamState::kFailed;
  } else if (state_ == State::kClosed) {
    info.state = StreamState::kClosed;
  } else {
    const bool any_live =
        std::any_of(books_.begin(), books_.end(), [](const LaneBook &book) { return book.live; });
    info.state = any_live ? StreamState::kOpen : StreamState::kRecovering;
  }
  info.records_accepted = next_offset_;
  info.records_acked = acked_count_;
  info.records_in_flight = records_;
  info.bytes_in_flight = bytes_;
  return info;
}

void LanedStream::Snapshot(StreamStats *out) const {
  const StreamInfo info = GetInfo();
  StreamStats sum;
  for (const std::unique_ptr<Stream> &lane : lanes_) {
    StreamStats of_lane;
    lane->Snapshot(&of_lane);
    if (sum.server_stream_id.empty()) sum.server_stream_id = of_lane.server_stream_id;
    sum.errors += of_lane.errors;
    if (of_lane.errors > 0) sum.last_error = of_lane.last_error;
    sum.wire.requests_sent += of_lane.wire.requests_sent;
    sum.wire.records_sent += of_lane.wire.records_sent;
    sum.wire.bytes_sent += of_lane.wire.bytes_sent;
    sum.wire.acks_received += of_lane.wire.acks_received;
    sum.ack_latency.Merge(of_lane.ack_latency);
  }
  *out = std::move(sum);
  out->taken_at = std::chrono::system_clock::now();
  out->table = table_name_;
  out->format = format_;
  out->state = info.state;
  out->offsets_issued = info.records_accepted;
  // Lanes send in their own order: what is acknowledged was surely sent.
  out->offsets_sent = info.records_acked;
  out->offsets_acked = info.records_acked;
  out->records_in_flight = info.records_in_flight;
  out->bytes_in_flight = info.bytes_in_flight;
  out->recoveries = info.recoveries;
  out->records_replayed = info.records_replayed;
}

Status LanedStream::Recreate(UserHandle handle, std::unique_ptr<StreamHandle> *out) const {
  {
    sync::MutexLock lock(mu_);
    if (state_ != State::kFailed && state_ != State::kClosed) {
      return Status(StatusCode::kState, "only a failed or closed stream can be recreated");
    }
  }
  std::vector<std::pair<uint64_t, std::string>> unacked;
  CopyUnacked(&unacked);
  std::unique_ptr<StreamHandle> fresh;
  Status opened = Open(sdk_, table_name_, format_, descriptor_, schema_, config_, handle, &fresh);
  if (!opened.ok()) return opened;
  for (const std::pair<uint64_t, std::string> &record : unacked) {
    const RecordView view{record.second.data(), record.second.size()};
    Status ingested = fresh->Ingest(&view, 1, format_, nullptr);
    if (!ingested.ok()) return ingested;
  }
  *out = std::move(fresh);
  return Status::Ok();
}

}  // namespace zerobus
