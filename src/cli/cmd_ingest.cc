// `zerobus ingest`: streams records from files or standard input into a table through the
// library, against a workspace or an embedded local server, with live progress, a summary, a
// dead-letter file for every record that could not be delivered, and exit statuses that tell
// success, partial failure and failure apart. This file puts the parts together: the command
// line (ingest_options.h), the inputs (record_source.h), delivery (ingester.h) and the summary
// (ingest_summary.h).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>
#define ZB_EXPERIMENTAL_PERSISTENT
#include <zerobus/zerobus.hpp>

#include "cli/commands.h"
#include "cli/dead_letters.h"
#include "cli/directories.h"
#include "cli/ingest_options.h"
#include "cli/ingest_summary.h"
#include "cli/ingester.h"
#include "cli/progress.h"
#include "cli/record_source.h"
#include "cli/resume_state.h"
#include "cli/signals.h"
#include "cli/workspace_access.h"
#include "server/server.h"

namespace zerobus::cli {
namespace {

bool IsBinary(Format format) {
  return format == Format::kProto || format == Format::kAvro || format == Format::kArrow;
}

// Whether the inputs carry their own schema (Avro's writer schema, Arrow's), which the stream
// is opened with and which every input of a run must share.
bool IsSelfDescribing(Format format) {
  return format == Format::kAvro || format == Format::kArrow;
}

// One input, open, with its records.
struct Input {
  Input() = default;
  Input(const Input &) = delete;
  Input &operator=(const Input &) = delete;
  ~Input() {
    if (file != nullptr && file != stdin) std::fclose(file);
  }

  std::FILE *file = nullptr;
  std::unique_ptr<RecordSource> source;
};

// Opens input `name` ("-": standard input) as `options` reads it; false with the reason in
// *error.
bool OpenInput(const IngestOptions &options, const std::string &name, const zerobus::Schema *schema,
               Input *input, std::string *error) {
  input->file = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
  if (input->file == nullptr) {
    *error = "cannot read " + name + ": " + std::strerror(errno);
    return false;
  }
  // Without a schema the server parses JSON text, and would end the stream on what is not an
  // object: such lines are refused before they are sent.
  const bool check_json = options.format == Format::kJsonLines && schema == nullptr;
  input->source = OpenRecordSource(options.format, input->file, name, schema, check_json);
  return true;
}

// Whether two inputs' schemas (Avro JSON, or Arrow IPC encoded alike) are the same.
bool SameSchema(Format format, const std::string &a, const std::string &b) {
  return a == b || (format == Format::kAvro && nlohmann::json::parse(a, nullptr, false) ==
                                                   nlohmann::json::parse(b, nullptr, false));
}

// Opens an Arrow stream of the batches' schema, given as an IPC stream.
zerobus::Stream OpenArrowStream(const zerobus::Sdk &sdk, const std::string &table,
                                const std::string &schema_ipc, const zerobus::Config &config) {
  zb_stream *stream = nullptr;
  zb_error *err = nullptr;
  const zb_status status = zb_stream_new_arrow_ipc(sdk.get(), table.c_str(), schema_ipc.data(),
                                                   schema_ipc.size(), config.get(), &stream, &err);
  if (status != ZB_OK) {
    const zerobus::Error error = zerobus::Error::from_c(status, err);
    zb_error_free(err);
    throw error;
  }
  return zerobus::Stream::adopt(stream);
}

// Hands the records of input `index`, named `name`, to `ingester` until the input ends, the run
// cannot go on, or a stop is requested. Returns "" or why the run must stop.
std::string IngestInput(RecordSource *source, size_t index, const std::string &name, Format format,
                        const Interruption &interruption, Ingester *ingester) {
  SourceRecord record;
  const auto stopped = [&]() -> std::string {
    if (!ingester->fatal().empty()) return ingester->fatal();
    if (std::string failure = source->Failure(); !failure.empty()) return failure;
    if (!interruption.requested()) return "";
    // Where to resume from.
    return "interrupted after " + name +
           (IsBinary(format) ? " record " + std::to_string(record.where.number)
                             : " line " + std::to_string(record.where.line));
  };
  while (!interruption.requested() && source->Next(&record)) {
    ingester->CountRead(record.oversized != 0 ? record.oversized : record.raw.size());
    bool ok;
    if (record.oversized != 0) {
      ok = ingester->Reject(record.raw, index, record.where, "ZB_ERR_RECORD_TOO_LARGE",
                            "the record's " + std::to_string(record.oversized) +
                                " bytes exceed the limit of " + std::to_string(kMaxRecordBytes) +
                                " bytes; the dead letter holds its first bytes only",
                            record.oversized);
    } else if (!record.malformed.empty()) {
      ok = ingester->Reject(record.raw, index, record.where, "ZB_ERR_INVALID_RECORD",
                            record.malformed);
    } else {
      ok = ingester->Ingest(&record.raw, record.payload(), index, record.where);
    }
    if (!ok) break;
  }
  return stopped();
}

bool ReadFile(const std::string &path, std::string *bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

int Fail(const std::string &message) {
  std::fprintf(stderr, "zerobus ingest: %s\n", message.c_str());
  return kExitFailure;
}

// --exactly-once: opens the persistent stream of `input`'s resume state, resuming it when the
// state exists (an earlier run), else creating it and saving the state before any record is
// sent. `*committed` receives how many of the input's records the server committed.
class ExactlyOnce {
 public:
  ExactlyOnce(std::string input, std::string table)
      : input_(std::move(input)), table_(std::move(table)), path_(ResumeStatePath(input_)) {}

  // Reads the state; "" or why the run cannot use it.
  std::string Load() {
    struct stat st;
    if (::stat(input_.c_str(), &st) != 0) return "cannot read " + input_ + ": " + strerror(errno);
    input_bytes_ = static_cast<uint64_t>(st.st_size);
    std::string error;
    resuming_ = LoadResumeState(path_, &state_, &error);
    if (!error.empty()) return error;
    if (!resuming_) return "";
    if (state_.table != table_) {
      return path_ + " resumes a stream into " + state_.table + ", not " + table_;
    }
    if (state_.input_bytes != input_bytes_) {
      return input_ + " has " + std::to_string(input_bytes_) + " bytes, but " +
             std::to_string(state_.input_bytes) + " when " + path_ +
             " was written: its records would not be the committed ones";
    }
    return "";
  }

  // Opens the stream of `record_type` (with `descriptor` for protobuf); throws zerobus::Error.
  zerobus::Stream Open(const zerobus::Sdk &sdk, zb_record_type record_type,
                       const std::string &descriptor, const zerobus::Config &config) {
    zb_stream *handle = nullptr;
    zb_error *err = nullptr;
    const void *bytes = descriptor.empty() ? nullptr : descriptor.data();
    const zb_status status =
        resuming_
            ? zb_stream_resume(sdk.get(), table_.c_str(), state_.stream_id.c_str(), record_type,
                               bytes, descriptor.size(), config.get(), &handle, &err)
            : zb_stream_new_persistent(sdk.get(), table_.c_str(), record_type, bytes,
                                       descriptor.size(), config.get(), &handle, &err);
    zerobus::detail::check(status, err);
    zerobus::Stream stream = zerobus::Stream::adopt(handle);
    int32_t has_committed = 0;
    uint64_t last_committed = 0;
    zerobus::detail::check(
        zb_stream_resume_watermark(handle, &has_committed, &last_committed, &err), err);
    committed_ = has_committed ? last_committed + 1 : 0;
    if (!resuming_) {
      char *id = nullptr;
      size_t len = 0;
      zerobus::detail::check(zb_stream_persistent_id(handle, &id, &len, &err), err);
      state_ = ResumeState{std::string(id, len), table_, input_bytes_};
      zb_string_free(id);
      std::string error;
      if (!SaveResumeState(path_, state_, &error)) {
        throw zerobus::Error(ZB_ERR_INTERNAL, "cannot keep the resume state: " + error, false, 0);
      }
      resuming_ = true;  // a stream opened again resumes this one
    }
    return stream;
  }

  uint64_t committed() const { return committed_; }

 private:
  const std::string input_;
  const std::string table_;
  const std::string path_;
  uint64_t input_bytes_ = 0;
  ResumeState state_;
  bool resuming_ = false;
  uint64_t committed_ = 0;
};

// The run once the command line is understood; library failures outside a stream's records
// throw zerobus::Error.
int Ingest(IngestOptions options, const std::chrono::steady_clock::time_point started) {
  const Interruption interruption([](int signal_number) {
    std::fprintf(stderr,
                 "\nzerobus ingest: %s: stopping after the records in flight (again to quit at "
                 "once)\n",
                 strsignal(signal_number));
  });

  // Without an endpoint, a local server in this process plays the workspace.
  std::unique_ptr<server::Server> local;
  if (options.endpoint.empty()) {
    std::string error;
    if (!MakeDirectory(options.data_dir, &error)) return Fail(error);
    server::ServerOptions server_options;
    server_options.data_dir = options.data_dir;
    server_options.tables = options.declared;
    server_options.accept_undeclared_tables = options.declared.empty();
    server_options.http_port = 0;
    local = server::Server::Start(std::move(server_options), &error);
    if (!local) return Fail("cannot start the local server: " + error);
    options.endpoint = local->endpoint();
    options.access = WorkspaceAccess();
    options.access.url = local->workspace_url();
    options.access.credentials = false;
  }

  // --exactly-once sends JSON as it is: its persistent stream is not one of a schema.
  std::optional<zerobus::Schema> schema;
  if (!options.table_ddl.empty()) {
    try {
      schema = zerobus::Schema::from_ddl(options.table_ddl);
    } catch (const zerobus::Error &error) {
      return Fail(std::string("--table-ddl: ") + error.what());
    }
  } else if (!options.exactly_once && !IsSelfDescribing(options.format) &&
             !options.access.url.empty() && !(local && options.declared.empty())) {
    // (Avro datums and Arrow batches go as they are, with their file's schema, which the server
    // checks: no table schema is needed.)
    try {
      schema = FetchSchema(options.access, options.table);
    } catch (const zerobus::Error &error) {
      if (options.format != Format::kJsonLines || local) {
        return Fail("cannot read the schema of " + options.table + ": " + error.what());
      }
      std::fprintf(stderr,
                   "zerobus ingest: cannot read the schema of %s (%s); sending JSON records "
                   "unchecked\n",
                   options.table.c_str(), error.what());
    }
  }
  std::string descriptor;
  if (!options.descriptor_path.empty() && !ReadFile(options.descriptor_path, &descriptor)) {
    return Fail("cannot read " + options.descriptor_path);
  }
  if (options.format == Format::kCsv && !schema) {
    return Fail("CSV fields are typed by the table's schema: give --table-ddl" +
                std::string(local ? "" : " or --workspace-url"));
  }
  if (options.format == Format::kProto && !schema && descriptor.empty()) {
    return Fail("protobuf records need their descriptor: give --descriptor or --table-ddl");
  }

  zerobus::Config config = NewAccessConfig(options.access);
  // The service attributes traffic by user-agent; --config sdk.application.name=... overrides.
  config.set("sdk.application.name", std::string("zerobus-ingest/") + zerobus::version());
  // A local server speaks plaintext, which the SDK takes only when told.
  if (options.endpoint.rfind("http://", 0) == 0) config.set("transport.plaintext", true);
  for (const auto &[key, value] : options.config) {
    try {
      config.set(key, value);
    } catch (const zerobus::Error &error) {
      return Fail("--config " + key + ": " + error.what());
    }
  }
  std::optional<zerobus::Sdk> sdk;
  try {
    sdk.emplace(options.endpoint, config);
  } catch (const zerobus::Error &error) {
    return Fail(options.endpoint + ": " + error.what());
  }

  // Avro and Arrow streams take the schema of the first file: that file is opened before the
  // stream, and every later one must have the same schema.
  std::string stopped;
  std::optional<Input> input;
  std::string input_schema;
  if (IsSelfDescribing(options.format)) {
    if (!OpenInput(options, options.files[0], schema ? &*schema : nullptr, &input.emplace(),
                   &stopped)) {
      return Fail(stopped);
    }
    input_schema = input->source->WriterSchema();
    if (input_schema.empty()) return Fail(input->source->Failure());
  }

  // A schema's stream takes JSON and encodes it; a descriptor's takes protobuf alone.
  const Ingester::Payload payload = options.format == Format::kAvro    ? Ingester::Payload::kAvro
                                    : options.format == Format::kArrow ? Ingester::Payload::kArrow
                                    : options.format == Format::kProto ? Ingester::Payload::kProto
                                                                       : Ingester::Payload::kJson;
  std::optional<ExactlyOnce> exactly_once;
  if (options.exactly_once) {
    exactly_once.emplace(options.files.front(), options.table);
    if (std::string error = exactly_once->Load(); !error.empty()) return Fail(error);
  }
  const Ingester::Opener open = [&]() {
    // (--exactly-once takes no Avro or Arrow input: ingest_options refuses them.)
    if (exactly_once) {
      return exactly_once->Open(
          *sdk, payload == Ingester::Payload::kProto ? ZB_RECORD_PROTO : ZB_RECORD_JSON, descriptor,
          config);
    }
    if (options.format == Format::kArrow) {
      return OpenArrowStream(*sdk, options.table, input_schema, config);
    }
    if (!input_schema.empty()) return sdk->avro_stream(options.table, input_schema, config);
    if (!descriptor.empty()) return sdk->proto_stream(options.table, descriptor, config);
    if (schema) return sdk->stream(*schema, config);
    return sdk->json_stream(options.table, config);
  };
  DeadLetterFile dead_letters(options.dead_letter_path);
  Ingester ingester(open, payload, &dead_letters, options.files, options.exactly_once);
  if (!ingester.Start()) return Fail(options.table + ": " + ingester.fatal());
  if (exactly_once) ingester.SkipCommitted(exactly_once->committed());

  std::optional<ProgressReporter> progress;
  if (!options.quiet) {
    progress.emplace(stderr, isatty(STDERR_FILENO) == 1, options.progress_interval,
                     [&ingester] { return ingester.Sample(); });
  }
  for (size_t i = 0; i < options.files.size() && stopped.empty(); ++i) {
    const std::string &name = options.files[i];
    if (!input) {
      if (!OpenInput(options, name, schema ? &*schema : nullptr, &input.emplace(), &stopped)) {
        break;
      }
      if (!input_schema.empty() &&
          !SameSchema(options.format, input->source->WriterSchema(), input_schema)) {
        const std::string failure = input->source->Failure();
        stopped = !failure.empty() ? failure
                                   : name + "'s schema is not " + options.files[0] +
                                         "'s: ingest files of other schemas in runs of their own";
        break;
      }
    }
    stopped = IngestInput(input->source.get(), i, name, options.format, interruption, &ingester);
    input.reset();
  }
  if (stopped.empty() && interruption.requested()) stopped = "interrupted between inputs";
  if (!ingester.Finish(options.close_timeout) && stopped.empty()) stopped = ingester.fatal();
  if (progress) progress->Stop();
  const Totals totals = ingester.totals();
  PrintSummary(options.table, totals,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
               options.dead_letter_path);
  if (!stopped.empty()) return Fail("stopped: " + stopped);
  if (totals.dead == 0) return kExitSuccess;
  // Records an earlier --exactly-once run committed were delivered, by that run.
  if (totals.acked == 0 && totals.skipped == 0) return Fail("no record was delivered");
  return kExitPartial;
}

}  // namespace

int RunIngest(int argc, char **argv) {
  IngestOptions options;
  if (std::optional<int> status = ParseIngestArgs(argc, argv, &options)) return *status;
  try {
    return Ingest(std::move(options), std::chrono::steady_clock::now());
  } catch (const zerobus::Error &error) {
    return Fail(error.what());
  }
}

}  // namespace zerobus::cli
