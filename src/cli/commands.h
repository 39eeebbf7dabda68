// The `zerobus` subcommands. Each takes its own argv (argv[0] is the command name), writes its
// output and errors itself, and returns the process exit status: 0 done, 1 failed, 2 usage.
#ifndef ZEROBUS_CLI_COMMANDS_H
#define ZEROBUS_CLI_COMMANDS_H

namespace zerobus::cli {

// `zerobus ingest`: streams records from files or standard input into a table; 3 when some
// records could not be delivered.
int RunIngest(int argc, char **argv);

// `zerobus serve`: runs the local server until SIGINT or SIGTERM.
int RunServe(int argc, char **argv);

// `zerobus rows`: prints the rows the server stored for one table.
int RunRows(int argc, char **argv);

// `zerobus schema`: prints or writes a table's .proto source and protobuf descriptor.
int RunSchema(int argc, char **argv);

// `zerobus idp`: a test identity provider for token federation: makes a key pair, signs JWTs.
int RunIdp(int argc, char **argv);

// `zerobus bench`: measures the library's ingest throughput and ack latency.
int RunBench(int argc, char **argv);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_COMMANDS_H
