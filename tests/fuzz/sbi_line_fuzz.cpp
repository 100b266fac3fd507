// Fuzzes the SBI print-line parser against the column layout of protocols.md ("Sartorius
// SBI"): a weight is only ever taken from a line with every column in its place, and it
// is the number columns 3–10 print, with the unit of columns 12–14. A special display
// (H, L, C, Err ##) never carries a value. A weight printed again in SBI's layout parses
// back to the same weight.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sbi/codec.h"
#include "text_oracle.h"

namespace {

using labtrace::sbi::SbiLine;
using labtrace::fuzz::Printed;

void CheckWeight(std::string_view line, const SbiLine& parsed) {
  if (line.size() != 14 && line.size() != 20) __builtin_trap();
  const std::string_view body = line.substr(line.size() - 14);
  const std::string_view field = body.substr(2, 8), unit = body.substr(11, 3);
  if (body[1] != ' ' || body[10] != ' ' || field.back() == ' ') __builtin_trap();
  if (!labtrace::fuzz::Means(labtrace::fuzz::Trim(field), std::fabs(parsed.value), parsed.decimals)) __builtin_trap();
  if (std::signbit(parsed.value) != (body[0] == '-')) __builtin_trap();
  if (parsed.unit != labtrace::fuzz::Trim(unit) || (unit.front() == ' ' && !parsed.unit.empty())) __builtin_trap();
  if (parsed.stable == parsed.unit.empty()) __builtin_trap();

  const labtrace::Reading reading = labtrace::sbi::ToReading(parsed, "g");
  if (reading.quality() != (parsed.stable ? labtrace::GOOD : labtrace::UNSTABLE)) __builtin_trap();
  if (!std::isfinite(reading.value()) || reading.unit() != (parsed.stable ? parsed.unit : "g")) __builtin_trap();

  // Printed again: sign, space, value right-aligned in 8, space, unit left-aligned in 3.
  const std::string digits = Printed(std::fabs(parsed.value), parsed.decimals);
  if (digits.size() > 8) return;  // ".1234567" is 9 characters once written with its 0
  const std::string again = (parsed.identifier.empty() ? "" : fmt::format("{:<6}", parsed.identifier)) +
                            fmt::format("{} {:>8} {:<3}", std::signbit(parsed.value) ? '-' : '+', digits, parsed.unit);
  auto reparsed = labtrace::sbi::ParseSbiLine(again);
  if (!reparsed || reparsed->kind != SbiLine::Kind::kWeight || reparsed->unit != parsed.unit ||
      reparsed->identifier != parsed.identifier || !labtrace::fuzz::Means(digits, std::fabs(reparsed->value), reparsed->decimals) ||
      std::signbit(reparsed->value) != std::signbit(parsed.value)) {
    __builtin_trap();
  }
}

void CheckSpecial(std::string_view line, const SbiLine& parsed) {
  const labtrace::Reading reading = labtrace::sbi::ToReading(parsed, "g");
  if (reading.value() != 0 || reading.decimals() != -1) __builtin_trap();
  // The display the kind names is on the line: a special display is not guessed.
  std::string_view shown;
  labtrace::Quality quality = labtrace::DEVICE_ERROR;
  switch (parsed.kind) {
    case SbiLine::Kind::kOverload: shown = "H", quality = labtrace::OVERLOAD; break;
    case SbiLine::Kind::kUnderload: shown = "L", quality = labtrace::UNDERLOAD; break;
    case SbiLine::Kind::kAdjusting: shown = "C"; break;
    case SbiLine::Kind::kError: shown = "Err"; break;
    case SbiLine::Kind::kWeight: __builtin_trap();
  }
  if (line.substr(parsed.identifier.empty() ? 0 : 6).find(shown) == std::string_view::npos) __builtin_trap();
  if (reading.quality() != quality) __builtin_trap();
  if (parsed.kind == SbiLine::Kind::kError && (parsed.error_code < 0 || parsed.error_code > 999)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = labtrace::sbi::ParseSbiLine(line);
  if (!parsed) return 0;
  for (const unsigned char c : line) {
    if (c < 0x20 || c > 0x7E) __builtin_trap();  // noise never parses
  }
  if (!parsed->identifier.empty() && size != 20) __builtin_trap();
  if (parsed->kind == SbiLine::Kind::kWeight) {
    CheckWeight(line, *parsed);
  } else {
    CheckSpecial(line, *parsed);
  }
  return 0;
}
