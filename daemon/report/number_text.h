// Numbers as a report prints them: a decimal comma on the Vietnamese side (13,45), a
// decimal point on the English side (13.45). Pure; no locale is consulted, so a report
// reads the same on every machine.
//
// Digits of a long integer part are grouped in threes by a narrow no-break space
// (10 000,025), as ISO 80000-1 §7.3.1 and TCVN 7870-1 write them in both languages: a
// point or a comma between groups would read as the other language's decimal sign.
// Four-digit integer parts stay ungrouped (1000,5), as the standard allows.
#pragma once

#include <string>

namespace labtrace::report {

enum class DecimalSign {
  kComma,  // Vietnamese: 13,45
  kPoint,  // English: 13.45
};

// `value` with exactly `decimals` digits after the sign, rounded half away from zero as
// written (0.145 with 2 decimals is 0,15, although the double is 0.14499…).
// A value that is not finite prints as "—".
std::string FormatFixed(double value, int decimals, DecimalSign sign);

// `value` rounded to at most `max_decimals`, trailing zeros dropped: a limit (14), a
// coverage factor (2; 2,43), a guard factor (1,5).
std::string FormatTrimmed(double value, int max_decimals, DecimalSign sign);

// Digits after the decimal sign of an expanded uncertainty already rounded to two
// significant digits (GUM §7.2.6): 0.12 → 2, 0.10 → 2, 1.4 → 1, 59 → 0.
int DecimalsOfTwoDigitUncertainty(double rounded_uncertainty);

}  // namespace labtrace::report
