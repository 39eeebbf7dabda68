// One direction of the emulated link: what happens to a packet between the TUN device it left
// and the one it enters. Random loss, then a bottleneck of a given rate with a bounded backlog
// (tail drop), then a fixed one-way delay. With a fixed delay and a FIFO bottleneck, packets
// leave in the order they arrived, so the timed queue is a FIFO.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace lossy_link {

using Clock = std::chrono::steady_clock;

struct Impairment {
  std::chrono::nanoseconds delay{0};  // one way
  double loss = 0;                    // probability that a packet is dropped, 0..1
  double rate_bytes_per_second = 0;   // 0: no bottleneck
  std::size_t backlog_bytes = 0;      // the bottleneck's buffer; only with a rate
};

struct DirectionStats {
  std::uint64_t arrived = 0;
  std::uint64_t arrived_bytes = 0;
  std::uint64_t lost = 0;        // dropped at random
  std::uint64_t overflowed = 0;  // dropped because the bottleneck's backlog was full
  std::uint64_t delivered = 0;
  std::uint64_t delivered_bytes = 0;
  std::uint64_t undeliverable = 0;  // the receiving device refused the write
  std::size_t max_queued = 0;       // packets held at once (delay line and backlog)
};

class Direction {
 public:
  Direction(const Impairment &impairment, std::uint64_t seed);

  // Takes a packet that arrived at `now`: drops it, or holds it until its departure.
  void Arrive(std::vector<std::uint8_t> packet, Clock::time_point now);
  // When the first held packet is due; Clock::time_point::max() when none is held.
  Clock::time_point NextDeparture() const;
  // Moves the first held packet into `packet` if it is due at `now`.
  bool PopDue(Clock::time_point now, std::vector<std::uint8_t> *packet);
  void CountUndeliverable() { ++stats_.undeliverable; }
  const DirectionStats &stats() const { return stats_; }

 private:
  struct Held {
    Clock::time_point departure;
    std::vector<std::uint8_t> packet;
  };

  Impairment impairment_;
  std::mt19937_64 random_;
  std::bernoulli_distribution drop_;
  // When the bottleneck finishes sending what it holds (a packet that arrives later starts at
  // its arrival).
  Clock::time_point bottleneck_free_at_{};
  std::deque<Held> held_;
  DirectionStats stats_;
};

}  // namespace lossy_link
