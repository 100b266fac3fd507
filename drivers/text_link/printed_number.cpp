#include "text_link/printed_number.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace labtrace::text {

Result<PrintedNumber> ParsePrintedNumber(std::string_view text, Exponent exponent) {
  auto refuse = [text](std::string_view why) {
    return Error(InvalidArgument(fmt::format("\"{}\" is not a number: {}", Shown(text), why)));
  };
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  int digits = 0, fraction_digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      ++digits;
      if (point) ++fraction_digits;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return refuse("no digits");
  int power = 0;
  if (i < text.size() && (text[i] == 'E' || text[i] == 'e')) {
    if (exponent == Exponent::kRefused) return refuse("an exponent is not expected here");
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    const size_t exponent_digits = j;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == exponent_digits || j - exponent_digits > 3) return refuse("a bad exponent");
    std::from_chars(text.data() + exponent_digits, text.data() + j, power);
    if (text[exponent_digits - 1] == '-') power = -power;
    i = j;
  }
  if (i != text.size()) return refuse(fmt::format("unexpected '{}'", Shown(text.substr(i, 1))));
  std::string_view number = text;
  if (number[0] == '+') number.remove_prefix(1);  // from_chars takes no '+'
  PrintedNumber parsed;
  auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), parsed.value);
  if (error != std::errc() || end != number.data() + number.size() || !std::isfinite(parsed.value)) {
    return refuse("out of range");
  }
  parsed.decimals = std::max(0, fraction_digits - power);
  return parsed;
}

std::string Shown(std::string_view text) {
  std::string shown;
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    // Length of a well-formed UTF-8 sequence starting here, or 0.
    size_t length = byte < 0x80 ? 1 : (byte & 0xE0) == 0xC0 ? 2 : (byte & 0xF0) == 0xE0 ? 3 : (byte & 0xF8) == 0xF0 ? 4 : 0;
    if (byte >= 0x80 && byte < 0xC2) length = 0;  // a continuation byte, or an overlong lead
    for (size_t k = 1; k < length; ++k) {
      if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) length = 0;
    }
    if (length == 0 || byte < 0x20 || byte == 0x7F) {
      shown += fmt::format("\\x{:02X}", byte);
      ++i;
    } else {
      shown.append(text.substr(i, length));
      i += length;
    }
  }
  return shown;
}

bool IsPrintableAscii(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return c >= 0x20 && c <= 0x7E; });
}

}  // namespace labtrace::text
