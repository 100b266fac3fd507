// Units of measurement: SI units and the lab's common units, with conversions. Pure.
//
// A value converts with offset (20 °C is 293.15 K); an uncertainty or any other
// difference converts by the factor alone (an uncertainty of 0.1 °C is 0.1 K).
#pragma once

#include <string_view>

#include "labtrace/status.h"

namespace labtrace::metrology {

struct UnitInfo {
  std::string_view symbol;     // as written: "mg", "°C", "%RH"
  std::string_view dimension;  // "mass", "temperature", …: only like dimensions convert
  double factor;               // to the coherent SI unit of the dimension
  double offset = 0;           // SI value = value·factor + offset (temperatures only)
};

// Finds a unit by its symbol. ASCII spellings are accepted too: "ug" for "µg", "degC"
// for "°C", "ohm" for "Ω".
Result<UnitInfo> FindUnit(std::string_view symbol);

// Converts a value (with offsets).
Result<double> ConvertValue(double value, std::string_view from, std::string_view to);
// Converts a difference or an uncertainty (factor only).
Result<double> ConvertDifference(double difference, std::string_view from, std::string_view to);

// The unit a certificate states small differences of `unit` in: the largest of the same
// dimension in which `difference` is at least 1 (errors of a kilogram scale with d = 1 g
// in g), or `unit` itself when the difference is already ≥ 1 there.
std::string_view UnitForDifference(std::string_view unit, double difference);

}  // namespace labtrace::metrology
