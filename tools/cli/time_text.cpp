#include "cli/time_text.h"

#include <charconv>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace labtrace::cli {

std::string FormatUtc(int64_t ns) {
  const int64_t seconds = ns >= 0 ? ns / 1'000'000'000 : (ns - 999'999'999) / 1'000'000'000;
  const int64_t millis = (ns - seconds * 1'000'000'000) / 1'000'000;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

Result<int64_t> ParseSince(std::string_view text, int64_t now_ns) {
  auto bad = [&] {
    return Error(InvalidArgument(fmt::format(
        "--since \"{}\": write a UTC time like 2026-11-25T07:00:00Z or a duration like 15m, 2h, 1d",
        text)));
  };
  if (text.empty()) return bad();
  const char last = text.back();
  if (last == 's' || last == 'm' || last == 'h' || last == 'd') {
    int64_t amount = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, amount);
    if (ec != std::errc() || end != text.data() + text.size() - 1 || amount < 0) return bad();
    const int64_t unit_s = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : 86400;
    return now_ns - amount * unit_s * 1'000'000'000;
  }
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  std::tm tm{};
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(std::string(text).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour,
                  &minute, &second, &consumed) != 6) {
    return bad();
  }
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  int64_t fraction_ns = 0;
  if (!rest.empty() && rest[0] == '.') {
    int64_t scale = 100'000'000;
    size_t i = 1;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
      fraction_ns += (rest[i] - '0') * scale;
      scale /= 10;
    }
    rest = rest.substr(i);
  }
  if (rest != "Z") return bad();
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  if (t == -1 || month < 1 || month > 12 || day < 1 || day > 31) return bad();
  return static_cast<int64_t>(t) * 1'000'000'000 + fraction_ns;
}

}  // namespace labtrace::cli
