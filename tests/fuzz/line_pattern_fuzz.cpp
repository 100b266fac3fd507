// Fuzzes the generic line driver's pattern matching with the patterns of the demo lab
// and the test suite: a value is only ever read from a line the pattern matches whole,
// and it is a finite number.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "line/pattern.h"

namespace {
const labtrace::line::LinePattern& Thermometer() {
  static const auto pattern = *labtrace::line::LinePattern::Compile(R"(T1=\s*(?<value>[-+]?[0-9]+\.[0-9]+) (?<unit>°C))");
  return pattern;
}
const labtrace::line::LinePattern& AnyNumber() {
  static const auto pattern = *labtrace::line::LinePattern::Compile(R"((?<channel>\w+)\s*[:=]\s*(?<value>\S+)\s*(?<unit>\S*))");
  return pattern;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (const auto* pattern : {&Thermometer(), &AnyNumber()}) {
    auto value = pattern->Read(line);
    if (value && !std::isfinite(value->value)) __builtin_trap();
  }
  return 0;
}
