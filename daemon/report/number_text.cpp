#include "report/number_text.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace labtrace::report {

namespace {

// U+202F NARROW NO-BREAK SPACE: groups digits and never lets a line break split a number.
constexpr std::string_view kGroupSeparator = "\u202F";

// The decimal digits of |value|·10^decimals, rounded half away from zero. The scaled
// value is nudged by a few ulps first, so that a number stored just below a half
// (0.145 is 0.14499999999999999) rounds the way it was written.
std::string ScaledDigits(double magnitude, int decimals) {
  double scaled = magnitude * std::pow(10.0, decimals);
  for (int i = 0; i < 4; ++i) scaled = std::nextafter(scaled, INFINITY);
  return fmt::format("{:.0f}", std::floor(scaled + 0.5));
}

std::string Grouped(std::string_view integer_digits) {
  if (integer_digits.size() <= 4) return std::string(integer_digits);
  std::string out;
  const size_t first = integer_digits.size() % 3 == 0 ? 3 : integer_digits.size() % 3;
  out.append(integer_digits.substr(0, first));
  for (size_t i = first; i < integer_digits.size(); i += 3) {
    out.append(kGroupSeparator);
    out.append(integer_digits.substr(i, 3));
  }
  return out;
}

}  // namespace

std::string FormatFixed(double value, int decimals, DecimalSign sign) {
  if (!std::isfinite(value)) return "—";
  if (decimals < 0) decimals = 0;
  std::string digits = ScaledDigits(std::fabs(value), decimals);
  if (digits.size() <= static_cast<size_t>(decimals)) {
    digits.insert(0, static_cast<size_t>(decimals) + 1 - digits.size(), '0');
  }
  const std::string_view all(digits);
  const std::string_view integer = all.substr(0, all.size() - decimals);
  const std::string_view fraction = all.substr(all.size() - decimals);
  const bool zero = digits.find_first_not_of('0') == std::string::npos;
  std::string out = (value < 0 && !zero) ? "-" : "";
  out += Grouped(integer);
  if (decimals > 0) {
    out += sign == DecimalSign::kComma ? ',' : '.';
    out += fraction;
  }
  return out;
}

std::string FormatTrimmed(double value, int max_decimals, DecimalSign sign) {
  std::string text = FormatFixed(value, max_decimals, sign);
  const char decimal = sign == DecimalSign::kComma ? ',' : '.';
  if (text.find(decimal) == std::string::npos) return text;
  while (text.back() == '0') text.pop_back();
  if (text.back() == decimal) text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

int DecimalsOfTwoDigitUncertainty(double rounded_uncertainty) {
  if (!(rounded_uncertainty > 0) || !std::isfinite(rounded_uncertainty)) return 0;
  // The nudge keeps an exact power of ten (0.10, whose log10 may come out a hair under
  // −1) in its own decade.
  const int leading = static_cast<int>(std::floor(std::log10(rounded_uncertainty) + 1e-9));
  const int decimals = 1 - leading;
  return decimals < 0 ? 0 : decimals;
}

}  // namespace labtrace::report
