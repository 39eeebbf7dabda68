// The delivery side of `zerobus ingest`: feeds records into a stream, keeps each until it is
// settled (acknowledged, or dead-lettered with its error), and opens a new stream when one
// fails for good.
#ifndef ZEROBUS_CLI_INGESTER_H
#define ZEROBUS_CLI_INGESTER_H

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <zerobus/zerobus.hpp>

#include "cli/dead_letters.h"
#include "cli/ingest_summary.h"
#include "cli/progress.h"
#include "cli/record_readers.h"

namespace zerobus::cli {

// Records and events are handled on the one thread that calls Ingest(), Reject() and Finish();
// Sample() may be called from any thread.
class Ingester {
 public:
  // Opens a stream; throws zerobus::Error when it cannot.
  using Opener = std::function<zerobus::Stream()>;

  // What the records handed to Ingest() are.
  enum class Payload { kJson, kProto, kAvro, kArrow };

  // `files` names the inputs that records' file indexes refer to. `exactly_once`: the stream is
  // persistent (--exactly-once), and the offsets of its records are their positions among the
  // records handed to Ingest(): a stream that fails for good ends the run (a new stream would
  // shift them, and its records were not lost: the next run resumes the stream and sends what
  // the server did not commit), and the records it did not acknowledge are not dead-lettered,
  // nor are those a close timed out on: Finish() then fails, saying to run again.
  Ingester(Opener open, Payload payload, DeadLetterFile *dead_letters,
           std::vector<std::string> files, bool exactly_once = false);
  ~Ingester() { CloseStream(); }
  Ingester(const Ingester &) = delete;
  Ingester &operator=(const Ingester &) = delete;

  // Opens the first stream; false with the reason in fatal().
  bool Start() { return OpenStream(); }

  // --exactly-once resuming: the next `count` records handed to Ingest() were committed by an
  // earlier run; they are counted as skipped, not sent.
  void SkipCommitted(uint64_t count) { skip_ = count; }

  // Counts one record of `bytes` read.
  void CountRead(size_t bytes) {
    read_.fetch_add(1, std::memory_order_relaxed);
    bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  }

  // Hands one record of input `file` (an index into the files given at construction) to the
  // stream: `payload` (JSON text, protobuf bytes, an Avro datum, an Arrow batch as an IPC
  // stream) is what is sent, `raw` (moved from) what
  // the dead-letter file gets if it cannot be delivered. False when the run cannot go on
  // (fatal() says why); the record is then dead-lettered.
  bool Ingest(std::string *raw, const std::string &payload, size_t file, SourcePosition where);

  // Dead-letters a record that was never handed to the stream; `oversized` as DeadLetter has
  // it. False when the dead-letter file cannot be written.
  bool Reject(const std::string &raw, size_t file, SourcePosition where, const char *code,
              const std::string &message, uint64_t oversized = 0);

  // Closes the stream, waiting up to `timeout` for the last acknowledgements, and settles
  // every record. False when something was left that could not be dead-lettered.
  bool Finish(std::chrono::milliseconds timeout);

  ProgressCounters Sample();
  Totals totals() const;
  const std::string &fatal() const { return fatal_; }

 private:
  struct Unsettled {
    uint64_t offset;
    std::string raw;
    size_t file;
    SourcePosition where;
  };

  // A stream that fails before any of its records was acknowledged, this many times in a row,
  // ends the run: the fault is not in the records.
  static constexpr int kMaxFruitlessStreams = 3;
  // Events are collected every this many records, which bounds the unsettled list to the
  // library's window plus this.
  static constexpr uint64_t kSettleEvery = 256;

  bool OpenStream();
  // Ingests one Arrow batch given as an IPC stream (zerobus.hpp has no Arrow call); its offset.
  uint64_t IngestArrowIpc(const std::string &batch_ipc);
  void CloseStream();
  // Closes the stream, waiting up to `timeout`. A close that leaves records unacknowledged
  // throws, and those records come as error events: Settle() deals with them.
  void CloseQuietly(std::chrono::milliseconds timeout);
  // Takes the stream's events, waiting up to `timeout` for the first; false when a dead letter
  // could not be written.
  bool Settle(std::chrono::milliseconds timeout);
  bool DeadLetter(const Unsettled &record, const char *code, const std::string &message,
                  uint64_t oversized = 0);
  // After the stream failed with `error`: settles everything it held and opens a new one.
  bool Replace(const zerobus::Error &error);

  Opener open_;
  const Payload payload_;
  const bool exactly_once_;
  uint64_t skip_ = 0;
  uint64_t skipped_ = 0;
  // --exactly-once: records the stream ended without acknowledging, which are not dead letters.
  uint64_t left_for_next_run_ = 0;
  DeadLetterFile *dead_letters_;
  const std::vector<std::string> files_;
  std::deque<Unsettled> unsettled_;
  uint64_t accepted_ = 0;
  uint64_t acked_ = 0;
  uint64_t since_settle_ = 0;
  int fruitless_streams_ = 0;
  uint64_t streams_ = 0;
  std::string fatal_;

  std::atomic<uint64_t> read_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> dead_{0};
  // Guards stream_ and the counters of the streams before it, for Sample().
  mutable std::mutex stream_mu_;
  std::optional<zerobus::Stream> stream_;
  uint64_t earlier_acked_ = 0;
  uint64_t earlier_recoveries_ = 0;
};

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_INGESTER_H
