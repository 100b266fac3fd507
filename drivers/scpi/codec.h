// SCPI (IEEE 488.2 / SCPI-99) replies: identification, the error queue, and numeric
// measurements. Pure; no I/O; fuzzable.
//
// Reference: IEEE 488.2 §10.14 (*IDN?), §8.7 (numeric response data NR1/NR2/NR3); SCPI-99
// vol. 2 §21.8 (SYSTem:ERRor?) and vol. 1 §7.2.1 (9.9E37 overload, 9.91E37 not a number).
#pragma once

#include <string>
#include <string_view>

#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::scpi {

// "<maker>,<model>,<serial or 0>,<firmware>": exactly four fields. A serial number of
// "0" means the instrument does not report one; it is returned empty.
Result<InstrumentIdentity> ParseIdentification(std::string_view line);

// One entry of the error queue: `-113,"Undefined header"`; code 0 is the empty queue
// (`+0,"No error"`, or `0,"No error"` on some firmware).
struct ErrorEntry {
  int code = 0;
  std::string message;
};
Result<ErrorEntry> ParseErrorEntry(std::string_view line);

// One numeric reply as a reading: GOOD with the value and its printed decimals; the
// overload value ±9.9E37 → OVERLOAD, 9.91E37 → NOT_A_NUMBER, without a value. A reply
// that is not one number (a list, a string, garbage), or a number beyond ±9.9E37 that is
// neither code, is an InvalidArgument.
Result<Reading> ParseMeasurement(std::string_view line);

}  // namespace labtrace::scpi
