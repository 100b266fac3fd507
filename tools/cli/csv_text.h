// CSV as RFC 4180 writes it: fields separated by commas, records ended by CRLF, and a
// field holding a comma, a double quote, CR or LF enclosed in double quotes with each of
// its quotes doubled. Spreadsheets and pandas read it back field for field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace labtrace::cli {

std::string CsvField(std::string_view text);
// The fields as one record, CRLF included.
std::string CsvRecord(const std::vector<std::string>& fields);

}  // namespace labtrace::cli
