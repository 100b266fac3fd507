// Fuzzes the SCPI reply parsers: identification, error queue entries and measurements.
// Oracles (protocols.md, "SCPI"):
//   - *IDN? is four comma-separated fields, the first two non-empty; written again with
//     commas it parses to the same identity;
//   - an error entry's message is the quoted text after the first comma, its code an
//     integer; written again as <code>,"<message>" it parses to the same entry;
//   - a GOOD measurement is the number the line prints (read here by strtod), finite and
//     never the overload (±9.9E37) or not-a-number (9.91E37) code; those two are flags
//     without a value.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "scpi/codec.h"
#include "text_oracle.h"

namespace {

namespace scpi = labtrace::scpi;
using labtrace::fuzz::Trim;
constexpr std::string_view kBlanks = " \t";

void CheckIdentification(std::string_view line) {
  auto identity = scpi::ParseIdentification(line);
  if (!identity) return;
  if (std::count(line.begin(), line.end(), ',') != 3) __builtin_trap();
  const std::string first = std::string(Trim(line.substr(0, line.find(',')), kBlanks));
  if (identity->manufacturer() != first || identity->manufacturer().empty() || identity->model().empty()) __builtin_trap();
  if (identity->serial_number() == "0") __builtin_trap();  // "0" means "none": stored empty
  const std::string again = fmt::format("{},{},{},{}", identity->manufacturer(), identity->model(),
                                        identity->serial_number().empty() ? "0" : identity->serial_number(),
                                        identity->firmware());
  auto reparsed = scpi::ParseIdentification(again);
  if (!reparsed || reparsed->SerializeAsString() != identity->SerializeAsString()) __builtin_trap();
}

void CheckErrorEntry(std::string_view line) {
  auto entry = scpi::ParseErrorEntry(line);
  if (!entry) return;
  const std::string_view code = Trim(line.substr(0, line.find(',')), kBlanks);
  if (!labtrace::fuzz::Means(code, entry->code, 0) || std::abs(entry->code) > 32767) __builtin_trap();
  if (Trim(line.substr(line.find(',') + 1), kBlanks) != "\"" + entry->message + "\"") __builtin_trap();
  auto reparsed = scpi::ParseErrorEntry(fmt::format("{},\"{}\"", entry->code, entry->message));
  if (!reparsed || reparsed->code != entry->code || reparsed->message != entry->message) __builtin_trap();
}

void CheckMeasurement(std::string_view line) {
  auto reading = scpi::ParseMeasurement(line);
  if (!reading) return;
  const std::string_view field = Trim(line, kBlanks);
  const double printed = labtrace::fuzz::Reference(field).value;
  switch (reading->quality()) {
    case labtrace::GOOD:
      // Strictly below the infinity code, less the margin it is recognised with.
      if (!std::isfinite(reading->value()) || std::fabs(reading->value()) >= 9.9e37 * (1 - 1e-6)) __builtin_trap();
      if (!labtrace::fuzz::Means(field, reading->value(), reading->decimals())) __builtin_trap();
      break;
    case labtrace::OVERLOAD:
    case labtrace::NOT_A_NUMBER: {
      const double code = reading->quality() == labtrace::OVERLOAD ? 9.9e37 : 9.91e37;
      if (std::fabs(std::fabs(printed) - code) > code * 1e-5) __builtin_trap();
      if (reading->value() != 0 || reading->decimals() != -1 || reading->detail().empty()) __builtin_trap();
      break;
    }
    default: __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  CheckIdentification(line);
  CheckErrorEntry(line);
  CheckMeasurement(line);
  return 0;
}
