#include "lossy_link/impairment.h"

#include <algorithm>
#include <utility>

namespace lossy_link {

Direction::Direction(const Impairment &impairment, std::uint64_t seed)
    : impairment_(impairment), random_(seed), drop_(impairment.loss) {}

void Direction::Arrive(std::vector<std::uint8_t> packet, Clock::time_point now) {
  ++stats_.arrived;
  stats_.arrived_bytes += packet.size();
  if (drop_(random_)) {
    ++stats_.lost;
    return;
  }
  Clock::time_point departure = now;
  if (impairment_.rate_bytes_per_second > 0) {
    const Clock::time_point start = std::max(now, bottleneck_free_at_);
    const double backlog_seconds = std::chrono::duration<double>(start - now).count();
    const double backlog_bytes = backlog_seconds * impairment_.rate_bytes_per_second;
    if (backlog_bytes + static_cast<double>(packet.size()) >
        static_cast<double>(impairment_.backlog_bytes)) {
      ++stats_.overflowed;
      return;
    }
    const std::chrono::duration<double> sending(static_cast<double>(packet.size()) /
                                                impairment_.rate_bytes_per_second);
    bottleneck_free_at_ = start + std::chrono::duration_cast<Clock::duration>(sending);
    departure = bottleneck_free_at_;
  }
  held_.push_back({departure + impairment_.delay, std::move(packet)});
  stats_.max_queued = std::max(stats_.max_queued, held_.size());
}

Clock::time_point Direction::NextDeparture() const {
  return held_.empty() ? Clock::time_point::max() : held_.front().departure;
}

bool Direction::PopDue(Clock::time_point now, std::vector<std::uint8_t> *packet) {
  if (held_.empty() || held_.front().departure > now) return false;
  *packet = std::move(held_.front().packet);
  held_.pop_front();
  ++stats_.delivered;
  stats_.delivered_bytes += packet->size();
  return true;
}

}  // namespace lossy_link
