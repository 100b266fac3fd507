// Instants as verification messages name them: "2026-11-25T08:00:01Z" (UTC, whole seconds).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <fmt/format.h>

namespace labtrace::store {

inline std::string FormatUtcTime(int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace labtrace::store
