// The lab's calendar (daemon/config/lab_calendar.h): dates people read are dates in the
// lab's zone. Instants below are worked with GNU date (`date -u -d 2032-05-31T17:00:00Z
// +%s`), not with the code under test; Asia/Ho_Chi_Minh is UTC+7 with no daylight saving.
// The dates are years away from when the tests were written, so that no test reads as one
// about "now".
#include "config/lab_calendar.h"

#include <gtest/gtest.h>

#include "config/lab_config.h"

namespace labtrace::config {
namespace {

constexpr int64_t kS = 1'000'000'000;

LabCalendar Vietnam() {
  auto calendar = LabCalendar::InZone("Asia/Ho_Chi_Minh");
  EXPECT_TRUE(calendar) << calendar.error().message();
  return *calendar;
}

TEST(LabCalendar, AtHalfPastSixOnNewYearsMorningTheLabIsInTheNewYear) {
  constexpr int64_t kAt = 1956526200 * kS;  // 2031-12-31T23:30:00Z = 2032-01-01 06:30 +07
  EXPECT_EQ(Vietnam().DateOf(kAt), "2032-01-01");
  EXPECT_EQ(Vietnam().YearOf(kAt), 2032);
  EXPECT_EQ(LabCalendar::InZone("UTC")->DateOf(kAt), "2031-12-31");
}

TEST(LabCalendar, SomethingDueTodayIsInvalidAtMidnightLocalTomorrow) {
  constexpr int64_t kMidnight = 1969635600 * kS;  // 2032-05-31T17:00:00Z = 2032-06-01 00:00 +07
  auto ends = Vietnam().EndOfDayNs("2032-05-31");
  ASSERT_TRUE(ends) << ends.error().message();
  EXPECT_EQ(*ends, kMidnight);
  // Valid while now < end: at 23:59:59.999999999 local still, at 00:00 not.
  EXPECT_LT(kMidnight - 1, *ends);
  EXPECT_FALSE(kMidnight < *ends);
  auto starts = Vietnam().StartOfDayNs("2032-05-31");
  ASSERT_TRUE(starts);
  EXPECT_EQ(*starts, kMidnight - 86400 * kS);
}

TEST(LabCalendar, ADayWhoseMidnightDoesNotExistStartsWhenTheClocksLand) {
  // São Paulo moved its clocks from 00:00 to 01:00 on 2018-11-04; that day began at
  // 01:00 -02, which is 03:00Z (the instant 00:00 -03 would have been).
  auto sao_paulo = LabCalendar::InZone("America/Sao_Paulo");
  ASSERT_TRUE(sao_paulo);
  auto starts = sao_paulo->StartOfDayNs("2018-11-04");
  ASSERT_TRUE(starts) << starts.error().message();
  EXPECT_EQ(*starts, 1541300400 * kS);  // 2018-11-04T03:00:00Z
  EXPECT_EQ(sao_paulo->DateOf(*starts), "2018-11-04");
  EXPECT_EQ(sao_paulo->DateOf(*starts - 1), "2018-11-03");
}

TEST(LabCalendar, AnUnknownZoneIsRefusedWithTheNameToUse) {
  auto calendar = LabCalendar::InZone("Asia/Hanoi");
  ASSERT_FALSE(calendar);
  EXPECT_NE(calendar.error().message().find("\"Asia/Hanoi\" is not a time zone"), std::string::npos);
  EXPECT_NE(calendar.error().message().find("Asia/Ho_Chi_Minh"), std::string::npos);
}

TEST(LabCalendar, OnlyRealDatesParse) {
  EXPECT_TRUE(ParseDate("2032-02-29"));
  for (const char* bad : {"2031-02-29", "2031-13-01", "31/03/2031", "2031-3-31", "2031-03-31x", ""}) {
    EXPECT_FALSE(ParseDate(bad)) << bad;
  }
}

TEST(LabCalendar, ALabWithoutAZoneKeepsUtcDates) {
  Lab lab;
  EXPECT_EQ(LabCalendar::Of(lab).zone_name(), "UTC");
  lab.set_time_zone("Asia/Ho_Chi_Minh");
  EXPECT_EQ(LabCalendar::Of(lab).zone_name(), "Asia/Ho_Chi_Minh");
}

}  // namespace
}  // namespace labtrace::config
