// lossy_link: a link with delay, random loss and a bottleneck between two network namespaces
// it creates, for measuring the library over a distant, lossy network on a kernel without
// sch_netem (bench/lossy). Each namespace has a TUN device; this process forwards the IPv4
// packets between them, each direction through its own Direction (impairment.h).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lossy_link/impairment.h"
#include "lossy_link/netns.h"

namespace lossy_link {
namespace {

constexpr char kUsage[] =
    "usage: lossy_link --duration SECONDS [options]\n"
    "\n"
    "Creates the network namespaces NAME-a and NAME-b (in /run/netns, as `ip netns add` does),\n"
    "each with a TUN device `lossy0`: 10.99.0.1 in NAME-a, 10.99.0.2 in NAME-b, each the\n"
    "other's peer. Forwards IPv4 packets between them (anything else is counted and dropped):\n"
    "each packet may be lost at random, then waits its turn at the bottleneck (with --rate),\n"
    "then the one-way delay. Runs until --duration has passed or SIGINT, SIGTERM or SIGHUP,\n"
    "then removes the devices and the namespaces' names and prints one line of JSON with each\n"
    "direction's counts (a_to_b, b_to_a). Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and\n"
    "/dev/net/tun. Touches none of the interfaces of the namespace it runs in.\n"
    "\n"
    "Options (X sets both directions, X-ab the packets from a to b, X-ba the others):\n"
    "  --duration S     stop after S seconds (1..86400); required\n"
    "  --name NAME      the namespaces' name prefix (default lossy)\n"
    "  --delay MS       one-way delay in milliseconds (default 0); the round trip is twice it\n"
    "  --loss PERCENT   packets dropped at random, 0..100 (default 0)\n"
    "  --rate MBIT      the bottleneck's rate in Mbit/s (default 0: none)\n"
    "  --backlog KB     the bottleneck's buffer in KB; beyond it packets are dropped (default\n"
    "                   the bandwidth-delay product of the rate and a 100 ms round trip)\n"
    "  --mtu BYTES      the devices' MTU (default 1500)\n"
    "  --seed N         the loss's random seed (default 1; b_to_a uses N + 1)\n"
    "  --ready-file F   once both namespaces can talk, write F (by a rename) with JSON naming\n"
    "                   them and their addresses\n";

constexpr char kAddressA[] = "10.99.0.1";
constexpr char kAddressB[] = "10.99.0.2";
constexpr int kReadsPerRound = 64;  // per device, so that one busy direction starves no other
constexpr std::size_t kMaxPacket = 65536;

volatile sig_atomic_t stop_signal = 0;
void OnSignal(int signal) {
  stop_signal = signal;
}

struct Options {
  double duration_seconds = 0;
  std::string name = "lossy";
  std::array<Impairment, 2> impairment;  // [0]: a to b, [1]: b to a
  std::array<bool, 2> backlog_given{false, false};
  int mtu = 1500;
  std::uint64_t seed = 1;
  std::string ready_file;
};

double Number(const std::string &flag, const char *text, double low, double high) {
  char *end = nullptr;
  errno = 0;
  const double value = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(value >= low && value <= high)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", low, high);
    throw std::runtime_error(flag + " wants a number from " + range + ", not " + text);
  }
  return value;
}

// Applies a per-direction flag (--X, --X-ab or --X-ba) to the directions it names; false when
// `flag` is not one of `name`'s.
template <typename Apply>
bool PerDirection(const std::string &flag, const std::string &name, Apply apply) {
  if (flag == "--" + name) {
    apply(0);
    apply(1);
  } else if (flag == "--" + name + "-ab") {
    apply(0);
  } else if (flag == "--" + name + "-ba") {
    apply(1);
  } else {
    return false;
  }
  return true;
}

Options Parse(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::runtime_error("unknown option or missing value: " + flag);
    const char *value = argv[++i];
    const bool known =
        PerDirection(
            flag, "delay",
            [&](int d) {
              const std::chrono::duration<double, std::milli> delay(Number(flag, value, 0, 10000));
              options.impairment[d].delay =
                  std::chrono::duration_cast<std::chrono::nanoseconds>(delay);
            }) ||
        PerDirection(
            flag, "loss",
            [&](int d) { options.impairment[d].loss = Number(flag, value, 0, 100) / 100; }) ||
        PerDirection(flag, "rate",
                     [&](int d) {
                       options.impairment[d].rate_bytes_per_second =
                           Number(flag, value, 0, 1e6) * 1e6 / 8;
                     }) ||
        PerDirection(flag, "backlog", [&](int d) {
          options.impairment[d].backlog_bytes =
              static_cast<std::size_t>(Number(flag, value, 1, 1e6) * 1000);
          options.backlog_given[d] = true;
        });
    if (known) continue;
    if (flag == "--duration") {
      options.duration_seconds = Number(flag, value, 1, 86400);
    } else if (flag == "--name") {
      options.name = value;
    } else if (flag == "--mtu") {
      options.mtu = static_cast<int>(Number(flag, value, 576, 65535));
    } else if (flag == "--seed") {
      options.seed = static_cast<std::uint64_t>(Number(flag, value, 0, 1e15));
    } else if (flag == "--ready-file") {
      options.ready_file = value;
    } else {
      throw std::runtime_error("unknown option: " + flag);
    }
  }
  if (options.duration_seconds == 0) throw std::runtime_error("--duration is required");
  for (int d = 0; d < 2; ++d) {
    Impairment &impairment = options.impairment[d];
    if (!options.backlog_given[d]) {
      impairment.backlog_bytes = static_cast<std::size_t>(impairment.rate_bytes_per_second * 0.1);
    }
    // A backlog smaller than a packet would drop every packet.
    impairment.backlog_bytes = std::max<std::size_t>(impairment.backlog_bytes, options.mtu);
  }
  return options;
}

void WriteReadyFile(const std::string &path, const LinkNamespace &a, const LinkNamespace &b) {
  const std::string temporary = path + ".tmp";
  std::FILE *file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) throw std::runtime_error("cannot write " + temporary);
  std::fprintf(file,
               "{\"pid\": %d, \"a\": {\"netns\": \"%s\", \"path\": \"%s\", \"address\": "
               "\"%s\"}, \"b\": {\"netns\": \"%s\", \"path\": \"%s\", \"address\": \"%s\"}}\n",
               static_cast<int>(getpid()), a.name().c_str(), a.path().c_str(), kAddressA,
               b.name().c_str(), b.path().c_str(), kAddressB);
  const bool written = std::fclose(file) == 0;
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot write " + path);
  }
}

std::string StatsJson(const DirectionStats &stats) {
  char text[512];
  std::snprintf(text, sizeof text,
                "{\"arrived\": %llu, \"arrived_bytes\": %llu, \"lost\": %llu, \"overflowed\": "
                "%llu, \"delivered\": %llu, \"delivered_bytes\": %llu, \"undeliverable\": %llu, "
                "\"max_queued\": %zu}",
                static_cast<unsigned long long>(stats.arrived),
                static_cast<unsigned long long>(stats.arrived_bytes),
                static_cast<unsigned long long>(stats.lost),
                static_cast<unsigned long long>(stats.overflowed),
                static_cast<unsigned long long>(stats.delivered),
                static_cast<unsigned long long>(stats.delivered_bytes),
                static_cast<unsigned long long>(stats.undeliverable), stats.max_queued);
  return text;
}

// Blocks the stop signals except inside ppoll(), so that one arriving between two looks at
// stop_signal ends the wait it would otherwise miss; returns the mask ppoll() waits with.
sigset_t CatchStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigset_t stops;
  sigemptyset(&stops);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signal, &action, nullptr);
    sigaddset(&stops, signal);
  }
  sigset_t waiting;
  sigprocmask(SIG_BLOCK, &stops, &waiting);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigdelset(&waiting, signal);
  return waiting;
}

class Forwarder {
 public:
  Forwarder(const Options &options, const LinkNamespace &a, const LinkNamespace &b)
      : fds_{a.tun_fd(), b.tun_fd()},
        directions_{Direction(options.impairment[0], options.seed),
                    Direction(options.impairment[1], options.seed + 1)} {}

  // Forwards until `end` or a stop signal.
  void Run(Clock::time_point end, const sigset_t &waiting) {
    std::vector<std::uint8_t> buffer(kMaxPacket);
    std::vector<std::uint8_t> packet;
    while (stop_signal == 0) {
      Clock::time_point now = Clock::now();
      for (int d = 0; d < 2; ++d) {
        while (directions_[d].PopDue(now, &packet)) {
          // A TUN device takes a whole packet or none; one it refuses is lost like any other.
          if (write(fds_[1 - d], packet.data(), packet.size()) < 0) {
            directions_[d].CountUndeliverable();
          }
        }
      }
      if (now >= end) return;
      const Clock::time_point wake =
          std::min({end, directions_[0].NextDeparture(), directions_[1].NextDeparture()});
      const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now);
      const timespec timeout{static_cast<time_t>(wait.count() / 1000000000),
                             static_cast<long>(wait.count() % 1000000000)};
      pollfd polled[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
      const int ready = ppoll(polled, 2, &timeout, &waiting);
      if (ready < 0 && errno != EINTR) throw std::runtime_error("ppoll failed");
      if (ready <= 0) continue;
      now = Clock::now();
      for (int d = 0; d < 2; ++d) {
        if ((polled[d].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
          throw std::runtime_error("a TUN device failed");
        }
        for (int reads = 0; (polled[d].revents & POLLIN) != 0 && reads < kReadsPerRound; ++reads) {
          const ssize_t size = read(fds_[d], buffer.data(), buffer.size());
          if (size < 0) break;  // EAGAIN: nothing more for now
          if (size == 0 || (buffer[0] >> 4) != 4) {
            ++not_ipv4_;  // IPv6 router and multicast chatter
            continue;
          }
          directions_[d].Arrive({buffer.begin(), buffer.begin() + size}, now);
        }
      }
    }
  }

  std::string StatsJson() const {
    return "{\"a_to_b\": " + lossy_link::StatsJson(directions_[0].stats()) +
           ", \"b_to_a\": " + lossy_link::StatsJson(directions_[1].stats()) +
           ", \"not_ipv4\": " + std::to_string(not_ipv4_) + "}";
  }

 private:
  std::array<int, 2> fds_;
  std::array<Direction, 2> directions_;
  std::uint64_t not_ipv4_ = 0;
};

int Main(int argc, char **argv) {
  const Options options = Parse(argc, argv);
  const sigset_t waiting = CatchStopSignals();
  const Clock::time_point end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.duration_seconds));
  LinkNamespace a(options.name + "-a", "lossy0", {kAddressA, kAddressB, options.mtu});
  LinkNamespace b(options.name + "-b", "lossy0", {kAddressB, kAddressA, options.mtu});
  Forwarder forwarder(options, a, b);
  if (!options.ready_file.empty()) WriteReadyFile(options.ready_file, a, b);
  forwarder.Run(end, waiting);
  std::printf("%s\n", forwarder.StatsJson().c_str());
  return 0;
}

}  // namespace
}  // namespace lossy_link

int main(int argc, char **argv) {
  try {
    return lossy_link::Main(argc, argv);
  } catch (const std::exception &failure) {
    std::fprintf(stderr, "lossy_link: %s\n", failure.what());
    return 2;
  }
}
