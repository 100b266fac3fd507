// Fuzzes the MT-SICS reply parser: a value is only ever taken from a line that parses whole.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mtsics/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto reply = labtrace::mtsics::ParseSicsLine(line);
  if (reply) {
    const labtrace::Reading reading = labtrace::mtsics::ToReading(*reply);
    if (reading.quality() == labtrace::GOOD && !std::isfinite(reading.value())) __builtin_trap();
  }
  return 0;
}
