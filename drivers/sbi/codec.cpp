#include "sbi/codec.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "text_link/printed_number.h"

namespace labtrace::sbi {

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// "H", "L", "C" or "Err ##", however the balance padded it; nullopt for anything else.
std::optional<SbiLine> SpecialDisplay(std::string_view text) {
  SbiLine line;
  text = Trim(text);
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text = Trim(text.substr(1));
  if (text == "H") line.kind = SbiLine::Kind::kOverload;
  else if (text == "L") line.kind = SbiLine::Kind::kUnderload;
  else if (text == "C") line.kind = SbiLine::Kind::kAdjusting;
  else if (text.substr(0, 3) == "Err") {
    const std::string_view code = Trim(text.substr(3));
    if (code.empty() || code.size() > 3) return std::nullopt;
    for (char c : code) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    line.kind = SbiLine::Kind::kError;
    line.error_code = std::stoi(std::string(code));
  } else {
    return std::nullopt;
  }
  return line;
}

}  // namespace

Result<SbiLine> ParseSbiLine(std::string_view text) {
  if (!text::IsPrintableAscii(text)) {
    return Error(InvalidArgument("print line holds control or non-ASCII bytes (noise, or the wrong baud rate?)"));
  }
  std::string identifier;
  std::string_view body = text;
  if (text.size() == 20) {
    // An identifier is a word ("N", "Qnt", "Stat"): anything else is noise before a line.
    const std::string_view head = text.substr(0, 6);
    const bool word = std::isalpha(static_cast<unsigned char>(head[0])) &&
                      std::all_of(head.begin(), head.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.'; });
    if (!word) return Error(InvalidArgument(fmt::format("print line \"{}\": \"{}\" is not an identifier", text, head)));
    identifier = std::string(Trim(head));
    body = text.substr(6);
  }
  if (body.size() != 14) {
    if (auto special = SpecialDisplay(body)) {
      special->identifier = identifier;
      return *special;
    }
    return Error(InvalidArgument(fmt::format(
        "print line \"{}\" has {} characters, expected 14 (or 20 with an identifier)", text, text.size())));
  }
  // Columns 1–14: sign, space, value (8, right-aligned), space, unit (3, left-aligned).
  const char sign = body[0];
  if ((sign != '+' && sign != '-' && sign != ' ') || body[1] != ' ' || body[10] != ' ') {
    if (auto special = SpecialDisplay(body)) {
      special->identifier = identifier;
      return *special;
    }
    return Error(InvalidArgument(fmt::format("print line \"{}\" does not have SBI's columns", text)));
  }
  const std::string_view field = body.substr(2, 8);
  if (auto special = SpecialDisplay(field)) {
    special->identifier = identifier;
    return *special;
  }
  const std::string_view digits = Trim(field);
  if (digits.empty() || field.back() == ' ') {
    return Error(InvalidArgument(fmt::format("print line \"{}\": the value is not right-aligned", text)));
  }
  if (digits.front() == '+' || digits.front() == '-') {
    return Error(InvalidArgument(fmt::format("print line \"{}\": a sign inside the value field", text)));
  }
  auto number = text::ParsePrintedNumber(digits);
  if (!number) return Error(number.error().Annotate(fmt::format("print line \"{}\"", text)));
  const std::string_view unit_field = body.substr(11, 3);
  if (unit_field.front() == ' ' && Trim(unit_field) != "") {
    return Error(InvalidArgument(fmt::format("print line \"{}\": the unit is not left-aligned", text)));
  }
  SbiLine line;
  line.identifier = identifier;
  line.value = sign == '-' ? -number->value : number->value;
  line.decimals = number->decimals;
  line.unit = std::string(Trim(unit_field));
  line.stable = !line.unit.empty();
  return line;
}

Reading ToReading(const SbiLine& line, const std::string& unit) {
  Reading reading;
  reading.set_decimals(-1);
  reading.set_unit(line.unit.empty() ? unit : line.unit);
  switch (line.kind) {
    case SbiLine::Kind::kWeight:
      reading.set_quality(line.stable ? GOOD : UNSTABLE);
      reading.set_value(line.value);
      reading.set_decimals(line.decimals);
      if (!line.stable) reading.set_detail("dynamic weight (printed without a unit: balance not stable)");
      break;
    case SbiLine::Kind::kOverload:
      reading.set_quality(OVERLOAD);
      reading.set_detail("balance overload (display H)");
      break;
    case SbiLine::Kind::kUnderload:
      reading.set_quality(UNDERLOAD);
      reading.set_detail("balance underload (display L)");
      break;
    case SbiLine::Kind::kAdjusting:
      reading.set_quality(DEVICE_ERROR);
      reading.set_detail("balance is adjusting (display C)");
      break;
    case SbiLine::Kind::kError:
      reading.set_quality(DEVICE_ERROR);
      reading.set_detail(fmt::format("balance shows Err {:02}; see its manual's error table", line.error_code));
      break;
  }
  return reading;
}

}  // namespace labtrace::sbi
