// Fuzzes the SBI print-line parser: a value is only ever taken from a line with every
// column in its place.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sbi/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = labtrace::sbi::ParseSbiLine(line);
  if (parsed) {
    const labtrace::Reading reading = labtrace::sbi::ToReading(*parsed, "g");
    if (reading.quality() == labtrace::GOOD && (!std::isfinite(reading.value()) || (size != 14 && size != 20))) {
      __builtin_trap();
    }
  }
  return 0;
}
