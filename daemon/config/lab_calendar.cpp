#include "config/lab_calendar.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <date/tz.h>
#include <fmt/format.h>

namespace labtrace::config {

namespace {

using std::chrono::nanoseconds;
using std::chrono::system_clock;

date::local_days LocalDay(const CivilDate& d) {
  return date::local_days{date::year{d.year} / date::month{d.month} / date::day{d.day}};
}

date::year_month_day LocalDateAt(const date::time_zone* zone, int64_t ns) {
  const date::sys_time<nanoseconds> instant{nanoseconds{ns}};
  return date::year_month_day{date::floor<date::days>(zone->to_local(instant))};
}

// The first instant of a local day. A zone whose clocks jump at midnight has no local
// 00:00 on that day; the day then starts when the jump lands (date::choose::latest on an
// ambiguous midnight, so the earlier of the two repeated hours still belongs to the day before).
int64_t FirstInstantOf(const date::time_zone* zone, date::local_days day) {
  const auto info = zone->get_info(day);
  date::sys_time<nanoseconds> start;
  if (info.result == date::local_info::nonexistent) {
    start = date::sys_time<nanoseconds>{info.second.begin};
  } else {
    start = zone->to_sys(date::local_time<nanoseconds>{day}, date::choose::latest);
  }
  return start.time_since_epoch().count();
}

}  // namespace

Result<CivilDate> ParseDate(std::string_view text) {
  int year = 0, consumed = 0;
  unsigned month = 0, day = 0;
  const std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u%n", &year, &month, &day, &consumed) != 3 ||
      consumed != 10 || s[4] != '-' || s[7] != '-' ||
      !(date::year{year} / date::month{month} / date::day{day}).ok()) {
    return Error(InvalidArgument(fmt::format("\"{}\" is not a date like 2031-03-31", text)));
  }
  return CivilDate{year, month, day};
}

Result<LabCalendar> LabCalendar::InZone(std::string_view zone) {
  try {
    return LabCalendar(date::locate_zone(zone));
  } catch (const std::exception& e) {
    return Error(InvalidArgument(fmt::format(
        "\"{}\" is not a time zone in the system's database (/usr/share/zoneinfo, Debian's tzdata); "
        "name the lab's zone as the database does, e.g. \"Asia/Ho_Chi_Minh\"",
        zone)));
  }
}

LabCalendar LabCalendar::Of(const Lab& lab) {
  auto calendar = InZone(lab.time_zone().empty() ? kDefaultTimeZone : lab.time_zone());
  // LoadLab refuses a lab whose zone the system does not know; a Lab built some other
  // way and never loaded falls back to UTC rather than failing every date.
  return calendar ? *calendar : *InZone(kDefaultTimeZone);
}

std::string LabCalendar::DateOf(int64_t ns_since_epoch) const {
  const date::year_month_day ymd = LocalDateAt(zone_, ns_since_epoch);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

int LabCalendar::YearOf(int64_t ns_since_epoch) const {
  return static_cast<int>(LocalDateAt(zone_, ns_since_epoch).year());
}

Result<int64_t> LabCalendar::StartOfDayNs(std::string_view text) const {
  auto parsed = ParseDate(text);
  if (!parsed) return Error(parsed.error());
  return FirstInstantOf(zone_, LocalDay(*parsed));
}

Result<int64_t> LabCalendar::EndOfDayNs(std::string_view text) const {
  auto parsed = ParseDate(text);
  if (!parsed) return Error(parsed.error());
  return FirstInstantOf(zone_, LocalDay(*parsed) + date::days{1});
}

Result<int64_t> LabCalendar::InstantOf(const CivilDate& date, unsigned hour, unsigned minute, unsigned second,
                                       uint32_t nanosecond) const {
  const date::local_time<nanoseconds> local{LocalDay(date).time_since_epoch() + std::chrono::hours{hour} +
                                            std::chrono::minutes{minute} + std::chrono::seconds{second} +
                                            nanoseconds{nanosecond}};
  const auto info = zone_->get_info(local);
  const std::string shown = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", date.year, date.month, date.day, hour,
                                        minute, second);
  if (info.result == date::local_info::nonexistent) {
    return Error(InvalidArgument(fmt::format("{} did not happen in {}: the clocks skipped it", shown, zone_->name())));
  }
  if (info.result == date::local_info::ambiguous) {
    return Error(InvalidArgument(
        fmt::format("{} happened twice in {} (the clocks went back); which one is not known", shown, zone_->name())));
  }
  return zone_->to_sys(local).time_since_epoch().count();
}

std::string_view LabCalendar::zone_name() const { return zone_->name(); }

}  // namespace labtrace::config
