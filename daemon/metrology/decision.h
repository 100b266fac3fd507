// Statements of conformity under ILAC-G8:09/2019 decision rules. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "labtrace/metrology.pb.h"
#include "labtrace/status.h"

namespace labtrace::metrology {

// A tolerance: either limit may be absent (a one-sided specification).
struct Tolerance {
  std::optional<double> lower;
  std::optional<double> upper;
};

// Decides on measured value `value` with standard uncertainty `u` and expanded
// uncertainty `expanded` (U = k·u). Guard band w = r·U for guarded and non-binary rules.
//   simple:     pass inside the tolerance, fail outside.
//   guarded:    pass inside the acceptance limits (tolerance narrowed by w), else fail.
//   non-binary: pass inside the acceptance limits; conditional pass inside the tolerance
//               but not the acceptance limits; conditional fail outside the tolerance but
//               within w of it; fail beyond.
// Probabilities assume a normal distribution of the true value, mean `value`, σ = `u`.
Result<Decision> Decide(double value, double u, double expanded, const Tolerance& tolerance,
                        const DecisionRule& rule);

// Parses the CLI's rule spelling: "simple", "guarded[:r]", "nonbinary[:r]".
Result<DecisionRule> ParseDecisionRule(std::string_view text);

// "pass", "conditional pass", "conditional fail", "fail".
std::string StatementWords(Statement statement);

}  // namespace labtrace::metrology
