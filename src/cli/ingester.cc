#include "cli/ingester.h"

#include <utility>

namespace zerobus::cli {

Ingester::Ingester(Opener open, Payload payload, DeadLetterFile *dead_letters,
                   std::vector<std::string> files, bool exactly_once)
    : open_(std::move(open)),
      payload_(payload),
      exactly_once_(exactly_once),
      dead_letters_(dead_letters),
      files_(std::move(files)) {}

bool Ingester::OpenStream() {
  try {
    zerobus::Stream stream = open_();
    std::lock_guard<std::mutex> lock(stream_mu_);
    stream_.emplace(std::move(stream));
    ++streams_;
    return true;
  } catch (const zerobus::Error &error) {
    fatal_ = std::string("cannot open a stream: ") + error.what();
    return false;
  }
}

void Ingester::CloseStream() {
  std::optional<zerobus::Stream> stream;
  {
    std::lock_guard<std::mutex> lock(stream_mu_);
    if (!stream_) return;
    const zerobus::StreamInfo info = stream_->info();
    earlier_acked_ += info.records_acked;
    earlier_recoveries_ += info.recoveries;
    stream.swap(stream_);
  }
  // Destroyed outside the lock, so that Sample() does not wait for it.
}

void Ingester::CloseQuietly(std::chrono::milliseconds timeout) {
  try {
    stream_->close(timeout);
  } catch (const zerobus::Error &) {
    // What was left unacknowledged is in the stream's error events.
  }
}

bool Ingester::DeadLetter(const Unsettled &record, const char *code, const std::string &message,
                          uint64_t oversized) {
  std::string error;
  const cli::DeadLetter letter{
      &record.raw, payload_ != Payload::kJson, &files_[record.file], record.where, code, message,
      oversized};
  if (!dead_letters_->Write(letter, &error)) {
    fatal_ = error;
    return false;
  }
  dead_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Ingester::Reject(const std::string &raw, size_t file, SourcePosition where, const char *code,
                      const std::string &message, uint64_t oversized) {
  return DeadLetter(Unsettled{0, raw, file, where}, code, message, oversized);
}

bool Ingester::Settle(std::chrono::milliseconds timeout) {
  constexpr size_t kEventsPerPoll = 64;
  for (;;) {
    const std::vector<zerobus::Event> events = stream_->poll(kEventsPerPoll, timeout);
    bool ok = true;
    for (const zerobus::Event &event : events) {
      const bool ack = event.type == zerobus::Event::Type::ack;
      // Events come in offset order and cover every record up to last_offset: an ack makes
      // them durable, an error event says they never will be.
      while (!unsettled_.empty() && unsettled_.front().offset <= event.last_offset) {
        if (ack) {
          ++acked_;
        } else if (exactly_once_) {
          // Not acknowledged to this run, which says nothing of the server: the next run
          // resumes the stream and sends it unless the server committed it.
          ++left_for_next_run_;
        } else if (ok) {
          ok = DeadLetter(unsettled_.front(), event.error->name(), event.error->message());
        }
        unsettled_.pop_front();
      }
      if (ack) fruitless_streams_ = 0;
    }
    if (!ok) return false;
    if (events.size() < kEventsPerPoll) return true;
    timeout = std::chrono::milliseconds(0);
  }
}

bool Ingester::Replace(const zerobus::Error &error) {
  // Closing a failed stream returns at once; its error events are then all queued.
  CloseQuietly(std::chrono::milliseconds(0));
  if (!Settle(std::chrono::milliseconds(0))) return false;
  while (!unsettled_.empty()) {
    if (!DeadLetter(unsettled_.front(), error.name(), error.message())) return false;
    unsettled_.pop_front();
  }
  CloseStream();
  if (++fruitless_streams_ >= kMaxFruitlessStreams) {
    fatal_ = std::to_string(kMaxFruitlessStreams) +
             " streams in a row failed before any record was acknowledged, the last with " +
             error.what();
    return false;
  }
  return OpenStream();
}

uint64_t Ingester::IngestArrowIpc(const std::string &batch_ipc) {
  uint64_t offset = 0;
  zb_error *err = nullptr;
  const zb_status status = zb_stream_ingest_arrow_ipc(stream_->get(), batch_ipc.data(),
                                                      batch_ipc.size(), &offset, nullptr, &err);
  if (status != ZB_OK) {
    const zerobus::Error error = zerobus::Error::from_c(status, err);
    zb_error_free(err);
    throw error;
  }
  return offset;
}

bool Ingester::Ingest(std::string *raw, const std::string &payload, size_t file,
                      SourcePosition where) {
  if (skip_ > 0) {
    --skip_;
    ++skipped_;
    return true;
  }
  for (;;) {
    try {
      const uint64_t offset = payload_ == Payload::kJson    ? stream_->ingest_json(payload)
                              : payload_ == Payload::kProto ? stream_->ingest_proto(payload)
                              : payload_ == Payload::kAvro  ? stream_->ingest_avro(payload)
                                                            : IngestArrowIpc(payload);
      ++accepted_;
      unsettled_.push_back(Unsettled{offset, std::move(*raw), file, where});
      return ++since_settle_ % kSettleEvery != 0 || Settle(std::chrono::milliseconds(0));
    } catch (const zerobus::Error &error) {
      switch (error.code()) {
        case ZB_ERR_INVALID_RECORD:
        case ZB_ERR_EMPTY_RECORD:
        case ZB_ERR_RECORD_TOO_LARGE:
          // The record alone is at fault; the stream goes on.
          return Reject(*raw, file, where, error.name(), error.message());
        case ZB_ERR_QUEUE_FULL:
          // The window stayed full for stream.ingest.timeout.ms: the stream is alive but slow.
          if (!Settle(std::chrono::milliseconds(100))) return false;
          continue;
        default:
          if (exactly_once_) {
            fatal_ = std::string("the persistent stream failed: ") + error.what() +
                     "; run again to resume it";
            return false;
          }
          if (!Replace(error)) {
            Reject(*raw, file, where, error.name(), error.message());
            return false;
          }
      }
    }
  }
}

bool Ingester::Finish(std::chrono::milliseconds timeout) {
  if (!stream_) return true;
  CloseQuietly(timeout);
  // Close queued an event for every record: acks for the durable ones, errors for the rest.
  if (!Settle(std::chrono::milliseconds(0))) return false;
  if (left_for_next_run_ > 0) {
    fatal_ = std::to_string(left_for_next_run_) +
             " records were not acknowledged before the stream ended; run again to resume it and "
             "send those the server did not commit";
    return false;
  }
  // Nothing should be left; should anything be, it is reported rather than lost.
  while (!unsettled_.empty()) {
    if (!DeadLetter(unsettled_.front(), zb_status_name(ZB_ERR_INTERNAL),
                    "the stream closed without an event for the record")) {
      return false;
    }
    unsettled_.pop_front();
  }
  CloseStream();
  return true;
}

ProgressCounters Ingester::Sample() {
  ProgressCounters counters;
  counters.records_read = read_.load(std::memory_order_relaxed);
  counters.bytes_read = bytes_read_.load(std::memory_order_relaxed);
  counters.dead_lettered = dead_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(stream_mu_);
  counters.acked = earlier_acked_;
  counters.recoveries = earlier_recoveries_;
  if (stream_) {
    const zerobus::StreamInfo info = stream_->info();
    counters.acked += info.records_acked;
    counters.in_flight = info.records_in_flight;
    counters.recoveries += info.recoveries;
  }
  return counters;
}

Totals Ingester::totals() const {
  Totals totals;
  totals.files = files_.size();
  totals.read = read_.load();
  totals.bytes = bytes_read_.load();
  totals.accepted = accepted_;
  totals.acked = acked_;
  totals.dead = dead_.load();
  totals.streams = streams_;
  totals.exactly_once = exactly_once_;
  totals.skipped = skipped_;
  std::lock_guard<std::mutex> lock(stream_mu_);
  totals.recoveries = earlier_recoveries_;
  return totals;
}

}  // namespace zerobus::cli
