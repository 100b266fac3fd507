#include "line/pattern.h"

#include <boost/regex.hpp>
#include <fmt/format.h>

#include "text_link/printed_number.h"

namespace labtrace::line {

struct LinePattern::Compiled {
  boost::regex regex;
  std::string text;
};

LinePattern::LinePattern(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {
  has_unit_ = compiled_->text.find("(?<unit>") != std::string::npos;
  has_channel_ = compiled_->text.find("(?<channel>") != std::string::npos;
}

Result<LinePattern> LinePattern::Compile(const std::string& pattern) {
  auto compiled = CompileFilter(pattern);
  if (compiled && pattern.find("(?<value>") == std::string::npos) {
    return Error(InvalidArgument(fmt::format("pattern \"{}\" has no group (?<value>…) for the value", pattern)));
  }
  return compiled;
}

Result<LinePattern> LinePattern::CompileFilter(const std::string& pattern) {
  auto compiled = std::make_shared<Compiled>();
  compiled->text = pattern;
  try {
    compiled->regex.assign(pattern, boost::regex::perl);
  } catch (const boost::regex_error& error) {
    return Error(InvalidArgument(
        fmt::format("pattern \"{}\" does not compile at character {}: {}", pattern, error.position(), error.what())));
  }
  return LinePattern(std::move(compiled));
}

bool LinePattern::Matches(std::string_view line) const {
  try {
    return boost::regex_match(line.begin(), line.end(), compiled_->regex);
  } catch (const std::runtime_error&) {  // too complex for this line: not a match
    return false;
  }
}

Result<LineValue> LinePattern::Read(std::string_view line) const {
  boost::match_results<std::string_view::const_iterator> match;
  try {
    if (!boost::regex_match(line.begin(), line.end(), match, compiled_->regex)) {
      return Error(InvalidArgument(fmt::format("line \"{}\" does not match the pattern \"{}\"", text::Shown(line), compiled_->text)));
    }
  } catch (const std::runtime_error& error) {
    return Error(InvalidArgument(fmt::format("line \"{}\": the pattern is too complex for it ({})", text::Shown(line), error.what())));
  }
  const auto group = [&match](const char* name) -> std::string {
    const auto& sub = match[name];
    return sub.matched ? std::string(sub.first, sub.second) : std::string();
  };
  const std::string value_text = group("value");
  auto number = text::ParsePrintedNumber(value_text, text::Exponent::kAllowed);
  if (!number) return Error(number.error().Annotate(fmt::format("line \"{}\"", text::Shown(line))));
  LineValue value;
  value.value = number->value;
  value.decimals = number->decimals;
  if (has_unit_) value.unit = group("unit");
  if (has_channel_) value.channel = group("channel");
  return value;
}

}  // namespace labtrace::line
