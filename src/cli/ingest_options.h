// The command line of `zerobus ingest`: its usage text, its flags, and the checks that the flags
// fit together.
#ifndef ZEROBUS_CLI_INGEST_OPTIONS_H
#define ZEROBUS_CLI_INGEST_OPTIONS_H

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/record_source.h"
#include "cli/workspace_access.h"
#include "table/delta_type.h"

namespace zerobus::cli {

// The exit statuses `zerobus ingest --help` documents.
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;

struct IngestOptions {
  std::string table;
  std::vector<std::string> files;  // "-": standard input
  Format format = Format::kJsonLines;
  std::string table_ddl;
  std::string descriptor_path;
  std::string dead_letter_path;
  std::chrono::milliseconds progress_interval{5000};
  bool quiet = false;
  std::chrono::milliseconds close_timeout{5 * 60 * 1000};
  std::vector<std::pair<std::string, std::string>> config;
  std::string endpoint;  // empty: the embedded local server
  WorkspaceAccess access;
  std::string data_dir = ".";
  // --exactly-once: a persistent stream, resumed by the state beside the input.
  bool exactly_once = false;
  // The tables the embedded server declares.
  std::vector<table::TableSchema> declared;
};

// Parses argv (argv[0] is "ingest") into `options`, filling in what the flags imply (the
// format from the files' names, the table from --table-ddl, the dead-letter file's name).
// Returns the exit status when the command is done: after --help, or on a usage mistake, which
// it prints with the usage.
std::optional<int> ParseIngestArgs(int argc, char **argv, IngestOptions *options);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_INGEST_OPTIONS_H
