// Fuzzes the SCPI reply parsers: identification, error queue entries and measurements.
// A good measurement is a finite number and never the overload or not-a-number code.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scpi/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  (void)labtrace::scpi::ParseIdentification(line);
  (void)labtrace::scpi::ParseErrorEntry(line);
  auto reading = labtrace::scpi::ParseMeasurement(line);
  if (reading && reading->quality() == labtrace::GOOD &&
      (!std::isfinite(reading->value()) || std::fabs(reading->value()) > 9.8e37)) {
    __builtin_trap();
  }
  return 0;
}
