// Fuzzes the generic line driver's pattern matching with the patterns of the demo lab
// and the test suite. Oracles:
//   - a value is only ever read from a line the pattern matches whole (Read agrees with
//     Matches), and it is a finite number;
//   - for the thermometer, whose layout is fixed, the value is the number between "T1="
//     and " °C" (read here by strtod), with the decimals printed;
//   - for "channel = value unit", the channel is the line's first word and the unit has
//     no blank; the same reading printed again in that form reads back the same.
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "line/pattern.h"
#include "text_oracle.h"

namespace {

using labtrace::line::LinePattern;
using labtrace::line::LineValue;
constexpr std::string_view kRegexBlanks = " \t\n\r\v\f";  // what \s matches

const LinePattern& Thermometer() {
  static const auto pattern = *LinePattern::Compile(R"(T1=\s*(?<value>[-+]?[0-9]+\.[0-9]+) (?<unit>°C))");
  return pattern;
}
const LinePattern& AnyNumber() {
  static const auto pattern = *LinePattern::Compile(R"((?<channel>\w+)\s*[:=]\s*(?<value>\S+)\s*(?<unit>\S*))");
  return pattern;
}

void CheckThermometer(std::string_view line, const LineValue& value) {
  constexpr std::string_view kHead = "T1=", kTail = " °C";
  if (!line.starts_with(kHead) || !line.ends_with(kTail) || value.unit != "°C" || !value.channel.empty()) __builtin_trap();
  const std::string_view number =
      labtrace::fuzz::Trim(line.substr(kHead.size(), line.size() - kHead.size() - kTail.size()), kRegexBlanks);
  if (!labtrace::fuzz::Means(number, value.value, value.decimals)) __builtin_trap();
}

void CheckAnyNumber(std::string_view line, const LineValue& value) {
  if (value.channel.empty() || !line.starts_with(value.channel)) __builtin_trap();
  for (const unsigned char c : value.channel) {
    if (!std::isalnum(c) && c != '_') __builtin_trap();
  }
  if (value.unit.find_first_of(kRegexBlanks) != std::string::npos) __builtin_trap();
  const std::string printed = labtrace::fuzz::Printed(value.value, value.decimals);
  auto again = AnyNumber().Read(fmt::format("{}={} {}", value.channel, printed, value.unit));
  if (!again || again->channel != value.channel || again->unit != value.unit ||
      !labtrace::fuzz::Means(printed, again->value, again->decimals)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (const auto* pattern : {&Thermometer(), &AnyNumber()}) {
    auto value = pattern->Read(line);
    if (!value) continue;
    if (!std::isfinite(value->value) || !pattern->Matches(line)) __builtin_trap();
    if (pattern == &Thermometer()) {
      CheckThermometer(line, *value);
    } else {
      CheckAnyNumber(line, *value);
    }
  }
  return 0;
}
