// Numbers as the notes of a TestResult print them: the English note with a decimal point,
// the Vietnamese note with a decimal comma (TCVN convention: 13,45 %). Internal to
// labtrace_conformity.
#pragma once

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace labtrace::conformity {

inline std::string NumberEn(double value, int decimals) {
  return fmt::format("{:.{}f}", value, decimals);
}

inline std::string NumberVi(double value, int decimals) {
  std::string text = NumberEn(value, decimals);
  std::replace(text.begin(), text.end(), '.', ',');
  return text;
}

// "13.45 %" / "500.4 g": a unit "1" (dimensionless) is not printed.
inline std::string WithUnit(std::string number, const std::string& unit) {
  return unit.empty() || unit == "1" ? number : number + " " + unit;
}

}  // namespace labtrace::conformity
