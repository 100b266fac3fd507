#include "report/report_labels.h"

#include <fmt/format.h>

#include <cassert>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace labtrace::report {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool IsKey(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t length;
    uint32_t code;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      length = 2, code = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      length = 3, code = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      length = 4, code = b & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      code = (code << 6) | (c & 0x3F);
    }
    constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += length;
  }
  return true;
}

Result<ReportLabels> ReportLabels::Parse(std::string_view text, std::string origin) {
  ReportLabels labels;
  labels.origin_ = std::move(origin);
  unsigned line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = Trim(text.substr(pos, end - pos));
    ++line_number;
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](std::string what) {
      return Error(InvalidArgument(fmt::format("{}:{}: {}", labels.origin_, line_number, what)));
    };
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) return fail("expected \"key = text\"");
    const std::string_view key = Trim(line.substr(0, equals));
    const std::string_view value = Trim(line.substr(equals + 1));
    if (!IsKey(key))
      return fail(fmt::format("\"{}\" is not a key: lower-case letters, digits and _", key));
    if (value.empty()) return fail(fmt::format("{} has no text", key));
    if (!IsUtf8(value))
      return fail(fmt::format("the text of {} is not UTF-8; save the file as UTF-8", key));
    if (!labels.texts_.emplace(std::string(key), std::string(value)).second) {
      return fail(fmt::format("{} is given twice", key));
    }
  }
  return labels;
}

Result<ReportLabels> ReportLabels::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(NotFound(fmt::format("{}: cannot be read", path)));
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const std::string& ReportLabels::operator[](std::string_view key) const {
  const auto it = texts_.find(key);
  assert(it != texts_.end() && "a label the form did not check at load");
  static const std::string kMissing;
  return it == texts_.end() ? kMissing : it->second;
}

}  // namespace labtrace::report
