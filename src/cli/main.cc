// `zerobus <command> [options]`: finds the command and hands it the rest of the arguments.
#include <cstdio>
#include <cstring>

#include "cli/commands.h"

namespace {

struct Command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
};

constexpr Command kCommands[] = {
    {"ingest", "stream records from JSON Lines, CSV or protobuf files into a table",
     zerobus::cli::RunIngest},
    {"serve", "run a local Zerobus-compatible server", zerobus::cli::RunServe},
    {"rows", "print the rows the local server stored for a table", zerobus::cli::RunRows},
    {"schema", "print a table's .proto and write its protobuf descriptor", zerobus::cli::RunSchema},
    {"bench", "measure ingest throughput and ack latency against an endpoint",
     zerobus::cli::RunBench},
    {"idp", "a test identity provider for token federation: keys and signed JWTs",
     zerobus::cli::RunIdp},
};

void PrintUsage(std::FILE *out) {
  std::fprintf(out, "usage: zerobus <command> [options]\n\ncommands:\n");
  for (const Command &command : kCommands) {
    std::fprintf(out, "  %-8s %s\n", command.name, command.summary);
  }
  std::fprintf(out, "\n'zerobus <command> --help' describes a command's options.\n");
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (std::strcmp(name, "--help") == 0 || std::strcmp(name, "-h") == 0 ||
      std::strcmp(name, "help") == 0) {
    PrintUsage(stdout);
    return 0;
  }
  for (const Command &command : kCommands) {
    if (std::strcmp(name, command.name) == 0) return command.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "zerobus: unknown command '%s'\n\n", name);
  PrintUsage(stderr);
  return 2;
}
