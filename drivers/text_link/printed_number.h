// A number as an instrument prints it: "+0100.02", "-12.5", "+1.09450000E-01". Pure;
// shared by the codecs of every instrument that speaks text (MT-SICS, SBI, SCPI, the
// line driver), so that they all accept and refuse the same things.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::text {

struct PrintedNumber {
  double value = 0;
  // Decimal places of the value as printed, exponent included: "+1.09450000E-01" has 9
  // (its last digit is 1E-9). 0 when the last digit is left of the point.
  int decimals = 0;
};

enum class Exponent { kRefused, kAllowed };

// The whole of `text` must be the number: optional sign, digits with at most one decimal
// point (at least one digit), and, when allowed, E and an integer exponent. No spaces,
// no thousands separators. Anything else is an InvalidArgument naming the text.
Result<PrintedNumber> ParsePrintedNumber(std::string_view text, Exponent exponent = Exponent::kRefused);

// True when every byte is printable ASCII: a line with control or 8-bit bytes is noise,
// or was received at the wrong baud rate or parity.
bool IsPrintableAscii(std::string_view line);

// `text` fit to quote in a message (and in the protobuf strings that carry messages,
// which must be UTF-8): control bytes and bytes that are not valid UTF-8 become \xNN.
std::string Shown(std::string_view text);

}  // namespace labtrace::text
