// `zerobus ingest`: streams records from files or standard input into a table through the
// library, against a workspace or an embedded local server, with live progress, a summary, a
// dead-letter file for every record that could not be delivered, and exit statuses that tell
// success, partial failure and failure apart.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/csv_rows.h"
#include "cli/dead_letters.h"
#include "cli/directories.h"
#include "cli/flags.h"
#include "cli/progress.h"
#include "cli/record_readers.h"
#include "cli/table_declarations.h"
#include "cli/workspace_access.h"
#include "server/server.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus ingest [--table NAME] [options] [FILE...]\n"
    "\n"
    "Streams the records of FILEs (standard input when there is none, or for '-') into the\n"
    "table NAME (catalog.schema.table): into a workspace with --endpoint, or else into an\n"
    "embedded local server that stores the rows where `zerobus rows` reads them.\n"
    "\n"
    "Formats (--format, else from the files' extension: .csv, .pb, otherwise JSON Lines):\n"
    "  jsonl   one JSON object per line, blank lines skipped\n"
    "  csv     a header row of column names, then one record per row (RFC 4180 quoting). Each\n"
    "          field is typed by the table's schema; an empty field is NULL, \"\" the empty\n"
    "          string; ARRAY, MAP and STRUCT fields hold JSON; TIMESTAMP fields take RFC 3339\n"
    "          text or microseconds. Needs the table's schema.\n"
    "  proto   serialized protobuf messages, each preceded by its length in bytes as a\n"
    "          base-128 varint (protobuf's writeDelimitedTo framing). Needs --descriptor or\n"
    "          the table's schema.\n"
    "The table's schema comes from --table-ddl, or from the workspace's Unity Catalog. With a\n"
    "schema, records are checked and encoded to protobuf before they are sent, so a bad record\n"
    "is refused alone, with the column's name.\n"
    "\n"
    "A record that cannot be delivered goes to the dead-letter file. When a stream fails for\n"
    "good (the server refused a request, retries ran out), every record it had not had\n"
    "acknowledged goes there, and the rest of the input goes to a new stream; the server may\n"
    "have stored some of those records without acknowledging them (delivery is at least once).\n"
    "Three streams in a row failing before any acknowledgement end the run.\n"
    "A record over 10 MiB (the most the service takes; a line's text, a CSV row's text, or a\n"
    "protobuf message) is never read whole: it goes to the dead-letter file with its position,\n"
    "its length as record_bytes and its first 1 KiB as record_prefix, and reading goes on.\n"
    "\n"
    "Options:\n"
    "  --table NAME            the table (optional when --table-ddl names it)\n"
    "  --format FORMAT         jsonl, csv or proto\n"
    "  --table-ddl DDL         the table's schema as one Delta DDL statement, e.g.\n"
    "                          'main.default.events (id BIGINT NOT NULL, payload STRING)';\n"
    "                          the embedded server declares the table with it\n"
    "  --descriptor FILE       the serialized DescriptorProto of --format proto's messages\n"
    "                          (`zerobus schema --descriptor` writes one)\n"
    "  --dead-letter FILE      where undeliverable records go, one JSON object per line with\n"
    "                          the record, its file and line, the error's code and message\n"
    "                          (appended to; default: NAME.dead-letter.jsonl, made only when\n"
    "                          needed, readable by its owner only; never a symbolic link)\n"
    "  --progress-interval DUR how often to print progress when standard error is not a\n"
    "                          terminal (default 5s; on a terminal one line is redrawn)\n"
    "  --quiet                 no progress, only the summary\n"
    "  --close-timeout DUR     how long to wait at the end for the last acknowledgements\n"
    "                          (default 5m; records still unacknowledged are dead-lettered)\n"
    "  --config KEY=VALUE      a library option (docs/CONFIGURATION.md); repeatable\n"
    "  --help                  show this help\n"
    "\n"
    "A workspace:\n"
    "  --endpoint URL          the Zerobus endpoint, https://WORKSPACE_ID.zerobus.REGION.\n"
    "                          cloud.databricks.com (http:// for a plaintext local server)\n"
    "  --workspace-url URL     the workspace, for OAuth tokens and the table's schema\n"
    "                          (default: $DATABRICKS_HOST)\n"
    "  --client-id ID, --client-secret SECRET\n"
    "                          the service principal (default: $DATABRICKS_CLIENT_ID and\n"
    "                          $DATABRICKS_CLIENT_SECRET; else $DATABRICKS_TOKEN is sent)\n"
    "  --ca-file FILE          the authorities to trust (default: the system's)\n"
    "\n"
    "The embedded local server (without --endpoint):\n"
    "  --data-dir DIR          store the rows in DIR/zerobus.db (default: the current\n"
    "                          directory)\n"
    "  --schema-file FILE      declare the tables of FILE (as `zerobus serve --schema-file`)\n"
    "Without a declared table, the table is accepted unchecked (JSON Lines only).\n"
    "\n"
    "Exit status:\n"
    "  0  every record was acknowledged (durable in the table)\n"
    "  1  failure: the stream could not be opened (a refusal, authentication), an input could\n"
    "     not be opened or read to its end (a read error is never taken for the end), no record\n"
    "     was delivered, or the run stopped before the input's end\n"
    "  2  usage: a mistake on the command line\n"
    "  3  partial failure: every record was read, some are in the dead-letter file\n"
    "Ctrl-C (SIGINT) or SIGTERM stops reading; the records in flight still end acknowledged or\n"
    "dead-lettered, the last line names where the input was left, and the status is 1. A second\n"
    "one quits at once.\n"
    "\n"
    "Examples:\n"
    "  zerobus ingest --table-ddl 'main.default.events (id BIGINT, payload STRING)' \\\n"
    "      events.jsonl && zerobus rows main.default.events\n"
    "  zerobus ingest --data-dir data --table-ddl \"$(cat orders.sql)\" orders.csv\n"
    "  DATABRICKS_CLIENT_ID=... DATABRICKS_CLIENT_SECRET=... zerobus ingest \\\n"
    "      --endpoint https://1234.zerobus.us-west-2.cloud.databricks.com \\\n"
    "      --workspace-url https://dbc-1234.cloud.databricks.com \\\n"
    "      --table main.sales.orders --dead-letter rejected.jsonl orders.csv\n"
    "  produce-protobuf | zerobus ingest --format proto --descriptor orders.desc \\\n"
    "      --table main.sales.orders --endpoint http://127.0.0.1:50051 -\n";

constexpr int kExitSuccess = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitPartial = 3;

enum class Format { kJsonLines, kCsv, kProto };

struct Options {
  std::string table;
  std::vector<std::string> files;
  std::optional<Format> format;
  std::string table_ddl;
  std::string descriptor_path;
  std::string dead_letter_path;
  std::chrono::milliseconds progress_interval{5000};
  bool quiet = false;
  std::chrono::milliseconds close_timeout{5 * 60 * 1000};
  std::vector<std::pair<std::string, std::string>> config;
  std::string endpoint;
  WorkspaceAccess access;
  std::string data_dir = ".";
  std::vector<table::TableSchema> declared;
};

std::string ParseFormat(const std::string &name, std::optional<Format> *format) {
  if (name == "jsonl" || name == "json") {
    *format = Format::kJsonLines;
  } else if (name == "csv") {
    *format = Format::kCsv;
  } else if (name == "proto") {
    *format = Format::kProto;
  } else {
    return "--format wants jsonl, csv or proto, got '" + name + "'";
  }
  return "";
}

// The format the files' names imply, when they agree; "-" says nothing.
std::optional<Format> FormatFromNames(const std::vector<std::string> &files, bool *agree) {
  std::optional<Format> found;
  *agree = true;
  for (const std::string &file : files) {
    if (file == "-") continue;
    const auto ends = [&file](const char *suffix) {
      const size_t n = std::strlen(suffix);
      return file.size() >= n && file.compare(file.size() - n, n, suffix) == 0;
    };
    const Format format = ends(".csv")  ? Format::kCsv
                          : ends(".pb") ? Format::kProto
                                        : Format::kJsonLines;
    if (found && *found != format) *agree = false;
    found = format;
  }
  return found;
}

std::optional<int> ParseArgs(int argc, char **argv, Options *options) {
  Flags flags("ingest", kUsage);
  const auto text = [](std::string *target) {
    return [target](const std::string &v) {
      *target = v;
      return std::string();
    };
  };
  flags.Positional([options](const std::string &v) {
    options->files.push_back(v);
    return std::string();
  });
  flags.Value("--table", text(&options->table));
  flags.Value("--format",
              [options](const std::string &v) { return ParseFormat(v, &options->format); });
  flags.Value("--table-ddl", text(&options->table_ddl));
  flags.Value("--descriptor", text(&options->descriptor_path));
  flags.Value("--dead-letter", text(&options->dead_letter_path));
  flags.Value("--progress-interval", [options](const std::string &v) {
    if (!ParseDuration(v, &options->progress_interval) || options->progress_interval.count() == 0) {
      return "--progress-interval wants a duration such as 5s, got '" + v + "'";
    }
    return std::string();
  });
  flags.Switch("--quiet", [options] { options->quiet = true; });
  flags.Value("--close-timeout", [options](const std::string &v) {
    return ParseDuration(v, &options->close_timeout)
               ? ""
               : "--close-timeout wants a duration such as 5m, got '" + v + "'";
  });
  flags.Value("--config", [options](const std::string &v) {
    const size_t equals = v.find('=');
    if (equals == std::string::npos || equals == 0) {
      return "--config wants KEY=VALUE, got '" + v + "'";
    }
    options->config.emplace_back(v.substr(0, equals), v.substr(equals + 1));
    return std::string();
  });
  flags.Value("--endpoint", text(&options->endpoint));
  flags.Value("--workspace-url", text(&options->access.url));
  flags.Value("--client-id", text(&options->access.client_id));
  flags.Value("--client-secret", text(&options->access.client_secret));
  flags.Value("--ca-file", text(&options->access.ca_file));
  flags.Value("--data-dir", [options](const std::string &v) {
    options->data_dir = v;
    return v.empty() ? std::string("--data-dir wants a directory") : std::string();
  });
  flags.Value("--schema-file", [options](const std::string &v) {
    return DeclareTablesFromFile(v, &options->declared);
  });
  if (std::optional<int> status = flags.Parse(argc, argv)) return status;

  const auto usage = [](const std::string &message) {
    std::fprintf(stderr, "zerobus ingest: %s\n\n%s", message.c_str(), kUsage);
    return std::optional<int>(kExitUsage);
  };
  if (options->files.empty()) options->files.push_back("-");
  if (!options->format) {
    bool agree;
    options->format = FormatFromNames(options->files, &agree);
    if (!agree) return usage("the files' extensions name different formats: give --format");
    if (!options->format) options->format = Format::kJsonLines;
  }
  if (!options->descriptor_path.empty() && *options->format != Format::kProto) {
    return usage("--descriptor goes with --format proto");
  }
  if (!options->table_ddl.empty()) {
    std::vector<table::TableSchema> parsed;
    const std::string error = DeclareTable(options->table_ddl, &parsed);
    if (!error.empty()) return usage("--table-ddl: " + error);
    if (options->table.empty()) options->table = parsed.front().full_name;
    if (options->table != parsed.front().full_name) {
      return usage("--table is " + options->table + " but --table-ddl describes " +
                   parsed.front().full_name);
    }
    if (options->endpoint.empty()) options->declared.push_back(std::move(parsed.front()));
  }
  if (options->table.empty()) return usage("which table? give --table or --table-ddl");
  if (const std::string error = CheckDistinctNames(options->declared); !error.empty()) {
    return usage(error);
  }
  if (options->endpoint.empty()) {
    if (!options->access.url.empty() || !options->access.client_id.empty() ||
        !options->access.client_secret.empty()) {
      return usage("--workspace-url and client credentials need --endpoint");
    }
  } else {
    if (!options->declared.empty())
      return usage(
          "--schema-file declares tables of the "
          "embedded server: it does not go with --endpoint");
    const char *host = std::getenv("DATABRICKS_HOST");
    if (options->access.url.empty() && host != nullptr) options->access.url = host;
  }
  if (options->dead_letter_path.empty()) {
    options->dead_letter_path = options->table + ".dead-letter.jsonl";
  }
  return std::nullopt;
}

std::string Describe(const zb_error *err) {
  const char *name = zb_status_name(zb_error_code(err));
  return std::string(name != nullptr ? name : "ZB_ERR_?") + ": " + zb_error_message(err);
}

// What the run did, for the summary and the exit status.
struct Totals {
  uint64_t files = 0;
  uint64_t read = 0;
  uint64_t bytes = 0;
  uint64_t accepted = 0;
  uint64_t acked = 0;
  uint64_t dead = 0;
  uint64_t streams = 0;
  uint64_t recoveries = 0;
};

// Feeds records into a stream, keeps each until it is settled (acknowledged, or dead-lettered
// with its error), and opens a new stream when one fails. Records and events are handled on
// the one thread that calls Ingest(), Reject() and Finish(); Sample() may be called from any
// thread.
class Ingester {
 public:
  using Opener = std::function<zb_status(zb_stream **, zb_error **)>;

  Ingester(Opener open, bool json, DeadLetterFile *dead_letters, std::vector<std::string> files)
      : open_(std::move(open)),
        json_(json),
        dead_letters_(dead_letters),
        files_(std::move(files)) {}
  ~Ingester() { CloseStream(); }
  Ingester(const Ingester &) = delete;
  Ingester &operator=(const Ingester &) = delete;

  // Opens the first stream; false with the reason in fatal().
  bool Start() { return OpenStream(); }

  // Counts one record read from file `file` (an index into the files given at construction).
  void CountRead(size_t bytes) {
    read_.fetch_add(1, std::memory_order_relaxed);
    bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  }

  // Hands one record to the stream: `payload` (JSON text or protobuf bytes) is what is sent,
  // `raw` (moved from) what the dead-letter file gets if it cannot be delivered. False when
  // the run cannot go on (fatal() says why); the record is then dead-lettered.
  bool Ingest(std::string *raw, const std::string *payload, size_t file, SourcePosition where);

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
  void CloseStream();
  // Takes the stream's events, waiting up to `timeout_ms` for the first; false when a dead
  // letter could not be written.
  bool Settle(int32_t timeout_ms);
  bool DeadLetter(const Unsettled &record, const char *code, const std::string &message,
                  uint64_t oversized = 0);
  // After the stream failed with `err`: settles everything it held and opens a new one.
  bool Replace(const zb_error *err);

  Opener open_;
  const bool json_;
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
  zb_stream *stream_ = nullptr;
  uint64_t earlier_acked_ = 0;
  uint64_t earlier_recoveries_ = 0;
};

bool Ingester::OpenStream() {
  zb_stream *stream = nullptr;
  zb_error *err = nullptr;
  if (open_(&stream, &err) != ZB_OK) {
    fatal_ = "cannot open a stream: " + Describe(err);
    zb_error_free(err);
    return false;
  }
  std::lock_guard<std::mutex> lock(stream_mu_);
  stream_ = stream;
  ++streams_;
  return true;
}

void Ingester::CloseStream() {
  zb_stream *stream;
  {
    std::lock_guard<std::mutex> lock(stream_mu_);
    stream = stream_;
    if (stream == nullptr) return;
    zb_stream_info info = ZB_STREAM_INFO_INIT;
    zb_stream_get_info(stream, &info, nullptr);
    earlier_acked_ += info.records_acked;
    earlier_recoveries_ += info.recoveries;
    stream_ = nullptr;
  }
  zb_stream_destroy(stream);
}

bool Ingester::DeadLetter(const Unsettled &record, const char *code, const std::string &message,
                          uint64_t oversized) {
  std::string error;
  const cli::DeadLetter letter{&record.raw, !json_,   &files_[record.file], record.where, code,
                               message,     oversized};
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

bool Ingester::Settle(int32_t timeout_ms) {
  zb_event events[64];
  for (;;) {
    size_t count = 0;
    zb_stream_poll(stream_, events, sizeof(zb_event), std::size(events), timeout_ms, &count,
                   nullptr);
    bool ok = true;
    for (size_t i = 0; i < count; ++i) {
      const zb_event &event = events[i];
      // Events come in offset order and cover every record up to last_offset: an ack makes
      // them durable, an error event says they never will be.
      while (!unsettled_.empty() && unsettled_.front().offset <= event.last_offset) {
        if (event.type == ZB_EVENT_ACK) {
          ++acked_;
        } else if (ok) {
          ok = DeadLetter(unsettled_.front(), zb_status_name(zb_error_code(event.error)),
                          zb_error_message(event.error));
        }
        unsettled_.pop_front();
      }
      if (event.type == ZB_EVENT_ACK) fruitless_streams_ = 0;
      zb_error_free(event.error);
    }
    if (!ok) return false;
    if (count < std::size(events)) return true;
    timeout_ms = 0;
  }
}

bool Ingester::Replace(const zb_error *err) {
  // Closing a failed stream returns at once; its error events are then all queued.
  zb_stream_close(stream_, 0, nullptr);
  if (!Settle(0)) return false;
  const std::string reason = zb_error_message(err);
  while (!unsettled_.empty()) {
    if (!DeadLetter(unsettled_.front(), zb_status_name(zb_error_code(err)), reason)) return false;
    unsettled_.pop_front();
  }
  CloseStream();
  if (++fruitless_streams_ >= kMaxFruitlessStreams) {
    fatal_ = std::to_string(kMaxFruitlessStreams) +
             " streams in a row failed before any record was acknowledged, the last with " +
             Describe(err);
    return false;
  }
  return OpenStream();
}

bool Ingester::Ingest(std::string *raw, const std::string *payload, size_t file,
                      SourcePosition where) {
  for (;;) {
    uint64_t offset = 0;
    zb_error *err = nullptr;
    const zb_status status =
        json_ ? zb_stream_ingest_json(stream_, payload->data(), payload->size(), &offset, &err)
              : zb_stream_ingest_proto(stream_, payload->data(), payload->size(), &offset, &err);
    const ErrorPtr error(err);
    switch (status) {
      case ZB_OK:
        ++accepted_;
        unsettled_.push_back(Unsettled{offset, std::move(*raw), file, where});
        return ++since_settle_ % kSettleEvery != 0 || Settle(0);
      case ZB_ERR_INVALID_RECORD:
      case ZB_ERR_EMPTY_RECORD:
      case ZB_ERR_RECORD_TOO_LARGE:
        // The record alone is at fault; the stream goes on.
        return Reject(*raw, file, where, zb_status_name(status), zb_error_message(err));
      case ZB_ERR_QUEUE_FULL:
        // The window stayed full for stream.ingest.timeout.ms: the stream is alive but slow.
        if (!Settle(100)) return false;
        continue;
      default:
        if (!Replace(err)) {
          Reject(*raw, file, where, zb_status_name(status), zb_error_message(err));
          return false;
        }
    }
  }
}

bool Ingester::Finish(std::chrono::milliseconds timeout) {
  if (stream_ == nullptr) return true;
  zb_stream_close(stream_, static_cast<int32_t>(timeout.count()), nullptr);
  // Close queued an event for every record: acks for the durable ones, errors for the rest.
  if (!Settle(0)) return false;
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
  if (stream_ != nullptr) {
    zb_stream_info info = ZB_STREAM_INFO_INIT;
    zb_stream_get_info(stream_, &info, nullptr);
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
  std::lock_guard<std::mutex> lock(stream_mu_);
  totals.recoveries = earlier_recoveries_;
  return totals;
}

// Turns the first SIGINT or SIGTERM into a request to stop reading, so that the records in
// flight still end acknowledged or dead-lettered and the summary is printed; the second ends the
// process at once. Made before any other thread starts, so that every thread inherits the
// blocked signals and they reach only the watcher's sigwait.
class Interruption {
 public:
  Interruption() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    watcher_ = std::thread([this] { Watch(); });
  }
  ~Interruption() {
    done_.store(true);
    pthread_kill(watcher_.native_handle(), SIGTERM);
    watcher_.join();
  }
  Interruption(const Interruption &) = delete;
  Interruption &operator=(const Interruption &) = delete;

  bool requested() const { return requested_.load(std::memory_order_relaxed); }

 private:
  void Watch() {
    for (;;) {
      int signal_number = 0;
      sigwait(&signals_, &signal_number);
      if (done_.load()) return;
      if (requested_.exchange(true)) _exit(130);
      std::fprintf(stderr,
                   "\nzerobus ingest: %s: stopping after the records in flight (again to quit "
                   "at once)\n",
                   strsignal(signal_number));
    }
  }

  sigset_t signals_;
  std::atomic<bool> requested_{false};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

// Opens `name` for reading ("-": standard input); null with the reason in *error.
std::FILE *OpenInput(const std::string &name, std::string *error) {
  if (name == "-") return stdin;
  std::FILE *file = std::fopen(name.c_str(), "rb");
  if (file == nullptr) *error = "cannot read " + name + ": " + std::strerror(errno);
  return file;
}

const char *const kInvalidRecord = "ZB_ERR_INVALID_RECORD";

// Dead-letters a record over kMaxRecordBytes, of which `prefix` holds the first bytes.
bool RejectOversized(Ingester *ingester, const std::string &prefix, size_t file,
                     SourcePosition where, uint64_t length) {
  return ingester->Reject(prefix, file, where, "ZB_ERR_RECORD_TOO_LARGE",
                          "the record's " + std::to_string(length) + " bytes exceed the limit of " +
                              std::to_string(kMaxRecordBytes) +
                              " bytes; the dead letter holds its first bytes only",
                          length);
}

bool IsJsonObject(const std::string &text) {
  const size_t first = text.find_first_not_of(" \t");
  return first != std::string::npos && text[first] == '{' && nlohmann::json::accept(text);
}

// Reads the records of one input into `ingester`. Returns "" or why the run must stop.
std::string IngestFile(std::FILE *file, size_t index, const std::string &name, Format format,
                       const zb_schema *schema, bool check_json, const Interruption &interruption,
                       Ingester *ingester) {
  std::string raw;
  SourcePosition where;
  uint64_t oversized = 0;
  std::string read_error;
  const auto stopped = [&]() -> std::string {
    if (!ingester->fatal().empty()) return ingester->fatal();
    if (!read_error.empty()) return "cannot read " + name + ": " + read_error;
    if (!interruption.requested()) return "";
    // Where to resume from.
    return "interrupted after " + name +
           (format == Format::kProto ? " record " + std::to_string(where.number)
                                     : " line " + std::to_string(where.line));
  };
  switch (format) {
    case Format::kJsonLines: {
      JsonLinesReader reader(file);
      while (!interruption.requested() && reader.Next(&raw, &where, &oversized)) {
        ingester->CountRead(oversized != 0 ? oversized : raw.size());
        // Without a schema the server parses the JSON, and a line it cannot parse would end
        // the stream: such lines are refused here instead.
        const bool ok =
            oversized != 0 ? RejectOversized(ingester, raw, index, where, oversized)
            : check_json && !IsJsonObject(raw)
                ? ingester->Reject(raw, index, where, kInvalidRecord, "not a JSON object")
                : ingester->Ingest(&raw, &raw, index, where);
        if (!ok) return stopped();
      }
      read_error = reader.ReadError();
      return stopped();
    }
    case Format::kCsv: {
      CsvReader reader(file);
      std::vector<CsvField> fields;
      std::string malformed;
      if (!reader.Next(&fields, &raw, &where, &malformed, &oversized)) {
        read_error = reader.ReadError();
        return stopped();  // an empty file has no header and no records
      }
      if (oversized != 0 || !malformed.empty()) {
        return name + ":" + std::to_string(where.line) + ": the header row is " +
               (oversized != 0 ? "over " + std::to_string(kMaxRecordBytes) + " bytes" : malformed);
      }
      const void *descriptor = nullptr;
      size_t len = 0;
      zb_schema_descriptor(schema, &descriptor, &len, nullptr);
      CsvRowConverter converter;
      if (const std::string error = converter.Init(descriptor, len, fields); !error.empty()) {
        return name + ":" + std::to_string(where.line) + ": " + error;
      }
      std::string json;
      while (!interruption.requested() &&
             reader.Next(&fields, &raw, &where, &malformed, &oversized)) {
        ingester->CountRead(oversized != 0 ? oversized : raw.size());
        if (oversized != 0) {
          if (!RejectOversized(ingester, raw, index, where, oversized)) return stopped();
          continue;
        }
        std::string problem = malformed.empty() ? converter.ToJson(fields, &json) : malformed;
        const bool ok = problem.empty()
                            ? ingester->Ingest(&raw, &json, index, where)
                            : ingester->Reject(raw, index, where, kInvalidRecord, problem);
        if (!ok) return stopped();
      }
      read_error = reader.ReadError();
      return stopped();
    }
    case Format::kProto: {
      DelimitedProtoReader reader(file);
      std::string malformed;
      while (!interruption.requested() && reader.Next(&raw, &where, &malformed, &oversized)) {
        ingester->CountRead(oversized != 0 ? oversized : raw.size());
        const bool ok = oversized != 0 ? RejectOversized(ingester, raw, index, where, oversized)
                                       : ingester->Ingest(&raw, &raw, index, where);
        if (!ok) return stopped();
      }
      if (!malformed.empty()) {
        ingester->CountRead(raw.size());
        if (!ingester->Reject(raw, index, where, kInvalidRecord, malformed)) return stopped();
      }
      read_error = reader.ReadError();
      return stopped();
    }
  }
  return "";
}

bool ReadFile(const std::string &path, std::string *bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

void PrintSummary(const std::string &table, const Totals &totals, double seconds,
                  const std::string &dead_letter_path) {
  const double records_per_second = seconds > 0 ? static_cast<double>(totals.read) / seconds : 0;
  const double megabytes = static_cast<double>(totals.bytes) / 1e6;
  std::printf(
      "zerobus ingest: %s\n"
      "  records read   %llu (%.1f MB from %llu input%s)\n"
      "  accepted       %llu\n"
      "  acknowledged   %llu\n"
      "  dead-lettered  %llu%s%s\n"
      "  elapsed        %.2f s (%.0f records/s, %.1f MB/s)\n"
      "  recoveries     %llu\n"
      "  streams        %llu\n",
      table.c_str(), static_cast<unsigned long long>(totals.read), megabytes,
      static_cast<unsigned long long>(totals.files), totals.files == 1 ? "" : "s",
      static_cast<unsigned long long>(totals.accepted),
      static_cast<unsigned long long>(totals.acked), static_cast<unsigned long long>(totals.dead),
      totals.dead > 0 ? " to " : "", totals.dead > 0 ? dead_letter_path.c_str() : "", seconds,
      records_per_second, seconds > 0 ? megabytes / seconds : 0,
      static_cast<unsigned long long>(totals.recoveries),
      static_cast<unsigned long long>(totals.streams));
  std::fflush(stdout);
}

}  // namespace

int RunIngest(int argc, char **argv) {
  Options options;
  if (std::optional<int> status = ParseArgs(argc, argv, &options)) return *status;
  const auto fail = [](const std::string &message) {
    std::fprintf(stderr, "zerobus ingest: %s\n", message.c_str());
    return kExitFailure;
  };
  const auto started = std::chrono::steady_clock::now();
  const Interruption interruption;

  // Without an endpoint, a local server in this process plays the workspace.
  std::unique_ptr<server::Server> local;
  if (options.endpoint.empty()) {
    std::string error;
    if (!MakeDirectory(options.data_dir, &error)) return fail(error);
    server::ServerOptions server_options;
    server_options.data_dir = options.data_dir;
    server_options.tables = options.declared;
    server_options.accept_undeclared_tables = options.declared.empty();
    server_options.http_port = 0;
    local = server::Server::Start(std::move(server_options), &error);
    if (!local) return fail("cannot start the local server: " + error);
    options.endpoint = local->endpoint();
    options.access = WorkspaceAccess();
    options.access.url = local->workspace_url();
    options.access.credentials = false;
  }

  zb_error *err = nullptr;
  SchemaPtr schema;
  if (!options.table_ddl.empty()) {
    zb_schema *made = nullptr;
    if (zb_schema_from_ddl(options.table_ddl.c_str(), &made, &err) != ZB_OK) {
      return fail("--table-ddl: " + Describe(ErrorPtr(err).get()));
    }
    schema.reset(made);
  } else if (!options.access.url.empty() && !(local && options.declared.empty())) {
    schema = FetchSchema(options.access, options.table, &err);
    const ErrorPtr error(err);
    if (!schema && (*options.format != Format::kJsonLines || local)) {
      return fail("cannot read the schema of " + options.table + ": " + Describe(err));
    }
    if (!schema) {
      std::fprintf(stderr,
                   "zerobus ingest: cannot read the schema of %s (%s); sending JSON records "
                   "unchecked\n",
                   options.table.c_str(), Describe(err).c_str());
    }
  }
  std::string descriptor;
  if (!options.descriptor_path.empty() && !ReadFile(options.descriptor_path, &descriptor)) {
    return fail("cannot read " + options.descriptor_path);
  }
  if (*options.format == Format::kCsv && !schema) {
    return fail("CSV fields are typed by the table's schema: give --table-ddl" +
                std::string(local ? "" : " or --workspace-url"));
  }
  if (*options.format == Format::kProto && !schema && descriptor.empty()) {
    return fail("protobuf records need their descriptor: give --descriptor or --table-ddl");
  }

  ConfigPtr config = NewAccessConfig(options.access, &err);
  if (!config) return fail(Describe(ErrorPtr(err).get()));
  // A local server speaks plaintext, which the SDK takes only when told.
  if (options.endpoint.rfind("http://", 0) == 0 &&
      zb_config_set(config.get(), "transport.plaintext", "true", &err) != ZB_OK) {
    return fail(Describe(ErrorPtr(err).get()));
  }
  for (const auto &[key, value] : options.config) {
    if (zb_config_set(config.get(), key.c_str(), value.c_str(), &err) != ZB_OK) {
      return fail("--config " + key + ": " + Describe(ErrorPtr(err).get()));
    }
  }
  zb_sdk *made_sdk = nullptr;
  if (zb_sdk_new(options.endpoint.c_str(), config.get(), &made_sdk, &err) != ZB_OK) {
    return fail(options.endpoint + ": " + Describe(ErrorPtr(err).get()));
  }
  const SdkPtr sdk(made_sdk);

  // A schema's stream takes JSON and encodes it; a descriptor's takes protobuf alone.
  const bool json = *options.format != Format::kProto;
  Ingester::Opener open = [&](zb_stream **out, zb_error **error) {
    if (!descriptor.empty()) {
      return zb_stream_new(sdk.get(), options.table.c_str(), ZB_RECORD_PROTO, descriptor.data(),
                           descriptor.size(), config.get(), out, error);
    }
    if (schema) return zb_stream_new_from_schema(sdk.get(), schema.get(), config.get(), out, error);
    return zb_stream_new(sdk.get(), options.table.c_str(), ZB_RECORD_JSON, nullptr, 0, config.get(),
                         out, error);
  };
  DeadLetterFile dead_letters(options.dead_letter_path);
  Ingester ingester(open, json, &dead_letters, options.files);
  if (!ingester.Start()) return fail(options.table + ": " + ingester.fatal());

  std::optional<ProgressReporter> progress;
  if (!options.quiet) {
    progress.emplace(stderr, isatty(STDERR_FILENO) == 1, options.progress_interval,
                     [&ingester] { return ingester.Sample(); });
  }
  std::string stopped;
  for (size_t i = 0; i < options.files.size() && stopped.empty(); ++i) {
    std::FILE *file = OpenInput(options.files[i], &stopped);
    if (file == nullptr) break;
    stopped = IngestFile(file, i, options.files[i], *options.format, schema.get(), json && !schema,
                         interruption, &ingester);
    if (file != stdin) std::fclose(file);
  }
  if (stopped.empty() && interruption.requested()) stopped = "interrupted between inputs";
  if (!ingester.Finish(options.close_timeout) && stopped.empty()) stopped = ingester.fatal();
  if (progress) progress->Stop();
  const Totals totals = ingester.totals();
  PrintSummary(options.table, totals,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
               options.dead_letter_path);
  if (!stopped.empty()) return fail("stopped: " + stopped);
  if (totals.dead == 0) return kExitSuccess;
  if (totals.acked == 0) return fail("no record was delivered");
  return kExitPartial;
}

}  // namespace zerobus::cli
