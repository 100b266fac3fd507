// Mettler Toledo MT-SICS (Standard Interface Command Set) levels 0 and 1: parsing of
// one reply line. Pure; no I/O; fuzzable.
//
// Reference: MT-SICS Reference Manual for Excellence balances, §2.2 (command formats:
// upper-case command, space-separated fields, CR LF), §3 "S", "SI", "I2", "I3", "I4",
// and §2.3 (general error replies ES, ET, EL).
#pragma once

#include <string>
#include <string_view>

#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::mtsics {

struct SicsReply {
  enum class Kind {
    kWeight,          // "S S  100.00 g" (stable) or "S D  100.01 g" (dynamic)
    kNotExecutable,   // "S I": busy, or no stability before the balance's timeout
    kOverload,        // "S +"
    kUnderload,       // "S -"
    kSyntaxError,     // "ES": the balance did not recognise the command
    kTransmissionError,  // "ET": parity or framing error on the balance's side
    kLogicalError,    // "EL" or "<cmd> L": the command cannot be carried out now
    kIdentification,  // "I2 A "…"", "I3 A "…"", "I4 A "…""
  };
  Kind kind = Kind::kWeight;
  std::string command;  // first field of the reply: "S", "I2", …
  bool stable = false;
  double value = 0;
  std::string unit;
  int decimals = -1;  // digits after the decimal point, as the balance showed them
  std::string text;   // the quoted text of an identification reply
};

// Parses one line without its CR LF terminator. Fields are padded with spaces of any
// width, so the line is split into tokens, never cut by column. Anything that is not a
// complete, known reply (garbage, a truncated line, a value that is not a number) is an
// InvalidArgument error: a value is never taken from a line that does not parse whole.
Result<SicsReply> ParseSicsLine(std::string_view line);

// The reading a weighing reply means: stable → GOOD, dynamic → UNSTABLE, and every
// error reply → its quality flag with the reason in words.
Reading ToReading(const SicsReply& reply);

}  // namespace labtrace::mtsics
