#include "conformity/review_rules.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include <fmt/format.h>

#include "conformity/formula.h"
#include "conformity/net_quantity.h"
#include "metrology/uncertainty.h"
#include "metrology/units.h"

namespace labtrace::conformity {

namespace {

std::string_view Verb(SignatureMeaning meaning) {
  return meaning == SIGNATURE_MEANING_REVIEWED ? "review" : "approve";
}
std::string_view PastVerb(SignatureMeaning meaning) {
  return meaning == SIGNATURE_MEANING_REVIEWED ? "reviewed" : "approved";
}

}  // namespace

Status MaySign(const config::ReviewPolicy& policy, const TestRun& run, std::string_view signer,
               SignatureMeaning meaning) {
  if (signer.empty()) return InvalidArgument("a signature needs the signer's login name");
  if (meaning != SIGNATURE_MEANING_REVIEWED && meaning != SIGNATURE_MEANING_APPROVED) {
    return InvalidArgument("a signature on a test run means \"reviewed\" or \"approved\"");
  }
  const uint32_t required = policy.required_signatures() == 0 ? 2 : policy.required_signatures();
  if (required > 2) {
    return FailedPrecondition(
        fmt::format("the lab's review policy asks for {} signatures; a test run takes 1 (approval) "
                    "or 2 (review, then approval)",
                    required));
  }
  const std::string& id = run.id();
  switch (run.state()) {
    case RUN_STATE_SUBMITTED:
    case RUN_STATE_REVIEWED:
      break;
    case RUN_STATE_DRAFT:
      return FailedPrecondition(
          fmt::format("{} is a draft: it can be signed once it is submitted", id));
    case RUN_STATE_APPROVED:
      return FailedPrecondition(
          fmt::format("{} is approved already and takes no more signatures", id));
    default:
      return FailedPrecondition(
          fmt::format("{} has not been submitted, so it cannot be signed", id));
  }

  // Which signature is due: the review first when two are required, then the approval.
  const SignatureMeaning due = required == 2 && run.state() == RUN_STATE_SUBMITTED
                                   ? SIGNATURE_MEANING_REVIEWED
                                   : SIGNATURE_MEANING_APPROVED;
  if (meaning != due) {
    if (due == SIGNATURE_MEANING_REVIEWED) {
      return FailedPrecondition(
          fmt::format("{} must be reviewed before it is approved: the lab's review policy asks for "
                      "two signatures, review first",
                      id));
    }
    if (run.state() == RUN_STATE_REVIEWED) {
      return FailedPrecondition(
          fmt::format("{} is reviewed already; the signature still due is its approval", id));
    }
    return FailedPrecondition(fmt::format(
        "{} takes one signature, its approval: the lab's review policy asks for no separate review",
        id));
  }

  if (signer == run.submitted_by() && !policy.allow_self_verification()) {
    return PermissionDenied(
        fmt::format("{} submitted {} and may not also {} it: the lab's review policy does not "
                    "allow self-verification",
                    signer, id, Verb(meaning)));
  }
  // A run's signatures are those of its submitted version: a retest or amendment is a new
  // version that starts with none.
  for (const ElectronicSignature& given : run.signatures()) {
    if (given.statement().signer_user() == signer) {
      return PermissionDenied(
          fmt::format("{} {} {} already and may not also {} it: two signatures must come from "
                      "two people",
                      signer, PastVerb(given.statement().meaning()), id, Verb(meaning)));
    }
  }
  return OkStatus();
}

namespace {

bool IsName(const std::string& name) {
  if (name.empty()) return false;
  auto start = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  return start(name[0]) && std::all_of(name.begin() + 1, name.end(),
                                       [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

Status CheckComponent(const metrology::UncertaintyComponent& component, const std::string& unit,
                      const std::string& field) {
  if (auto u = metrology::StandardUncertainty(component); !u) return u.error().Annotate(field);
  if (!component.uncertainty_unit().empty()) {
    if (auto same = metrology::ConvertDifference(1, component.uncertainty_unit(), unit); !same) {
      return InvalidArgument(
          fmt::format("{}.uncertainty_unit \"{}\" does not convert to \"{}\": {}", field,
                      component.uncertainty_unit(), unit, same.error().message()));
    }
  }
  return OkStatus();
}

Status CheckSteps(const config::TestMethod& method) {
  if (method.steps().empty()) return InvalidArgument("steps: a method needs at least one step");
  std::set<std::string> names;
  for (int i = 0; i < method.steps_size(); ++i) {
    const config::MethodStep& step = method.steps(i);
    const std::string field = fmt::format("steps[{}]", i);
    if (!IsName(step.name())) {
      return InvalidArgument(
          fmt::format("{}.name \"{}\" is not a name a formula can use (letters, digits and _, "
                      "not starting with a digit)",
                      field, step.name()));
    }
    if (!names.insert(step.name()).second) {
      return InvalidArgument(
          fmt::format("{}.name \"{}\" is used by an earlier step", field, step.name()));
    }
    if (step.unit().empty()) return InvalidArgument(fmt::format("{}.unit is empty", field));
    if (step.instrument_kind().empty()) {
      return InvalidArgument(
          fmt::format("{}.instrument_kind is empty: say which kind of instrument takes \"{}\" "
                      "(\"balance\", \"thermometer\", …)",
                      field, step.name()));
    }
    for (int j = 0; j < step.uncertainty_size(); ++j) {
      if (Status s = CheckComponent(step.uncertainty(j), step.unit(),
                                    fmt::format("{}.uncertainty[{}]", field, j));
          !s.ok()) {
        return s;
      }
    }
  }
  return OkStatus();
}

Status CheckFormula(const config::TestMethod& method) {
  auto formula = ParseFormula(method.formula());
  if (!formula) return formula.error().Annotate(fmt::format("formula \"{}\"", method.formula()));
  for (const std::string& name : formula->Names()) {
    const bool is_step =
        std::any_of(method.steps().begin(), method.steps().end(),
                    [&](const config::MethodStep& step) { return step.name() == name; });
    if (!is_step) {
      std::string steps;
      for (const auto& step : method.steps()) steps += (steps.empty() ? "" : ", ") + step.name();
      return InvalidArgument(fmt::format(
          "formula uses \"{}\", which is not one of the method's steps ({})", name, steps));
    }
  }
  return OkStatus();
}

Status CheckJudgement(const config::TestMethod& method) {
  const bool has_limits = method.has_lower_limit() || method.has_upper_limit();
  if (method.has_lower_limit() && !std::isfinite(method.lower_limit())) {
    return InvalidArgument("lower_limit is not a finite number");
  }
  if (method.has_upper_limit() && !std::isfinite(method.upper_limit())) {
    return InvalidArgument("upper_limit is not a finite number");
  }
  if (method.has_lower_limit() && method.has_upper_limit() &&
      method.lower_limit() > method.upper_limit()) {
    return InvalidArgument(fmt::format("lower_limit {} is above upper_limit {}",
                                       method.lower_limit(), method.upper_limit()));
  }
  if (!(method.repeatability_limit() >= 0) || !std::isfinite(method.repeatability_limit())) {
    return InvalidArgument(
        "repeatability_limit must be a finite number ≥ 0 (0: the method sets none)");
  }
  const double p = method.coverage_probability();
  if (p != 0 && !(p > 0 && p < 1)) {
    return InvalidArgument(
        fmt::format("coverage_probability {} is not between 0 and 1 (0: the lab's 0.9545)", p));
  }
  if (method.has_net_quantity()) {
    if (has_limits) {
      return InvalidArgument(
          "lower_limit/upper_limit: a net-quantity method is judged by OIML R87's tolerable "
          "negative error at its nominal quantity, not by limits; remove them");
    }
    if (auto t = TolerableNegativeError(method.net_quantity().nominal_quantity(), method.unit());
        !t) {
      return t.error().Annotate("net_quantity.nominal_quantity");
    }
    return OkStatus();
  }
  if (has_limits) {
    const metrology::DecisionRule& rule = method.decision_rule();
    if (rule.kind() == metrology::DECISION_RULE_UNSPECIFIED) {
      return InvalidArgument(
          "decision_rule is missing: a method with limits needs one (SIMPLE_ACCEPTANCE, "
          "GUARDED_ACCEPTANCE or NON_BINARY)");
    }
    if (rule.has_guard_factor() && !(rule.guard_factor() >= 0)) {
      return InvalidArgument("decision_rule.guard_factor must be ≥ 0");
    }
  }
  return OkStatus();
}

Status CheckMethod(const config::TestMethod& method) {
  if (method.version() == 0) return InvalidArgument("version is 0; versions start at 1");
  if (method.standard().empty()) {
    return InvalidArgument(
        "standard is empty: name the standard or regulation with its edition (\"TCVN 9706:2013\")");
  }
  if (method.characteristic_vi().empty()) return InvalidArgument("characteristic_vi is empty");
  if (method.unit().empty()) return InvalidArgument("unit is empty");
  if (auto unit = metrology::FindUnit(method.unit()); !unit) {
    return InvalidArgument(
        fmt::format("unit: {} (the result's unit must be one the uncertainty budget knows)",
                    unit.error().message()));
  }
  if (Status s = CheckSteps(method); !s.ok()) return s;
  if (Status s = CheckFormula(method); !s.ok()) return s;
  for (int i = 0; i < method.uncertainty_size(); ++i) {
    if (Status s =
            CheckComponent(method.uncertainty(i), method.unit(), fmt::format("uncertainty[{}]", i));
        !s.ok()) {
      return s;
    }
  }
  return CheckJudgement(method);
}

}  // namespace

Status CheckTestMethod(const config::TestMethod& method) {
  const std::string label = fmt::format(
      "test method {} version {}", method.id().empty() ? "(no id)" : method.id(), method.version());
  if (method.id().empty()) return InvalidArgument(label + ": id is empty");
  return CheckMethod(method).Annotate(label);
}

}  // namespace labtrace::conformity
