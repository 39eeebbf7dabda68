#include "cli/ingest_options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/flags.h"
#include "cli/table_declarations.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus ingest [--table NAME] [options] [FILE...]\n"
    "\n"
    "Streams the records of FILEs (standard input when there is none, or for '-') into the\n"
    "table NAME (catalog.schema.table): into a workspace with --endpoint, or else into an\n"
    "embedded local server that stores the rows where `zerobus rows` reads them.\n"
    "\n"
    "Formats (--format, else from the files' extension: .csv, .pb, .avro, .arrow or\n"
    ".arrows, otherwise JSON Lines):\n"
    "  jsonl   one JSON object per line, blank lines skipped\n"
    "  csv     a header row of column names, then one record per row (RFC 4180 quoting). Each\n"
    "          field is typed by the table's schema; an empty field is NULL, \"\" the empty\n"
    "          string; ARRAY, MAP and STRUCT fields hold JSON; TIMESTAMP fields take RFC 3339\n"
    "          text or microseconds. Needs the table's schema.\n"
    "  proto   serialized protobuf messages, each preceded by its length in bytes as a\n"
    "          base-128 varint (protobuf's writeDelimitedTo framing). Needs --descriptor or\n"
    "          the table's schema.\n"
    "  avro    Avro object container files (codec null, deflate, snappy or zstandard), each\n"
    "          datum sent as it is with the file's writer schema, which the server checks\n"
    "          against the table; every file of a run must have the same writer schema.\n"
    "  arrow   Arrow IPC files (.arrow, with their footer) or IPC streams (.arrows, standard\n"
    "          input), compressed or not, sent over Arrow Flight with their schema, which the\n"
    "          server checks against the table; one record batch is one record (one offset).\n"
    "          Every input of a run must have the same schema; a file that does not decode\n"
    "          ends the run (status 1). A batch that cannot be delivered is dead-lettered with\n"
    "          its place in its input (record_number) and, in record_base64, an IPC stream of\n"
    "          its own (the schema, the batch): decoded, an .arrows file to ingest again\n"
    "          (docs/SCHEMAS.md). An input is read whole into memory before it is sent.\n"
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
    "protobuf message, an Avro datum) is never read whole: it goes to the dead-letter file with "
    "its position,\n"
    "its length as record_bytes and its first 1 KiB as record_prefix, and reading goes on.\n"
    "\n"
    "Options:\n"
    "  --table NAME            the table (optional when --table-ddl names it)\n"
    "  --format FORMAT         jsonl, csv, proto, avro or arrow\n"
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
    "  --exactly-once          (experimental: the service's persistent streams) stream FILE\n"
    "                          into a persistent stream whose id is kept in\n"
    "                          FILE.zerobus-resume (written atomically, fsynced, before any\n"
    "                          record is sent). Run again with the same FILE after a crash or\n"
    "                          a failure: the stream is resumed and the records the server\n"
    "                          committed are skipped, so each record is stored exactly once.\n"
    "                          Record n of FILE that is sent is offset n: malformed and\n"
    "                          oversized records are dead-lettered on every run and take no\n"
    "                          offset. One FILE; JSON Lines, or proto with --descriptor. A\n"
    "                          stream that fails for good, or a close that times out, stops\n"
    "                          the run with status 1, and what was not acknowledged is left\n"
    "                          for the next run rather than dead-lettered.\n"
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
    "  zerobus ingest --table-ddl \"$(cat orders.sql)\" orders-*.avro\n"
    "  zerobus ingest --table-ddl \"$(cat orders.sql)\" orders-*.arrow\n"
    "  produce-protobuf | zerobus ingest --format proto --descriptor orders.desc \\\n"
    "      --table main.sales.orders --endpoint http://127.0.0.1:50051 -\n";

std::string ParseFormat(const std::string &name, std::optional<Format> *format) {
  if (name == "jsonl" || name == "json") {
    *format = Format::kJsonLines;
  } else if (name == "csv") {
    *format = Format::kCsv;
  } else if (name == "proto") {
    *format = Format::kProto;
  } else if (name == "avro") {
    *format = Format::kAvro;
  } else if (name == "arrow") {
    *format = Format::kArrow;
  } else {
    return "--format wants jsonl, csv, proto, avro or arrow, got '" + name + "'";
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
    const Format format = ends(".csv")                        ? Format::kCsv
                          : ends(".pb")                       ? Format::kProto
                          : ends(".avro")                     ? Format::kAvro
                          : ends(".arrow") || ends(".arrows") ? Format::kArrow
                                                              : Format::kJsonLines;
    if (found && *found != format) *agree = false;
    found = format;
  }
  return found;
}

}  // namespace

std::optional<int> ParseIngestArgs(int argc, char **argv, IngestOptions *options) {
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
  std::optional<Format> format;
  flags.Value("--format", [&format](const std::string &v) { return ParseFormat(v, &format); });
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
  flags.Switch("--exactly-once", [options] { options->exactly_once = true; });
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
  if (!format) {
    bool agree;
    format = FormatFromNames(options->files, &agree);
    if (!agree) return usage("the files' extensions name different formats: give --format");
  }
  options->format = format.value_or(Format::kJsonLines);
  if (!options->descriptor_path.empty() && options->format != Format::kProto) {
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
  if (options->exactly_once) {
    if (options->files.size() != 1 || options->files.front() == "-") {
      return usage(
          "--exactly-once reads one FILE (not standard input): its state is kept beside it");
    }
    if (options->format == Format::kCsv || options->format == Format::kAvro ||
        options->format == Format::kArrow || !options->table_ddl.empty()) {
      return usage(
          "--exactly-once sends JSON Lines as they are, or protobuf with --descriptor: not CSV, "
          "nor Avro or Arrow files (not yet), nor records encoded by --table-ddl");
    }
    if (options->format == Format::kProto && options->descriptor_path.empty()) {
      return usage("--exactly-once with --format proto needs --descriptor");
    }
  }
  if (options->dead_letter_path.empty()) {
    options->dead_letter_path = options->table + ".dead-letter.jsonl";
  }
  return std::nullopt;
}

}  // namespace zerobus::cli
