#include "metrology/decision.h"

#include <charconv>
#include <cmath>

#include <boost/math/distributions/normal.hpp>
#include <fmt/format.h>

namespace labtrace::metrology {

namespace {

bool Inside(double value, const std::optional<double>& lower, const std::optional<double>& upper,
            bool inclusive) {
  if (lower && (inclusive ? value < *lower : value <= *lower)) return false;
  if (upper && (inclusive ? value > *upper : value >= *upper)) return false;
  return true;
}

}  // namespace

Result<Decision> Decide(double value, double u, double expanded, const Tolerance& tolerance,
                        const DecisionRule& rule) {
  if (!tolerance.lower && !tolerance.upper) return Error(InvalidArgument("a tolerance needs at least one limit"));
  if (tolerance.lower && tolerance.upper && *tolerance.lower > *tolerance.upper) {
    return Error(InvalidArgument(fmt::format("lower limit {} is above upper limit {}", *tolerance.lower, *tolerance.upper)));
  }
  if (!(u > 0) || !(expanded >= u)) {
    return Error(InvalidArgument("u must be > 0 and U = k·u at least u"));
  }
  if (rule.kind() == DECISION_RULE_UNSPECIFIED) return Error(InvalidArgument("no decision rule given"));
  const double r = rule.has_guard_factor() ? rule.guard_factor() : 1.0;
  if (!(r >= 0)) return Error(InvalidArgument("guard factor must be ≥ 0"));
  const double w = rule.kind() == SIMPLE_ACCEPTANCE ? 0.0 : r * expanded;

  Decision decision;
  decision.set_guard_band(w);
  std::optional<double> accept_low, accept_high, reject_low, reject_high;
  if (tolerance.lower) {
    accept_low = *tolerance.lower + w;
    reject_low = *tolerance.lower - w;
    decision.set_lower_acceptance_limit(*accept_low);
  }
  if (tolerance.upper) {
    accept_high = *tolerance.upper - w;
    reject_high = *tolerance.upper + w;
    decision.set_upper_acceptance_limit(*accept_high);
  }
  if (accept_low && accept_high && *accept_low > *accept_high) {
    return Error(InvalidArgument(fmt::format(
        "the guard band w = {} leaves no acceptance zone: the uncertainty is too large for this tolerance", w)));
  }

  const bool inclusive = rule.limits_inclusive();
  const bool in_acceptance = Inside(value, accept_low, accept_high, inclusive);
  const bool in_tolerance = Inside(value, tolerance.lower, tolerance.upper, inclusive);
  Statement statement = FAIL;
  switch (rule.kind()) {
    case SIMPLE_ACCEPTANCE:
    case GUARDED_ACCEPTANCE:
      statement = in_acceptance ? PASS : FAIL;
      break;
    case NON_BINARY:
      if (in_acceptance) statement = PASS;
      else if (in_tolerance) statement = CONDITIONAL_PASS;
      else if (Inside(value, reject_low, reject_high, inclusive)) statement = CONDITIONAL_FAIL;
      else statement = FAIL;
      break;
    default:
      return Error(InvalidArgument("unknown decision rule"));
  }
  decision.set_statement(statement);

  const boost::math::normal_distribution<double> truth(value, u);
  const double below = tolerance.lower ? boost::math::cdf(truth, *tolerance.lower) : 0.0;
  const double above = tolerance.upper ? boost::math::cdf(boost::math::complement(truth, *tolerance.upper)) : 0.0;
  decision.set_probability_below_lower(below);
  decision.set_probability_above_upper(above);
  decision.set_probability_outside(below + above);
  const bool accepted = statement == PASS || statement == CONDITIONAL_PASS;
  decision.set_false_accept_probability(accepted ? below + above : 0.0);
  decision.set_false_reject_probability(accepted ? 0.0 : 1.0 - (below + above));
  return decision;
}

Result<DecisionRule> ParseDecisionRule(std::string_view text) {
  DecisionRule rule;
  rule.set_limits_inclusive(true);
  const size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  if (name == "simple") rule.set_kind(SIMPLE_ACCEPTANCE);
  else if (name == "guarded") rule.set_kind(GUARDED_ACCEPTANCE);
  else if (name == "nonbinary") rule.set_kind(NON_BINARY);
  else {
    return Error(InvalidArgument(fmt::format("rule \"{}\": use simple, guarded[:r] or nonbinary[:r]", text)));
  }
  if (colon != std::string_view::npos) {
    if (rule.kind() == SIMPLE_ACCEPTANCE) {
      return Error(InvalidArgument("simple acceptance has no guard band (w = 0); drop the \":r\""));
    }
    const std::string_view factor = text.substr(colon + 1);
    double r = 0;
    auto [end, ec] = std::from_chars(factor.data(), factor.data() + factor.size(), r);
    if (ec != std::errc() || end != factor.data() + factor.size() || !(r >= 0)) {
      return Error(InvalidArgument(fmt::format("guard factor \"{}\" is not a number ≥ 0", factor)));
    }
    rule.set_guard_factor(r);
  }
  return rule;
}

std::string StatementWords(Statement statement) {
  switch (statement) {
    case PASS: return "pass";
    case CONDITIONAL_PASS: return "conditional pass";
    case CONDITIONAL_FAIL: return "conditional fail";
    case FAIL: return "fail";
    default: return "no statement";
  }
}

}  // namespace labtrace::metrology
