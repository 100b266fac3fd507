#include "conformity/run_results.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "conformity/formula.h"
#include "conformity/net_quantity.h"
#include "conformity/note_text.h"
#include "metrology/decision.h"
#include "metrology/uncertainty.h"
#include "metrology/units.h"

namespace labtrace::conformity {

namespace {

std::string MethodLabel(const config::TestMethod& method) {
  return fmt::format("test method {} version {}", method.id(), method.version());
}

std::string StepNames(const config::TestMethod& method) {
  std::string names;
  for (const config::MethodStep& step : method.steps())
    names += (names.empty() ? "" : ", ") + step.name();
  return names;
}

// The value of every step of every determination, in the step's unit: [determination − 1].
Result<std::vector<StepValues>> StepValuesOf(const config::TestMethod& method,
                                             const std::vector<Capture>& captures,
                                             uint32_t replicates) {
  const size_t steps = static_cast<size_t>(method.steps_size());
  std::vector<std::vector<const Capture*>> latest(replicates,
                                                  std::vector<const Capture*>(steps, nullptr));
  for (const Capture& capture : captures) {
    const auto step =
        std::find_if(method.steps().begin(), method.steps().end(),
                     [&](const config::MethodStep& s) { return s.name() == capture.step(); });
    if (step == method.steps().end()) {
      return Error(InvalidArgument(
          fmt::format("a capture names step \"{}\", which the method does not have ({})",
                      capture.step(), StepNames(method))));
    }
    if (capture.replicate() < 1 || capture.replicate() > replicates) {
      return Error(InvalidArgument(
          fmt::format("a capture of step \"{}\" is for determination {}; the method has 1 to {}",
                      capture.step(), capture.replicate(), replicates)));
    }
    // Later captures replace earlier ones: a re-capture is appended.
    latest[capture.replicate() - 1][step - method.steps().begin()] = &capture;
  }
  std::vector<StepValues> values(replicates);
  for (uint32_t r = 0; r < replicates; ++r) {
    for (size_t s = 0; s < steps; ++s) {
      const config::MethodStep& step = method.steps(static_cast<int>(s));
      const Capture* capture = latest[r][s];
      if (capture == nullptr) {
        size_t missing = 0;
        for (const auto& row : latest) missing += std::count(row.begin(), row.end(), nullptr);
        return Error(InvalidArgument(
            fmt::format("no capture of step \"{}\" for determination {}{}", step.name(), r + 1,
                        missing > 1 ? fmt::format(" ({} captures missing in all)", missing) : "")));
      }
      double value = capture->value();
      if (!capture->unit().empty() && capture->unit() != step.unit()) {
        auto converted = metrology::ConvertValue(value, capture->unit(), step.unit());
        if (!converted) {
          return Error(converted.error().Annotate(
              fmt::format("step \"{}\", determination {}: captured in {}, the step is in {}",
                          step.name(), r + 1, capture->unit(), step.unit())));
        }
        value = *converted;
      }
      if (!std::isfinite(value)) {
        return Error(InvalidArgument(
            fmt::format("step \"{}\", determination {}: the captured value is not a finite number",
                        step.name(), r + 1)));
      }
      values[r][step.name()] = value;
    }
  }
  return values;
}

// The component of a step's uncertainty as the result's budget takes it: u in the step's
// unit, times the formula's sensitivity to the step.
Result<metrology::UncertaintyComponent> StepComponent(const config::MethodStep& step,
                                                      const metrology::UncertaintyComponent& given,
                                                      double sensitivity) {
  const std::string what = fmt::format("step \"{}\" component \"{}\"", step.name(), given.symbol());
  auto u = metrology::StandardUncertainty(given);
  if (!u) return Error(u.error().Annotate(what));
  if (!given.uncertainty_unit().empty() && given.uncertainty_unit() != step.unit()) {
    u = metrology::ConvertDifference(*u, given.uncertainty_unit(), step.unit());
    if (!u) return Error(u.error().Annotate(what));
  }
  metrology::UncertaintyComponent component;
  component.set_symbol(step.name() + ": " +
                       (given.symbol().empty() ? given.description() : given.symbol()));
  component.set_description(given.description());
  if (given.has_estimate()) component.set_estimate(given.estimate());
  component.set_standard_uncertainty(*u);
  component.set_sensitivity(sensitivity * (given.has_sensitivity() ? given.sensitivity() : 1.0));
  const double nu = metrology::DegreesOfFreedom(given);
  if (std::isfinite(nu)) component.set_degrees_of_freedom(nu);
  return component;
}

// The row that carries the result's estimate: the mean, with the Type A of the
// determinations when there are several. A net quantity's packages differ because the
// product does, not the measurement, and R87 judges that spread itself (λ·s); so their
// mean carries no Type A.
metrology::UncertaintyComponent MeanComponent(const std::vector<double>& determinations,
                                              bool packages) {
  metrology::UncertaintyComponent mean;
  const size_t n = determinations.size();
  const double value = std::accumulate(determinations.begin(), determinations.end(), 0.0) / n;
  if (packages) {
    mean.set_symbol("mean content");
    mean.set_description(fmt::format(
        "mean content of {} packages; their spread is the product's, judged by OIML R87", n));
    mean.set_estimate(value);
    mean.set_standard_uncertainty(0);
  } else if (n > 1) {
    mean.set_symbol("repeatability");
    mean.set_description(fmt::format("mean of {} determinations, Type A: s/√{}", n, n));
    for (double x : determinations) mean.mutable_type_a()->add_readings(x);
  } else {
    mean.set_symbol("determination");
    mean.set_description("a single determination: no Type A");
    mean.set_estimate(value);
    mean.set_standard_uncertainty(0);
  }
  return mean;
}

// Repeatability: the largest difference between determinations against r. For two
// determinations this is ISO 5725-6 §4.1's |x1 − x2| ≤ r; for more it is stricter than
// the critical range f(n)·σr of §5.2, which is on the safe side.
void CheckRepeatability(const config::TestMethod& method, TestResult& result) {
  if (result.determinations_size() < 2 || !(method.repeatability_limit() > 0)) return;
  const auto [low, high] =
      std::minmax_element(result.determinations().begin(), result.determinations().end());
  const double spread = *high - *low;
  if (spread <= method.repeatability_limit()) return;
  // The determinations disagree more than the method allows: neither they nor their mean
  // say anything about the sample. The run cannot be judged, and a report must not carry
  // a pass; FAIL with the reason stops it, and the technician repeats the determinations
  // (a retest is a new version of the run).
  metrology::Decision* decision = result.mutable_decision();
  const bool had_statement = decision->statement() != metrology::STATEMENT_UNSPECIFIED;
  decision->set_statement(metrology::FAIL);
  if (had_statement) {
    decision->set_false_accept_probability(0);
    decision->set_false_reject_probability(1 - decision->probability_outside());
  }
  const int d = static_cast<int>(method.result_decimals()) + 1;
  const std::string& unit = method.unit();
  result.set_note_en(
      fmt::format("The determinations differ by {}, more than the method's repeatability limit r = "
                  "{}: the sample cannot be judged from them. Repeat the determinations.",
                  WithUnit(NumberEn(spread, d), unit),
                  WithUnit(NumberEn(method.repeatability_limit(), d), unit)));
  result.set_note_vi(
      fmt::format("Chênh lệch giữa các lần xác định là {}, lớn hơn giới hạn lặp lại r = {} của "
                  "phương pháp: không thể kết luận về mẫu. Cần xác định lại.",
                  WithUnit(NumberVi(spread, d), unit),
                  WithUnit(NumberVi(method.repeatability_limit(), d), unit)));
}

Result<TestResult> Evaluate(const config::TestMethod& method,
                            const std::vector<Capture>& captures) {
  auto formula = ParseFormula(method.formula());
  if (!formula) return Error(formula.error().Annotate("formula"));
  const uint32_t replicates = std::max<uint32_t>(1, method.replicates());
  auto values = StepValuesOf(method, captures, replicates);
  if (!values) return Error(values.error());
  const bool packages = method.has_net_quantity();

  TestResult result;
  result.set_characteristic_vi(method.characteristic_vi());
  result.set_characteristic_en(method.characteristic_en());
  result.set_unit(method.unit());
  for (uint32_t r = 0; r < replicates; ++r) {
    auto value = formula->Evaluate((*values)[r]);
    if (!value) return Error(value.error().Annotate(fmt::format("determination {}", r + 1)));
    result.add_determinations(*value);
  }
  const std::vector<double> determinations(result.determinations().begin(),
                                           result.determinations().end());
  result.set_value(std::accumulate(determinations.begin(), determinations.end(), 0.0) / replicates);

  // Sensitivities are taken at the mean step values: the point the result stands for.
  StepValues mean_steps;
  for (const config::MethodStep& step : method.steps()) {
    double sum = 0;
    for (const StepValues& v : *values) sum += v.at(step.name());
    mean_steps[step.name()] = sum / replicates;
  }
  metrology::UncertaintyBudget budget;
  budget.set_name(method.id());
  budget.set_measurand(method.characteristic_en().empty() ? method.characteristic_vi()
                                                          : method.characteristic_en());
  budget.set_unit(method.unit());
  budget.set_coverage_probability(method.coverage_probability());
  *budget.add_components() = MeanComponent(determinations, packages);
  std::vector<std::string> row_units{""};
  for (const config::MethodStep& step : method.steps()) {
    if (step.uncertainty().empty()) continue;
    auto c = SensitivityCoefficient(*formula, mean_steps, step.name());
    if (!c) return Error(c.error());
    for (const metrology::UncertaintyComponent& given : step.uncertainty()) {
      auto component = StepComponent(step, given, *c);
      if (!component) return Error(component.error());
      *budget.add_components() = std::move(*component);
      row_units.push_back(step.unit() == method.unit() ? "" : step.unit());
    }
  }
  for (const metrology::UncertaintyComponent& given : method.uncertainty()) {
    *budget.add_components() = given;
    row_units.push_back("");
  }
  auto evaluated = metrology::EvaluateBudget(budget);
  if (!evaluated) return Error(evaluated.error().Annotate("uncertainty budget"));
  for (int i = 0; i < evaluated->contributions_size(); ++i)
    evaluated->mutable_contributions(i)->set_unit(row_units[i]);
  *result.mutable_budget() = std::move(*evaluated);

  if (packages) {
    if (Status judged = JudgePackages(method, determinations, result); !judged.ok()) {
      return Error(judged.Annotate("net quantity"));
    }
    return result;
  }
  if (method.has_lower_limit()) result.set_lower_limit(method.lower_limit());
  if (method.has_upper_limit()) result.set_upper_limit(method.upper_limit());
  if (method.has_lower_limit() || method.has_upper_limit()) {
    const double u = result.budget().combined_standard_uncertainty();
    if (!(u > 0)) {
      return Error(
          InvalidArgument("the result's uncertainty is 0, so no statement of conformity can be "
                          "made: give the steps their "
                          "uncertainty components (the balance's calibration, its resolution)"));
    }
    metrology::Tolerance tolerance;
    if (method.has_lower_limit()) tolerance.lower = method.lower_limit();
    if (method.has_upper_limit()) tolerance.upper = method.upper_limit();
    auto decision = metrology::Decide(result.value(), u, result.budget().expanded_uncertainty(),
                                      tolerance, method.decision_rule());
    if (!decision) return Error(decision.error().Annotate("decision"));
    *result.mutable_decision() = std::move(*decision);
  }
  CheckRepeatability(method, result);
  return result;
}

}  // namespace

Result<std::vector<TestResult>> EvaluateRun(const config::TestMethod& method,
                                            const std::vector<Capture>& captures) {
  auto result = Evaluate(method, captures);
  if (!result) return Error(result.error().Annotate(MethodLabel(method)));
  return std::vector<TestResult>{std::move(*result)};
}

}  // namespace labtrace::conformity
