// A small command-line reader shared by the subcommands: `--name VALUE`, `--name=VALUE` and
// switches, with the usage text printed on any mistake.
#ifndef ZEROBUS_CLI_FLAGS_H
#define ZEROBUS_CLI_FLAGS_H

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zerobus::cli {

class Flags {
 public:
  // `command` names the subcommand in messages; `usage` is printed for --help and mistakes.
  Flags(std::string command, std::string usage);

  // A flag taking a value; `apply` returns an error message for a bad value, or "".
  void Value(const std::string &name, std::function<std::string(const std::string &)> apply);
  // A switch without a value.
  void Switch(const std::string &name, std::function<void()> apply);
  // Arguments that are not flags, in order; without this they are mistakes.
  void Positional(std::function<std::string(const std::string &)> apply);

  // Reads argv[1..]. Returns nothing when the command should run, or the exit status to end
  // with (0 after --help, 2 after a mistake, both already reported).
  std::optional<int> Parse(int argc, char **argv) const;

 private:
  struct Flag {
    std::string name;
    bool takes_value;
    std::function<std::string(const std::string &)> apply;
  };

  std::optional<int> Mistake(const std::string &message) const;

  std::string command_;
  std::string usage_;
  std::vector<Flag> flags_;
  std::function<std::string(const std::string &)> positional_;
};

// Parses a whole non-negative decimal number into `*value`; false when it is not one.
bool ParseCount(const std::string &text, long long *value);

// Parses a duration: a count followed by ms, s, m or h ("500ms", "15m"); false otherwise.
bool ParseDuration(const std::string &text, std::chrono::milliseconds *value);

// Splits HOST:PORT at the last colon (an IPv6 host may come in brackets); false when it is not
// that shape or the port is over 65535.
bool ParseHostPort(const std::string &text, std::string *host, int *port);

}  // namespace zerobus::cli

#endif  // ZEROBUS_CLI_FLAGS_H
