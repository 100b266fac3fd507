#include <gtest/gtest.h>

#include "cli/time_text.h"

namespace labtrace::cli {
namespace {

TEST(TimeText, FormatsUtcWithMilliseconds) {
  // 2026-11-25T07:00:01.123Z = 1795590001 s since the epoch (date -u -d @1795590001).
  EXPECT_EQ(FormatUtc(1795590001'123'000'000), "2026-11-25T07:00:01.123Z");
}

TEST(TimeText, ParsesRfc3339AndDurations) {
  EXPECT_EQ(*ParseSince("2026-11-25T07:00:01Z", 0), 1795590001'000'000'000);
  EXPECT_EQ(*ParseSince("2026-11-25T07:00:01.5Z", 0), 1795590001'500'000'000);
  EXPECT_EQ(*ParseSince("15m", 1'000'000'000'000), 1'000'000'000'000 - 900'000'000'000);
  EXPECT_EQ(*ParseSince("1d", 100'000'000'000'000), 100'000'000'000'000 - 86'400'000'000'000);
  for (const char* bad : {"", "yesterday", "2026-11-25 07:00", "2026-11-25T07:00:01+07:00", "-5m", "m"}) {
    EXPECT_FALSE(ParseSince(bad, 0).has_value()) << bad;
  }
}

}  // namespace
}  // namespace labtrace::cli
