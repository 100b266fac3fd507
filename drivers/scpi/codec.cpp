#include "scpi/codec.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "text_link/printed_number.h"

namespace labtrace::scpi {

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The instrument's special values (SCPI-99 vol. 1 §7.2.1.5 and .6): 9.9E37 stands for
// infinity, 9.91E37 for not a number. Compared with a margin, since instruments print
// them with various digits ("+9.90000000E+37").
constexpr double kInfinityCode = 9.9e37;
constexpr double kNotANumberCode = 9.91e37;
constexpr double kCodeMargin = 1e-6;
bool Near(double value, double special) { return std::fabs(std::fabs(value) - special) <= special * kCodeMargin; }

}  // namespace

Result<InstrumentIdentity> ParseIdentification(std::string_view line) {
  if (!text::IsPrintableAscii(line)) {
    return Error(InvalidArgument("*IDN? reply holds control or non-ASCII bytes (noise, or the wrong baud rate?)"));
  }
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(Trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (fields.size() != 4 || fields[0].empty() || fields[1].empty()) {
    return Error(InvalidArgument(
        fmt::format("*IDN? reply \"{}\" is not <maker>,<model>,<serial number>,<firmware>", line)));
  }
  InstrumentIdentity identity;
  identity.set_manufacturer(std::string(fields[0]));
  identity.set_model(std::string(fields[1]));
  if (fields[2] != "0") identity.set_serial_number(std::string(fields[2]));
  identity.set_firmware(std::string(fields[3]));
  return identity;
}

Result<ErrorEntry> ParseErrorEntry(std::string_view line) {
  const size_t comma = line.find(',');
  if (!text::IsPrintableAscii(line) || comma == std::string_view::npos) {
    return Error(InvalidArgument(fmt::format("SYST:ERR? reply \"{}\" is not <code>,\"<message>\"", text::Shown(line))));
  }
  auto code = text::ParsePrintedNumber(Trim(line.substr(0, comma)));
  if (!code || code->decimals != 0 || std::fabs(code->value) > 32767 ||
      code->value != std::trunc(code->value)) {
    return Error(InvalidArgument(fmt::format("SYST:ERR? reply \"{}\" has no integer error code", line)));
  }
  std::string_view message = Trim(line.substr(comma + 1));
  if (message.size() < 2 || message.front() != '"' || message.back() != '"') {
    return Error(InvalidArgument(fmt::format("SYST:ERR? reply \"{}\": the message is not quoted", line)));
  }
  ErrorEntry entry;
  entry.code = static_cast<int>(code->value);
  entry.message = std::string(message.substr(1, message.size() - 2));
  return entry;
}

Result<Reading> ParseMeasurement(std::string_view line) {
  if (!text::IsPrintableAscii(line)) {
    return Error(InvalidArgument(fmt::format("reply \"{}\" holds control or non-ASCII bytes (noise, or the wrong "
                                             "baud rate?)", text::Shown(line))));
  }
  const std::string_view field = Trim(line);
  if (field.find(',') != std::string_view::npos) {
    return Error(InvalidArgument(fmt::format("reply \"{}\" is a list; the query must return one value", line)));
  }
  auto number = text::ParsePrintedNumber(field, text::Exponent::kAllowed);
  if (!number) return Error(number.error().Annotate("measurement"));
  Reading reading;
  reading.set_decimals(-1);
  if (Near(number->value, kNotANumberCode)) {
    reading.set_quality(NOT_A_NUMBER);
    reading.set_detail(fmt::format("the instrument returned not-a-number ({})", field));
  } else if (Near(number->value, kInfinityCode)) {
    reading.set_quality(OVERLOAD);
    reading.set_detail(fmt::format("{}overload: beyond the range ({})", number->value < 0 ? "negative " : "", field));
  } else if (std::fabs(number->value) >= kInfinityCode * (1 - kCodeMargin)) {
    // Nothing an instrument measures lies beyond the code for infinity: such a number is
    // a garbled reply, and storing it as a value would put 9E39 volts in the record.
    return Error(InvalidArgument(fmt::format(
        "reply \"{}\" is beyond 9.9E37 (infinity) and is neither SCPI code; noise on the line?", field)));
  } else {
    reading.set_quality(GOOD);
    reading.set_value(number->value);
    reading.set_decimals(number->decimals);
  }
  return reading;
}

}  // namespace labtrace::scpi
