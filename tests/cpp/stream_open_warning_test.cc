// The warning about a stream per record, counted on a clock the test sets; the C test
// (tests/c/stream_open_warning_test.c) sees it through the log callback.
#include "core/stream_open_warning.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace zerobus {
namespace {

using Clock = StreamOpenWarning::Clock;
using namespace std::chrono_literals;

// Counts `count` streams of `table`, one every `step` from `*now` on (advanced past the last);
// the number of times the warning was due.
int CountOpens(StreamOpenWarning *warning, const std::string &table, int count,
               Clock::duration step, Clock::time_point *now) {
  int due = 0;
  for (int i = 0; i < count; ++i, *now += step) due += warning->Count(table, *now) ? 1 : 0;
  return due;
}

TEST(StreamOpenWarning, TheHundredthStreamWithinAMinuteWarnsOncePerTable) {
  StreamOpenWarning warning(true);
  Clock::time_point now{};
  EXPECT_EQ(CountOpens(&warning, "main.default.a", 99, 100ms, &now), 0);
  EXPECT_TRUE(warning.Count("main.default.a", now));
  EXPECT_EQ(CountOpens(&warning, "main.default.a", 1000, 1ms, &now), 0);
  // Each table is counted apart.
  EXPECT_EQ(CountOpens(&warning, "main.default.b", 250, 1ms, &now), 1);
}

TEST(StreamOpenWarning, StreamsSpreadOverMoreThanAMinuteDoNotWarn) {
  StreamOpenWarning warning(true);
  Clock::time_point now{};
  // 99 in every 60 s, for ten minutes: never 100 within the window.
  EXPECT_EQ(
      CountOpens(&warning, "main.default.a", 990, std::chrono::milliseconds(60s) / 99 + 1ms, &now),
      0);
  // A burst after a quiet minute starts from nothing.
  now += 61s;
  EXPECT_EQ(CountOpens(&warning, "main.default.a", 99, 1ms, &now), 0);
  EXPECT_TRUE(warning.Count("main.default.a", now));
}

Environment Env(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const char *name) -> const char * {
    auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  };
}

TEST(StreamOpenWarning, TheOptionAndTheEnvironmentEachSilenceWarnings) {
  Config config;
  EXPECT_TRUE(WarningsEnabled(config.settings(), Env({})));
  for (const char *off : {"false", "FALSE", "0"}) {
    EXPECT_FALSE(WarningsEnabled(config.settings(), Env({{"ZEROBUS_SDK_WARNINGS_ENABLED", off}})))
        << off;
  }
  EXPECT_TRUE(WarningsEnabled(config.settings(), Env({{"ZEROBUS_SDK_WARNINGS_ENABLED", "true"}})));
  ASSERT_TRUE(config.Set("sdk.warnings.enable", "false").ok());
  EXPECT_FALSE(WarningsEnabled(config.settings(), Env({})));
  EXPECT_FALSE(WarningsEnabled(config.settings(), Env({{"ZEROBUS_SDK_WARNINGS_ENABLED", "true"}})));
}

}  // namespace
}  // namespace zerobus
