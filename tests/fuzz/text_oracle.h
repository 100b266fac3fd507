// What the text codecs' fuzz targets check a parsed number against: the digits of the
// line itself, read here by the C library (strtod) and by counting, not by the shared
// printed-number reader the codecs use, so a mistake in that reader cannot hide.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace labtrace::fuzz {

inline std::string_view Trim(std::string_view text, std::string_view blanks = " ") {
  while (!text.empty() && blanks.find(text.front()) != std::string_view::npos) text.remove_prefix(1);
  while (!text.empty() && blanks.find(text.back()) != std::string_view::npos) text.remove_suffix(1);
  return text;
}

// The number as printed with `decimals` places: how an instrument prints it.
inline std::string Printed(double value, int decimals) { return fmt::format("{:.{}f}", value, decimals); }

// What `text` ("+0100.020", "-.5", "1.5E-3") means, read independently of the codecs: its
// value by strtod, its decimals by counting the digits after the point less the exponent.
struct ReferenceNumber {
  double value = 0;
  int decimals = 0;
};
inline ReferenceNumber Reference(std::string_view text) {
  const std::string copy(text);
  ReferenceNumber number{std::strtod(copy.c_str(), nullptr), 0};
  const size_t exponent = copy.find_first_of("eE");
  const size_t point = copy.find('.');
  if (point != std::string::npos) number.decimals = static_cast<int>(std::min(exponent, copy.size()) - point - 1);
  if (exponent != std::string::npos) number.decimals -= std::atoi(copy.c_str() + exponent + 1);
  if (number.decimals < 0) number.decimals = 0;
  return number;
}

// True when a codec's (value, decimals) is what `text` says. Values compare exactly:
// strtod and a correct decimal reader both round to the nearest double.
inline bool Means(std::string_view text, double value, int decimals) {
  const ReferenceNumber reference = Reference(text);
  return reference.value == value && reference.decimals == decimals;
}

}  // namespace labtrace::fuzz
