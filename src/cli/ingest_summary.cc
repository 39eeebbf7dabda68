#include "cli/ingest_summary.h"

#include <cstdio>

namespace zerobus::cli {

void PrintSummary(const std::string &table, const Totals &totals, double seconds,
                  const std::string &dead_letter_path) {
  const double records_per_second = seconds > 0 ? static_cast<double>(totals.read) / seconds : 0;
  const double megabytes = static_cast<double>(totals.bytes) / 1e6;
  std::printf(
      "zerobus ingest: %s\n"
      "  records read   %llu (%.1f MB from %llu input%s)\n"
      "  accepted       %llu\n"
      "  acknowledged   %llu\n"
      "  dead-lettered  %llu%s%s\n"
      "  elapsed        %.2f s (%.0f records/s, %.1f MB/s)\n"
      "  recoveries     %llu\n"
      "  streams        %llu\n",
      table.c_str(), static_cast<unsigned long long>(totals.read), megabytes,
      static_cast<unsigned long long>(totals.files), totals.files == 1 ? "" : "s",
      static_cast<unsigned long long>(totals.accepted),
      static_cast<unsigned long long>(totals.acked), static_cast<unsigned long long>(totals.dead),
      totals.dead > 0 ? " to " : "", totals.dead > 0 ? dead_letter_path.c_str() : "", seconds,
      records_per_second, seconds > 0 ? megabytes / seconds : 0,
      static_cast<unsigned long long>(totals.recoveries),
      static_cast<unsigned long long>(totals.streams));
  if (totals.exactly_once) {
    std::printf("  skipped        %llu (committed by an earlier run)\n",
                static_cast<unsigned long long>(totals.skipped));
  }
  std::fflush(stdout);
}

}  // namespace zerobus::cli
