// The lab's calendar: the dates people read are the lab's civil dates, in the time zone
// its lab-config names; the instants the records store stay UTC.
//
// A certificate performed at 06:30 on 1 January in Hà Nội is dated 1 January and numbered
// in the new year, although it is still 31 December in UTC; an instrument due on
// 31 May may be used until 00:00 local on 1 June, not until 07:00. The zones come from
// the system's time-zone database (Debian's tzdata) through Howard Hinnant's date library,
// the implementation C++20's <chrono> time zones were standardised from (GCC 12's
// libstdc++ does not have them yet).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/config.pb.h"
#include "labtrace/status.h"

namespace date {
class time_zone;
}

namespace labtrace::config {

inline constexpr std::string_view kDefaultTimeZone = "UTC";

// A civil date, checked: "2027-03-31".
struct CivilDate {
  int year = 0;
  unsigned month = 0, day = 0;
};
Result<CivilDate> ParseDate(std::string_view text);

class LabCalendar {
 public:
  // `zone` is an IANA name ("Asia/Ho_Chi_Minh"); refused when the system does not know it.
  static Result<LabCalendar> InZone(std::string_view zone);
  // The calendar of a loaded lab (whose zone LoadLab has checked and filled in).
  static LabCalendar Of(const Lab& lab);

  // The lab's date at an instant: "YYYY-MM-DD".
  std::string DateOf(int64_t ns_since_epoch) const;
  int YearOf(int64_t ns_since_epoch) const;
  // The first instant of `date` in the lab, and the first instant after it: something
  // valid "until 2027-05-31" is valid while now < EndOfDayNs("2027-05-31").
  Result<int64_t> StartOfDayNs(std::string_view date) const;
  Result<int64_t> EndOfDayNs(std::string_view date) const;

  // The instant a local civil time of this zone names, ns since the epoch (UTC). A time
  // the clocks skipped or repeated (daylight saving) is refused: which instant was meant
  // cannot be known.
  Result<int64_t> InstantOf(const CivilDate& date, unsigned hour, unsigned minute, unsigned second,
                            uint32_t nanosecond) const;

  std::string_view zone_name() const;

 private:
  explicit LabCalendar(const date::time_zone* zone) : zone_(zone) {}
  const date::time_zone* zone_;  // owned by the date library's database, never freed
};

}  // namespace labtrace::config
