// The generic line driver's codec: a regular expression from lab-config, with named
// groups, picks a value (and maybe its unit and channel) out of one printed line. Pure;
// no I/O; fuzzable.
//
// Patterns use Perl syntax (Boost.Regex): "T=\s*(?<value>[-+]?[0-9.]+)\s*(?<unit>°C)".
// Boost.Regex gives up with an error, instead of running for ever, on a pattern that
// backtracks catastrophically, so an instrument's line can never hang the daemon.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "labtrace/status.h"

namespace labtrace::line {

struct LineValue {
  double value = 0;
  int decimals = 0;
  std::string unit;     // from the "unit" group; empty when the pattern has none
  std::string channel;  // from the "channel" group; empty when the pattern has none
};

class LinePattern {
 public:
  // InvalidArgument when the pattern does not compile (with where and why), or has no
  // group named "value".
  static Result<LinePattern> Compile(const std::string& pattern);
  // A pattern only matched, never read (skip_pattern): needs no groups.
  static Result<LinePattern> CompileFilter(const std::string& pattern);

  // Whether the whole line matches (a search would take a value from a line that only
  // contains one somewhere). InvalidArgument when it does not, or when the value group
  // is not a plain decimal number (a decimal point, not a comma; an exponent allowed).
  Result<LineValue> Read(std::string_view line) const;
  // True when the whole line matches: for skip patterns.
  bool Matches(std::string_view line) const;

  bool has_unit() const { return has_unit_; }
  bool has_channel() const { return has_channel_; }

 private:
  struct Compiled;
  explicit LinePattern(std::shared_ptr<const Compiled> compiled);
  std::shared_ptr<const Compiled> compiled_;
  bool has_unit_ = false;
  bool has_channel_ = false;
};

}  // namespace labtrace::line
