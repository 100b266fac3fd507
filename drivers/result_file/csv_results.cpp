#include "result_file/csv_results.h"

#include <array>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "text_link/printed_number.h"

namespace labtrace::result_file {

namespace {

using text::Shown;

// The length of the well-formed UTF-8 sequence at `at` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0. Protobuf strings must be UTF-8, and a sample
// id goes into one.
size_t Utf8Length(std::string_view bytes, size_t at) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[at + k]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (at + length > bytes.size()) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// One field of a record as the file has it: its text (quotes undone) and where it starts.
struct Field {
  std::string text;
  size_t line = 0, column = 0;
};

struct Record {
  size_t first = 0, end = 0;  // its bytes in the file, line end excluded
  std::vector<Field> fields;
};

// Splits the file into records of fields. Keeps line and column (characters) as it goes.
class Scanner {
 public:
  Scanner(std::string_view bytes, char delimiter) : bytes_(bytes), delimiter_(delimiter) {
    if (bytes_.starts_with("\xEF\xBB\xBF")) at_ = 3;  // a spreadsheet's byte-order mark
  }

  bool done() const { return at_ >= bytes_.size(); }

  // The next record; an empty line gives a record with one empty field.
  Result<Record> Next() {
    Record record;
    record.first = at_;
    for (;;) {
      Field field{"", line_, column_};
      bool quoted = false;
      if (Peek() == '"') {
        quoted = true;
        if (Status s = Advance(); !s.ok()) return Error(s);
        for (;;) {
          if (done()) return Error(Problem(field.line, field.column, "a quoted field is not closed: add the closing \""));
          if (Peek() == '"') {
            if (Status s = Advance(); !s.ok()) return Error(s);
            if (Peek() != '"') break;  // the closing quote
          }
          const size_t from = at_;
          if (Status s = Advance(); !s.ok()) return Error(s);
          field.text.append(bytes_.substr(from, at_ - from));
        }
      }
      while (!done() && Peek() != delimiter_ && Peek() != '\n' && !AtCrLf()) {
        if (quoted) {
          return Error(Problem(line_, column_, fmt::format("'{}' after a quoted field's closing quote; put the "
                                                           "whole field in quotes",
                                                           Shown(bytes_.substr(at_, 1)))));
        }
        if (Peek() == '"') {
          return Error(Problem(line_, column_, "a quote inside an unquoted field; quote the field and write the "
                                               "quote twice (\"\")"));
        }
        const size_t from = at_;
        if (Status s = Advance(); !s.ok()) return Error(s);
        field.text.append(bytes_.substr(from, at_ - from));
      }
      record.fields.push_back(std::move(field));
      if (!done() && Peek() == delimiter_) {
        ++at_;
        ++column_;
        continue;
      }
      record.end = at_;
      if (AtCrLf()) ++at_;
      if (!done()) ++at_;  // '\n'
      ++line_;
      column_ = 1;
      return record;
    }
  }

  Status Problem(size_t line, size_t column, std::string_view what) const {
    return InvalidArgument(fmt::format("line {}, column {}: {}", line, column, what));
  }
  // The same about a field of a named column.
  Status Problem(const Field& field, std::string_view column_name, std::string_view what) const {
    return InvalidArgument(
        fmt::format("line {}, column {} (\"{}\"): {}", field.line, field.column, Shown(column_name), what));
  }

 private:
  char Peek() const { return done() ? '\0' : bytes_[at_]; }
  bool AtCrLf() const { return Peek() == '\r' && at_ + 1 < bytes_.size() && bytes_[at_ + 1] == '\n'; }

  // Past one character, checked: UTF-8, and no control character but tab and, inside
  // quotes, line ends.
  Status Advance() {
    const unsigned char c = static_cast<unsigned char>(bytes_[at_]);
    const size_t length = Utf8Length(bytes_, at_);
    if (length == 0) {
      return Problem(line_, column_, fmt::format("byte 0x{:02X} is not UTF-8; save the file as UTF-8", c));
    }
    if (c == '\n') {
      ++at_;
      ++line_;
      column_ = 1;
      return OkStatus();
    }
    if (c == '\r' && !AtCrLf()) {
      return Problem(line_, column_, "a carriage return without a line feed; lines end in LF or CR LF");
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
      return Problem(line_, column_, fmt::format("control character 0x{:02X}; a result file is text", c));
    }
    at_ += length;
    ++column_;
    return OkStatus();
  }

  std::string_view bytes_;
  char delimiter_;
  size_t at_ = 0, line_ = 1, column_ = 1;
};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool IsEmptyLine(const Record& record) { return record.fields.size() == 1 && record.fields[0].text.empty(); }

unsigned DaysIn(int year, unsigned month) {
  constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Result<ResultValue> ParseValue(std::string_view text, bool decimal_comma) {
  const std::string_view number = Trim(text);
  if (number.empty()) return Error(InvalidArgument("is empty; every result cell needs a number"));
  std::string written(number);
  if (decimal_comma) {
    if (written.find('.') != std::string::npos) {
      return Error(InvalidArgument(fmt::format("\"{}\" has a decimal point, but this profile writes decimal commas "
                                               "(decimal_comma: true)",
                                               Shown(number))));
    }
    for (char& c : written) c = c == ',' ? '.' : c;
  } else if (written.find(',') != std::string::npos) {
    return Error(InvalidArgument(fmt::format("\"{}\" has a comma; if the file writes decimal commas, set "
                                             "decimal_comma: true in its profile",
                                             Shown(number))));
  }
  auto parsed = text::ParsePrintedNumber(written, text::Exponent::kAllowed);
  if (!parsed) return Error(InvalidArgument(fmt::format("\"{}\" is not a number", Shown(number))));
  return ResultValue{parsed->value, parsed->decimals};
}

}  // namespace

Status CheckTimestampFormat(std::string_view format) {
  std::map<char, int> seen;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size()) return InvalidArgument("the format ends in a lone %; write %% for a percent sign");
    const char directive = format[++i];
    if (directive == '%') continue;
    if (std::string_view("YmdHMSf").find(directive) == std::string_view::npos) {
      return InvalidArgument(fmt::format("%{} is not a directive here; use %Y %m %d %H %M %S %f or %%",
                                         Shown(std::string_view(&directive, 1))));
    }
    if (++seen[directive] > 1) return InvalidArgument(fmt::format("%{} appears twice", directive));
  }
  for (char needed : std::string_view("YmdHM")) {
    if (seen[needed] == 0) return InvalidArgument(fmt::format("%{} is missing: a time needs %Y %m %d %H %M", needed));
  }
  return OkStatus();
}

Result<CivilTime> ParseTimestamp(std::string_view text, std::string_view format) {
  CivilTime time;
  size_t at = 0;
  auto refuse = [&](std::string_view what) {
    return Error(InvalidArgument(fmt::format("\"{}\" does not match \"{}\" at character {}: {}", Shown(text),
                                             Shown(format), at + 1, what)));
  };
  // Reads min..max digits, as many as there are.
  auto digits = [&](size_t min, size_t max, uint64_t& value, size_t& count) {
    value = 0;
    count = 0;
    while (count < max && at < text.size() && text[at] >= '0' && text[at] <= '9') {
      value = value * 10 + static_cast<uint64_t>(text[at++] - '0');
      ++count;
    }
    return count >= min;
  };
  for (size_t i = 0; i < format.size(); ++i) {
    const bool directive_here = format[i] == '%' && i + 1 < format.size() && format[i + 1] != '%';
    if (!directive_here) {
      if (format[i] == '%' && i + 1 < format.size()) ++i;  // %% is a percent sign
      if (at >= text.size() || text[at] != format[i]) {
        return refuse(fmt::format("'{}' expected", Shown(format.substr(i, 1))));
      }
      ++at;
      continue;
    }
    const char directive = format[++i];
    uint64_t value = 0;
    size_t count = 0;
    const bool year = directive == 'Y', fraction = directive == 'f';
    if (!digits(year ? 4 : 1, year ? 4 : fraction ? 9 : 2, value, count)) {
      return refuse(year ? "a 4-digit year expected" : fraction ? "digits of a second expected" : "a number expected");
    }
    switch (directive) {
      case 'Y': time.year = static_cast<int>(value); break;
      case 'm': time.month = static_cast<unsigned>(value); break;
      case 'd': time.day = static_cast<unsigned>(value); break;
      case 'H': time.hour = static_cast<unsigned>(value); break;
      case 'M': time.minute = static_cast<unsigned>(value); break;
      case 'S': time.second = static_cast<unsigned>(value); break;
      case 'f':
        for (size_t k = count; k < 9; ++k) value *= 10;
        time.nanosecond = static_cast<uint32_t>(value);
        break;
    }
  }
  if (at != text.size()) return refuse("more than the format holds");
  if (time.year < 1970 || time.month < 1 || time.month > 12 || time.day < 1 ||
      time.day > DaysIn(time.year, time.month)) {
    return Error(InvalidArgument(fmt::format("\"{}\" is not a date from 1970 on", Shown(text))));
  }
  if (time.hour > 23 || time.minute > 59 || time.second > 59) {
    return Error(InvalidArgument(fmt::format("\"{}\" is not a time of day", Shown(text))));
  }
  return time;
}

Result<std::vector<ResultRow>> ParseResultFile(std::string_view bytes, const Layout& layout) {
  Scanner scanner(bytes, layout.delimiter);
  Record header;
  do {
    if (scanner.done()) return Error(InvalidArgument("line 1: the file is empty; it needs a header and results"));
    auto record = scanner.Next();
    if (!record) return Error(record.error());
    header = std::move(*record);
  } while (IsEmptyLine(header));

  // Each column the layout names, found in the header by name.
  std::map<std::string, size_t, std::less<>> by_name;
  std::string names;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const Field& field = header.fields[i];
    const std::string name(Trim(field.text));
    if (!by_name.emplace(name, i).second) {
      return Error(scanner.Problem(field.line, field.column, fmt::format("the header names \"{}\" twice", Shown(name))));
    }
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", Shown(name));
  }
  auto column_of = [&](std::string_view name) -> Result<size_t> {
    const auto found = by_name.find(name);
    if (found == by_name.end()) {
      return Error(InvalidArgument(fmt::format("line {}: the header has no column \"{}\" (it has {}); fix the "
                                               "profile or the file",
                                               header.fields[0].line, Shown(name), names)));
    }
    return found->second;
  };
  auto time_column = column_of(layout.timestamp_column);
  if (!time_column) return Error(time_column.error());
  std::vector<size_t> value_columns;
  for (const ValueColumn& value : layout.values) {
    auto column = column_of(value.column);
    if (!column) return Error(column.error());
    value_columns.push_back(*column);
  }
  std::optional<size_t> sample_column, instrument_column;
  if (!layout.sample_id_column.empty()) {
    auto column = column_of(layout.sample_id_column);
    if (!column) return Error(column.error());
    sample_column = *column;
  }
  if (!layout.instrument_column.empty()) {
    auto column = column_of(layout.instrument_column);
    if (!column) return Error(column.error());
    instrument_column = *column;
  }

  std::vector<ResultRow> rows;
  while (!scanner.done()) {
    auto record = scanner.Next();
    if (!record) return Error(record.error());
    if (IsEmptyLine(*record)) continue;
    const Field& first = record->fields[0];
    if (record->fields.size() != header.fields.size()) {
      return Error(scanner.Problem(first.line, first.column,
                                   fmt::format("{} fields, but the header has {}; is a delimiter missing, or one too "
                                               "many?",
                                               record->fields.size(), header.fields.size())));
    }
    ResultRow row;
    row.line = first.line;
    row.text = std::string(bytes.substr(record->first, record->end - record->first));
    const Field& time = record->fields[*time_column];
    row.time_column = time.column;
    auto parsed_time = ParseTimestamp(Trim(time.text), layout.timestamp_format);
    if (!parsed_time) {
      return Error(scanner.Problem(time, layout.timestamp_column, parsed_time.error().message()));
    }
    row.time = *parsed_time;
    for (size_t v = 0; v < value_columns.size(); ++v) {
      const Field& cell = record->fields[value_columns[v]];
      auto value = ParseValue(cell.text, layout.decimal_comma);
      if (!value) {
        return Error(scanner.Problem(cell, layout.values[v].column, value.error().message()));
      }
      row.values.push_back(*value);
    }
    if (sample_column) {
      const Field& cell = record->fields[*sample_column];
      row.sample_id = std::string(Trim(cell.text));
      if (row.sample_id.empty()) {
        return Error(scanner.Problem(cell, layout.sample_id_column, "the sample id is empty"));
      }
    }
    if (instrument_column) {
      const Field& cell = record->fields[*instrument_column];
      row.instrument = std::string(Trim(cell.text));
      row.instrument_column = cell.column;
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) {
    return Error(InvalidArgument(fmt::format("line {}: no results after the header", header.fields[0].line)));
  }
  return rows;
}

}  // namespace labtrace::result_file
