// Times as the CLI reads and writes them: UTC, RFC 3339.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::cli {

// "2026-11-25T07:00:01.123Z"
std::string FormatUtc(int64_t ns_since_epoch);

// Accepts RFC 3339 in UTC ("2026-11-25T07:00:00Z", fractional seconds allowed), or a
// duration before `now_ns`: "90s", "15m", "2h", "1d".
Result<int64_t> ParseSince(std::string_view text, int64_t now_ns);

}  // namespace labtrace::cli
