#include "metrology/units.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

namespace labtrace::metrology {

namespace {

// Factors are exact by definition (SI Brochure, 9th ed., tables 5 and 8; psi from
// NIST SP 811 B.8, 6.894 757 293 168 kPa).
constexpr std::array<UnitInfo, 48> kUnits{{
    {"kg", "mass", 1},
    {"g", "mass", 1e-3},
    {"mg", "mass", 1e-6},
    {"µg", "mass", 1e-9},
    {"ug", "mass", 1e-9},
    {"t", "mass", 1e3},
    {"m", "length", 1},
    {"cm", "length", 1e-2},
    {"mm", "length", 1e-3},
    {"µm", "length", 1e-6},
    {"um", "length", 1e-6},
    {"nm", "length", 1e-9},
    {"K", "temperature", 1},
    {"°C", "temperature", 1, 273.15},
    {"degC", "temperature", 1, 273.15},
    {"Pa", "pressure", 1},
    {"hPa", "pressure", 1e2},
    {"kPa", "pressure", 1e3},
    {"MPa", "pressure", 1e6},
    {"bar", "pressure", 1e5},
    {"mbar", "pressure", 1e2},
    {"psi", "pressure", 6894.757293168},
    {"V", "voltage", 1},
    {"mV", "voltage", 1e-3},
    {"µV", "voltage", 1e-6},
    {"uV", "voltage", 1e-6},
    {"kV", "voltage", 1e3},
    {"A", "current", 1},
    {"mA", "current", 1e-3},
    {"µA", "current", 1e-6},
    {"uA", "current", 1e-6},
    {"Ω", "resistance", 1},
    {"ohm", "resistance", 1},
    {"mΩ", "resistance", 1e-3},
    {"kΩ", "resistance", 1e3},
    {"MΩ", "resistance", 1e6},
    {"s", "time", 1},
    {"ms", "time", 1e-3},
    {"min", "time", 60},
    {"h", "time", 3600},
    {"N", "force", 1},
    {"kN", "force", 1e3},
    {"L", "volume", 1e-3},
    {"mL", "volume", 1e-6},
    {"%RH", "relative humidity", 1},
    {"1", "dimensionless", 1},
    {"%", "dimensionless", 1e-2},
    {"ppm", "dimensionless", 1e-6},
}};

}  // namespace

Result<UnitInfo> FindUnit(std::string_view symbol) {
  for (const UnitInfo& unit : kUnits) {
    if (unit.symbol == symbol) return unit;
  }
  return Error(NotFound(fmt::format("unknown unit \"{}\"", symbol)));
}

namespace {
Result<std::pair<UnitInfo, UnitInfo>> Compatible(std::string_view from, std::string_view to) {
  auto a = FindUnit(from);
  if (!a) return Error(a.error());
  auto b = FindUnit(to);
  if (!b) return Error(b.error());
  if (a->dimension != b->dimension) {
    return Error(InvalidArgument(fmt::format("cannot convert {} ({}) to {} ({})", from, a->dimension,
                                             to, b->dimension)));
  }
  return std::pair{*a, *b};
}
}  // namespace

Result<double> ConvertValue(double value, std::string_view from, std::string_view to) {
  auto units = Compatible(from, to);
  if (!units) return Error(units.error());
  const auto& [a, b] = *units;
  return (value * a.factor + a.offset - b.offset) / b.factor;
}

Result<double> ConvertDifference(double difference, std::string_view from, std::string_view to) {
  auto units = Compatible(from, to);
  if (!units) return Error(units.error());
  return difference * units->first.factor / units->second.factor;
}

}  // namespace labtrace::metrology

namespace labtrace::metrology {

std::string_view UnitForDifference(std::string_view unit, double difference) {
  auto own = FindUnit(unit);
  const double magnitude = std::abs(difference);
  if (!own || own->offset != 0 || magnitude == 0 || magnitude >= 1) return unit;
  const double si = magnitude * own->factor;
  std::string_view best = unit;
  double best_factor = own->factor;
  for (const UnitInfo& candidate : kUnits) {
    // The lab's spellings only: no ASCII aliases, no offset scales, no percent or ppm.
    const bool ascii_alias = candidate.symbol == "ug" || candidate.symbol == "um" || candidate.symbol == "uV" ||
                             candidate.symbol == "uA" || candidate.symbol == "ohm" || candidate.symbol == "degC";
    if (candidate.dimension != own->dimension || candidate.offset != 0 || ascii_alias ||
        candidate.dimension == "dimensionless") {
      continue;
    }
    // The largest unit in which the difference is at least 1.
    if (si / candidate.factor >= 1 - 1e-9 && (best == unit || candidate.factor > best_factor)) {
      best = candidate.symbol;
      best_factor = candidate.factor;
    }
  }
  return best;
}

}  // namespace labtrace::metrology
