// `zerobus bench` as a user runs it: each kind of run against the null-sink server it starts in
// its own process, its JSON figures checked for what the run must have measured.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "zbtest_child.h"

namespace {

using namespace std::chrono_literals;
using zbtest::Child;

// The figures of a run that printed one JSON line, or a null value when it did not.
nlohmann::json FiguresOf(Child &run) {
  const std::string out = run.Stdout();
  return nlohmann::json::parse(out.substr(0, out.find('\n')), nullptr, false);
}

// Runs a latency run of 200 records (`extra` added to its flags) and checks that it timed every
// one: a record left untimed counts as -1 us, and the lowest latencies are the p50's.
void ExpectEveryRecordTimed(const std::vector<std::string> &extra) {
  std::vector<std::string> argv = {ZEROBUS_CLI, "bench", "--rate", "200",
                                   "--seconds", "1",     "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Child run(argv);
  ASSERT_EQ(run.Wait(60s), 0) << run.Stderr();
  const nlohmann::json figures = FiguresOf(run);
  ASSERT_TRUE(figures.is_object()) << figures;
  EXPECT_EQ(figures["mode"], "latency");
  EXPECT_EQ(figures["records"], 200);
  EXPECT_GT(figures["p50_us"].get<double>(), 0) << figures;
  EXPECT_GE(figures["p999_us"].get<double>(), figures["p50_us"].get<double>()) << figures;
}

TEST(CliBench, ALatencyRunTimesEveryRecordFromItsCallback) {
  ExpectEveryRecordTimed({});
}

// No event callback times these: the wait on the ingesting thread must time every record.
TEST(CliBench, WaitTimesEveryRecordByWaitingForItsOffset) {
  ExpectEveryRecordTimed({"--wait"});
}

TEST(CliBench, WaitWithoutARateIsRefused) {
  Child run({ZEROBUS_CLI, "bench", "--wait", "--records", "10"});
  EXPECT_EQ(run.Wait(10s), 2);
  EXPECT_NE(run.Stderr().find("--wait times a latency run: only with --rate"), std::string::npos)
      << run.Stderr();
}

}  // namespace
