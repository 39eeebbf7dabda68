// `zerobus serve`: the local server as a process, for developing producers without a workspace.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "commands.h"
#include "server/server.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus serve [--listen HOST:PORT] [--null-sink] [--help]\n"
    "\n"
    "Serves the Zerobus Ingest gRPC protocol (plaintext) until SIGINT or SIGTERM.\n"
    "\n"
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:50051; port 0 picks a\n"
    "                      free port). The server has no authentication: keep it on loopback.\n"
    "  --null-sink         acknowledge records on receipt and store nothing (benchmarks)\n"
    "  --help              show this help\n";

// Splits HOST:PORT at the last colon; an IPv6 host may come in brackets.
bool ParseListen(const std::string &value, server::ServerOptions *options) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) return false;
  std::string host = value.substr(0, colon);
  const std::string port = value.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int number = std::stoi(port);
  if (host.empty() || number > 65535) return false;
  options->host = host;
  options->port = number;
  return true;
}

// Parses argv into `options`; on a usage error prints it and returns the exit status.
std::optional<int> ParseArgs(int argc, char **argv, server::ServerOptions *options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--null-sink") {
      options->null_sink = true;
      continue;
    }
    std::string listen;
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg.rfind("--listen=", 0) == 0) {
      listen = arg.substr(std::strlen("--listen="));
    } else {
      std::fprintf(stderr, "zerobus serve: unexpected argument '%s'\n\n%s", arg.c_str(), kUsage);
      return 2;
    }
    if (!ParseListen(listen, options)) {
      std::fprintf(stderr, "zerobus serve: --listen wants HOST:PORT, got '%s'\n\n%s",
                   listen.c_str(), kUsage);
      return 2;
    }
  }
  return std::nullopt;
}

}  // namespace

int RunServe(int argc, char **argv) {
  server::ServerOptions options;
  options.port = 50051;
  if (std::optional<int> status = ParseArgs(argc, argv, &options)) return *status;
  options.log = [](const std::string &line) {
    std::fprintf(stderr, "zerobus serve: %s\n", line.c_str());
  };

  // Blocked before any thread starts, so that every gRPC thread inherits the mask and the
  // signals reach only the sigwait below, where stopping is ordinary code rather than a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  std::unique_ptr<server::Server> server = server::Server::Start(options, &error);
  if (!server) {
    std::fprintf(stderr, "zerobus serve: %s\n", error.c_str());
    return 1;
  }
  std::printf("zerobus serve: listening on %s\n", server->endpoint().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "zerobus serve: %s received, stopping\n", strsignal(signal_number));
  server->Stop();
  return 0;
}

}  // namespace zerobus::cli
