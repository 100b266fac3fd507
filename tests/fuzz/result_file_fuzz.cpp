// Fuzzes the result-file (CSV) codec. The first byte picks one of three layouts (comma
// and decimal point; the demo lab's semicolon and decimal comma with Vietnamese headers;
// tab with fractions of a second and an instrument column); the rest is the file.
// Oracles, none borrowing the codec's own reading:
//   - a file is taken only if it is UTF-8 (checked here by a decoder of its own) with no
//     control characters but tab and line ends;
//   - every row's time is a real date (std::chrono's calendar) and time of day;
//   - a row whose text holds no quote is split here on the delimiter, and each result
//     cell means, read by strtod, the value and decimals the codec gave; the sample id
//     is that cell trimmed;
//   - the rows written out again as a CSV of our own (every field quoted, the layout's
//     delimiter and decimal sign) parse back to the same rows.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "result_file/csv_results.h"
#include "text_oracle.h"

namespace {

using labtrace::result_file::Layout;
using labtrace::result_file::ResultRow;

const std::vector<Layout>& Layouts() {
  static const std::vector<Layout> layouts = [] {
    std::vector<Layout> all(3);
    all[0].delimiter = ',';
    all[0].timestamp_column = "time";
    all[0].sample_id_column = "sample";
    all[0].values = {{"value", "value", "g"}};
    all[1].delimiter = ';';
    all[1].decimal_comma = true;
    all[1].timestamp_column = "Ngày giờ";
    all[1].timestamp_format = "%d/%m/%Y %H:%M:%S";
    all[1].sample_id_column = "Mã mẫu";
    all[1].values = {{"Độ ẩm (%)", "moisture", "%"}, {"Khối lượng đầu (g)", "initial_mass", "g"}};
    all[2].delimiter = '\t';
    all[2].timestamp_column = "t";
    all[2].timestamp_format = "%Y-%m-%dT%H:%M:%S.%f";
    all[2].instrument_column = "instrument";
    all[2].values = {{"a", "a", "V"}, {"b", "b", "V"}};
    return all;
  }();
  return layouts;
}

// UTF-8 by the book (RFC 3629, table 3-7 of the Unicode standard), code point by code point.
bool IsUtf8Text(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    uint32_t point = 0;
    size_t n = 0;
    if (c < 0x80) point = c, n = 1;
    else if ((c >> 5) == 0x6) point = c & 0x1F, n = 2;
    else if ((c >> 4) == 0xE) point = c & 0x0F, n = 3;
    else if ((c >> 3) == 0x1E) point = c & 0x07, n = 4;
    else return false;
    if (i + n > bytes.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      if ((next >> 6) != 0x2) return false;
      point = (point << 6) | (next & 0x3F);
    }
    const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (point < least[n] || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) return false;
    if ((point < 0x20 && point != '\t' && point != '\n' && point != '\r') || point == 0x7F) return false;
    i += n;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view text, char delimiter) {
  std::vector<std::string_view> fields;
  for (size_t from = 0;;) {
    const size_t at = text.find(delimiter, from);
    fields.push_back(text.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return fields;
    from = at + 1;
  }
}

std::string Quoted(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// The time written back in the layout's format, every field in full.
std::string Written(const labtrace::result_file::CivilTime& t, std::string_view format) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out += format[i];
      continue;
    }
    switch (format[++i]) {
      case 'Y': out += fmt::format("{:04}", t.year); break;
      case 'm': out += fmt::format("{:02}", t.month); break;
      case 'd': out += fmt::format("{:02}", t.day); break;
      case 'H': out += fmt::format("{:02}", t.hour); break;
      case 'M': out += fmt::format("{:02}", t.minute); break;
      case 'S': out += fmt::format("{:02}", t.second); break;
      case 'f': out += fmt::format("{:09}", t.nanosecond); break;
      default: out += format[i];
    }
  }
  return out;
}

std::string Number(double value, bool decimal_comma) {
  std::string text = fmt::format("{:.17e}", value);  // enough digits to read back the same double
  if (decimal_comma) {
    for (char& c : text) c = c == '.' ? ',' : c;
  }
  return text;
}

void CheckRow(const Layout& layout, const std::vector<std::string_view>& header, const ResultRow& row) {
  const auto& t = row.time;
  using namespace std::chrono;
  if (!year_month_day(year(t.year), month(t.month), day(t.day)).ok() || t.year < 1970) __builtin_trap();
  if (t.hour > 23 || t.minute > 59 || t.second > 59 || t.nanosecond > 999'999'999) __builtin_trap();
  if (row.values.size() != layout.values.size()) __builtin_trap();
  if (row.text.find('"') != std::string::npos || row.text.find('\n') != std::string::npos) return;
  const auto fields = Split(row.text, layout.delimiter);
  if (fields.size() != header.size()) __builtin_trap();
  auto cell = [&](std::string_view name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (labtrace::fuzz::Trim(header[i], " \t") == name) return labtrace::fuzz::Trim(fields[i], " \t");
    }
    __builtin_trap();
  };
  for (size_t v = 0; v < layout.values.size(); ++v) {
    std::string text(cell(layout.values[v].column));
    if (layout.decimal_comma) {
      for (char& c : text) c = c == ',' ? '.' : c;
    }
    if (!labtrace::fuzz::Means(text, row.values[v].value, row.values[v].decimals)) __builtin_trap();
  }
  if (!layout.sample_id_column.empty() && row.sample_id != cell(layout.sample_id_column)) __builtin_trap();
  if (!layout.instrument_column.empty() && row.instrument != cell(layout.instrument_column)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Layout& layout = Layouts()[data[0] % Layouts().size()];
  std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto rows = labtrace::result_file::ParseResultFile(file, layout);
  if (!rows) {
    if (rows.error().message().empty()) __builtin_trap();
    return 0;
  }
  const std::string_view text = file.starts_with("\xEF\xBB\xBF") ? file.substr(3) : file;
  if (!IsUtf8Text(text)) __builtin_trap();
  if (rows->empty()) __builtin_trap();

  // The header, when it is a plain first line, for the cell-by-cell oracle.
  std::vector<std::string_view> header;
  std::string_view first_line = text.substr(0, text.find('\n'));
  if (first_line.ends_with('\r')) first_line.remove_suffix(1);
  const bool plain_header = !first_line.empty() && first_line.find('"') == std::string_view::npos &&
                            first_line.find('\r') == std::string_view::npos;
  if (plain_header) header = Split(first_line, layout.delimiter);
  size_t previous_line = 0;
  for (const ResultRow& row : *rows) {
    if (row.line <= previous_line) __builtin_trap();  // rows in file order
    previous_line = row.line;
    if (plain_header) CheckRow(layout, header, row);
  }

  // Written again, every field quoted: the same rows come back.
  const char d = layout.delimiter;
  std::vector<std::string> names{layout.timestamp_column};
  for (const auto& v : layout.values) names.push_back(v.column);
  if (!layout.sample_id_column.empty()) names.push_back(layout.sample_id_column);
  if (!layout.instrument_column.empty()) names.push_back(layout.instrument_column);
  std::string again;
  for (size_t i = 0; i < names.size(); ++i) again += (i ? std::string(1, d) : "") + Quoted(names[i]);
  again += "\r\n";
  for (const ResultRow& row : *rows) {
    again += Quoted(Written(row.time, layout.timestamp_format));
    for (const auto& value : row.values) again += d + Quoted(Number(value.value, layout.decimal_comma));
    if (!layout.sample_id_column.empty()) again += d + Quoted(row.sample_id);
    if (!layout.instrument_column.empty()) again += d + Quoted(row.instrument);
    again += "\n";
  }
  auto reread = labtrace::result_file::ParseResultFile(again, layout);
  if (!reread || reread->size() != rows->size()) __builtin_trap();
  for (size_t r = 0; r < rows->size(); ++r) {
    const ResultRow &a = (*rows)[r], &b = (*reread)[r];
    if (a.sample_id != b.sample_id || a.instrument != b.instrument) __builtin_trap();
    if (a.time.year != b.time.year || a.time.month != b.time.month || a.time.day != b.time.day ||
        a.time.hour != b.time.hour || a.time.minute != b.time.minute || a.time.second != b.time.second ||
        a.time.nanosecond != b.time.nanosecond) {
      __builtin_trap();
    }
    for (size_t v = 0; v < a.values.size(); ++v) {
      if (a.values[v].value != b.values[v].value) __builtin_trap();
    }
  }
  return 0;
}
