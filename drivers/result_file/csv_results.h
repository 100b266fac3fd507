// Result files: the CSV an instrument's own software writes (a moisture analyser's PC, a
// spectrometer's export), read by a layout the lab-config gives. Pure: bytes and a layout
// in, rows of values or the first problem out, with its line and column; no I/O, no
// clock, no time zones (a row's time is the civil time the file wrote, which the caller
// places in the profile's zone). Fuzzed by tests/fuzz/result_file_fuzz.cpp.
//
// The file (RFC 4180, as spreadsheet programs write it, with the lab's delimiter):
//   - UTF-8, optionally with a byte-order mark; lines end in LF or CR LF;
//   - the first line is a header naming the columns; columns are found by name, so their
//     order and any other columns do not matter;
//   - a field may be quoted ("…", a quote inside written ""), and may then hold the
//     delimiter or a line end; an unquoted field may not hold a quote;
//   - every row has as many fields as the header; empty lines are skipped;
//   - a value is a number (sign, digits, one decimal point or, with decimal comma, one
//     comma, an optional exponent), blanks around it ignored; never empty, never NaN.
// A file is taken whole or not at all: the first problem refuses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labtrace/status.h"

namespace labtrace::result_file {

inline constexpr std::string_view kDefaultTimestampFormat = "%Y-%m-%d %H:%M:%S";

struct ValueColumn {
  std::string column;  // the header's name
  std::string channel;
  std::string unit;
};

// What the codec needs of a ResultFileProfile.
struct Layout {
  char delimiter = ',';
  bool decimal_comma = false;
  std::string timestamp_column;
  std::string timestamp_format{kDefaultTimestampFormat};
  std::string sample_id_column;   // "": none
  std::string instrument_column;  // "": none
  std::vector<ValueColumn> values;
};

// A time as the file wrote it, in no particular zone.
struct CivilTime {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  uint32_t nanosecond = 0;
};

struct ResultValue {
  double value = 0;
  int decimals = 0;  // as written: "12,50" has 2
};

struct ResultRow {
  size_t line = 0;       // where the row starts, from 1
  size_t time_column = 0;  // where its timestamp field starts, from 1, in characters
  size_t instrument_column = 0;  // where its instrument field starts (0: none)
  std::string text;      // the row as the file has it, without its line end: the evidence
  CivilTime time;
  std::string sample_id, instrument;  // "" when the layout names no such column
  std::vector<ResultValue> values;    // one per Layout::values, in order
};

// Ok when `format` can read times: %Y, %m, %d, %H and %M each once, %S and %f (a fraction
// of a second, 1 to 9 digits) at most once, %% for a percent sign, no other directive.
Status CheckTimestampFormat(std::string_view format);

// `text` read by `format` (CheckTimestampFormat'ed): the whole of it, a real date and
// time of day. A refusal says at which character of `text` (from 1) and what is wrong.
Result<CivilTime> ParseTimestamp(std::string_view text, std::string_view format);

// The rows of a result file, or the first problem: "line 4, column 17 (\"Moisture (%)\"):
// \"12,x\" is not a number: …". Columns count characters from 1.
Result<std::vector<ResultRow>> ParseResultFile(std::string_view bytes, const Layout& layout);

}  // namespace labtrace::result_file
