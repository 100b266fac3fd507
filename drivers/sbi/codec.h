// Sartorius SBI (Sartorius Balance Interface): parsing of one print line. Pure; no I/O;
// fuzzable.
//
// Reference: protocols.md, "Sartorius SBI", after the balances' operating instructions
// ("Data output format"): 16 characters, or 22 with a 6-character identifier first.
#pragma once

#include <string>
#include <string_view>

#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::sbi {

struct SbiLine {
  enum class Kind {
    kWeight,     // "+   123.56 g  ", or with the unit blank while the weight is not stable
    kOverload,   // display "H"
    kUnderload,  // display "L"
    kAdjusting,  // display "C": calibration/adjustment running
    kError,      // display "Err ##"
  };
  Kind kind = Kind::kWeight;
  std::string identifier;  // of the 22-character form, trimmed: "N", "Qnt"; else empty
  double value = 0;
  int decimals = 0;
  std::string unit;    // empty: the balance printed no unit, i.e. the weight is not stable
  bool stable = false;
  int error_code = 0;  // of "Err ##"
};

// Parses one line without its CR LF. A weight line must be exactly 14 characters (20
// with an identifier) with every column where the format puts it: a line shifted by
// noise or cut short is refused, never read from the wrong columns. Special displays
// (H, L, C, Err ##) are recognised however they are padded.
Result<SbiLine> ParseSbiLine(std::string_view line);

// The reading a print line means: stable → GOOD, no unit → UNSTABLE (in `unit`, the
// balance's configured unit), H → OVERLOAD, L → UNDERLOAD, C and Err → DEVICE_ERROR.
Reading ToReading(const SbiLine& line, const std::string& unit);

// The bytes of the commands (no CR LF needed: the balance acts on ESC and the letter).
inline constexpr std::string_view kPrint = "\x1bP";
inline constexpr std::string_view kAskModel = "\x1bx1_";
inline constexpr std::string_view kAskSerialNumber = "\x1bx2_";
inline constexpr std::string_view kAskSoftwareVersion = "\x1bx3_";

}  // namespace labtrace::sbi
