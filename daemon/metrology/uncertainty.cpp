#include "metrology/uncertainty.h"

#include <cmath>
#include <limits>
#include <numeric>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

#include "metrology/units.h"

namespace labtrace::metrology {

namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct TypeAStatistics {
  double mean = 0, standard_deviation = 0;
  size_t n = 0;
};

TypeAStatistics Statistics(const TypeA& type_a) {
  TypeAStatistics stats;
  stats.n = static_cast<size_t>(type_a.readings_size());
  if (stats.n == 0) return stats;
  stats.mean = std::accumulate(type_a.readings().begin(), type_a.readings().end(), 0.0) / stats.n;
  double sum_sq = 0;
  for (double x : type_a.readings()) sum_sq += (x - stats.mean) * (x - stats.mean);
  stats.standard_deviation = stats.n > 1 ? std::sqrt(sum_sq / (stats.n - 1)) : 0;  // GUM 4.2.2
  return stats;
}
}  // namespace

Result<double> StandardUncertainty(const UncertaintyComponent& c) {
  auto need_positive = [&](double v, std::string_view what) -> Result<double> {
    if (!(v >= 0) || !std::isfinite(v)) {
      return Error(InvalidArgument(fmt::format("component {}: {} must be a finite number ≥ 0", c.symbol(), what)));
    }
    return v;
  };
  switch (c.evaluation_case()) {
    case UncertaintyComponent::kNormal: {
      if (!(c.normal().coverage_factor() > 0)) {
        return Error(InvalidArgument(fmt::format("component {}: coverage_factor must be > 0 (k = 2 on most certificates)", c.symbol())));
      }
      auto U = need_positive(c.normal().expanded_uncertainty(), "expanded_uncertainty");
      if (!U) return U;
      return *U / c.normal().coverage_factor();
    }
    case UncertaintyComponent::kRectangular: {
      auto a = need_positive(c.rectangular().half_width(), "half_width");
      if (!a) return a;
      return *a / std::sqrt(3.0);
    }
    case UncertaintyComponent::kTriangular: {
      auto a = need_positive(c.triangular().half_width(), "half_width");
      if (!a) return a;
      return *a / std::sqrt(6.0);
    }
    case UncertaintyComponent::kUShaped: {
      auto a = need_positive(c.u_shaped().half_width(), "half_width");
      if (!a) return a;
      return *a / std::sqrt(2.0);
    }
    case UncertaintyComponent::kTypeA: {
      const TypeA& t = c.type_a();
      if (t.readings_size() > 0) {
        if (t.readings_size() < 2) {
          return Error(InvalidArgument(fmt::format("component {}: Type A needs at least 2 readings", c.symbol())));
        }
        const auto stats = Statistics(t);
        return stats.standard_deviation / std::sqrt(static_cast<double>(stats.n));
      }
      if (t.n() == 0) {
        return Error(InvalidArgument(fmt::format("component {}: Type A needs readings, or standard_deviation and n", c.symbol())));
      }
      auto s = need_positive(t.standard_deviation(), "standard_deviation");
      if (!s) return s;
      return *s / std::sqrt(static_cast<double>(t.n()));
    }
    case UncertaintyComponent::kStandardUncertainty:
      return need_positive(c.standard_uncertainty(), "standard_uncertainty");
    case UncertaintyComponent::EVALUATION_NOT_SET:
      break;
  }
  return Error(InvalidArgument(fmt::format(
      "component {}: say how its uncertainty is known (normal, rectangular, triangular, u_shaped, "
      "type_a or standard_uncertainty)", c.symbol())));
}

double DegreesOfFreedom(const UncertaintyComponent& c) {
  if (c.has_degrees_of_freedom()) return c.degrees_of_freedom();
  if (c.has_type_a() && c.type_a().readings_size() > 1) return c.type_a().readings_size() - 1;
  return kInfinity;
}

Result<double> CoverageFactor(double p, double nu) {
  if (!(p > 0 && p < 1)) return Error(InvalidArgument(fmt::format("coverage probability {} is not in (0, 1)", p)));
  if (!(nu >= 1)) return Error(InvalidArgument(fmt::format("{} degrees of freedom; at least 1 is needed", nu)));
  const double upper = (1 + p) / 2;
  if (std::isinf(nu)) return boost::math::quantile(boost::math::normal_distribution<double>(), upper);
  return boost::math::quantile(boost::math::students_t_distribution<double>(nu), upper);
}

double EffectiveDegreesOfFreedom(double combined, const std::vector<double>& contributions,
                                 const std::vector<double>& nus) {
  double denominator = 0;
  for (size_t i = 0; i < contributions.size(); ++i) {
    if (std::isinf(nus[i]) || contributions[i] == 0) continue;
    denominator += std::pow(contributions[i], 4) / nus[i];
  }
  if (denominator == 0) return kInfinity;
  // Truncated down, never below 1 (G.4.1 note 1).
  return std::max(1.0, std::floor(std::pow(combined, 4) / denominator));
}

std::pair<double, int> RoundSignificant(double value, int digits) {
  if (value == 0 || !std::isfinite(value)) return {value, 0};
  const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(value)))) - (digits - 1);
  // Scale by a power of ten held exactly where possible, then round half away from zero.
  // The scaled value is nudged by a few ulps so that 0.145 (stored as 0.14499999…) rounds
  // as written.
  const double scale = std::pow(10.0, -exponent);
  double scaled = value * scale;
  scaled = std::nextafter(std::nextafter(scaled, scaled * 2), scaled * 2);
  const double rounded = std::round(scaled) / scale;
  // 9.96 to two digits is 10, whose last digit is one place higher.
  const int last = static_cast<int>(std::floor(std::log10(std::fabs(rounded)))) - (digits - 1);
  return {rounded, std::max(last, exponent)};
}

namespace {
double RoundAt(double value, int exponent) {
  const double scale = std::pow(10.0, -exponent);
  return std::round(value * scale) / scale;
}

std::string FormatAt(double value, int exponent) {
  return fmt::format("{:.{}f}", value, std::max(0, -exponent));
}
}  // namespace

Result<BudgetResult> EvaluateBudget(const UncertaintyBudget& budget) {
  if (budget.unit().empty()) return Error(InvalidArgument("the budget has no unit"));
  if (budget.components().empty()) return Error(InvalidArgument("the budget has no components"));
  const std::string report_unit = budget.report_unit().empty() ? budget.unit() : budget.report_unit();
  if (auto check = ConvertDifference(1, budget.unit(), report_unit); !check) {
    return Error(check.error().Annotate("report_unit"));
  }
  BudgetResult result;
  result.set_measurand(budget.measurand());
  result.set_unit(budget.unit());
  result.set_report_unit(report_unit);
  result.set_coverage_probability(budget.coverage_probability() == 0 ? kLabCoverageProbability
                                                                     : budget.coverage_probability());
  std::vector<double> contributions, nus;
  double estimate = 0, variance = 0;
  for (const UncertaintyComponent& c : budget.components()) {
    auto u = StandardUncertainty(c);
    if (!u) return Error(u.error());
    const std::string& from = c.uncertainty_unit().empty() ? budget.unit() : c.uncertainty_unit();
    auto u_report = ConvertDifference(*u, from, report_unit);
    if (!u_report) return Error(u_report.error().Annotate(fmt::format("component {}", c.symbol())));
    double x = c.has_estimate() ? c.estimate() : 0;
    if (!c.has_estimate() && c.has_type_a() && c.type_a().readings_size() > 0) {
      x = Statistics(c.type_a()).mean;
    }
    const double sensitivity = c.has_sensitivity() ? c.sensitivity() : 1.0;
    const double contribution = std::fabs(sensitivity) * *u_report;
    estimate += sensitivity * x;
    variance += contribution * contribution;
    contributions.push_back(contribution);
    nus.push_back(DegreesOfFreedom(c));
    Contribution* row = result.add_contributions();
    row->set_symbol(c.symbol());
    row->set_estimate(x);
    row->set_standard_uncertainty(*u_report);
    row->set_sensitivity(sensitivity);
    row->set_contribution(contribution);
    row->set_degrees_of_freedom(nus.back());
  }
  const double combined = std::sqrt(variance);
  for (Contribution& row : *result.mutable_contributions()) {
    row.set_variance_percent(variance > 0 ? 100 * row.contribution() * row.contribution() / variance : 0);
  }
  const double nu_eff = EffectiveDegreesOfFreedom(combined, contributions, nus);
  auto k = CoverageFactor(result.coverage_probability(), nu_eff);
  if (!k) return Error(k.error());
  const double expanded = *k * combined;
  const auto [expanded_rounded, last_digit] = RoundSignificant(expanded, 2);
  // The estimate is rounded to the same decimal place as U, expressed in the budget's unit.
  const double unit_per_report = *ConvertDifference(1, report_unit, budget.unit());
  const int estimate_exponent = last_digit + static_cast<int>(std::lround(std::log10(unit_per_report)));

  result.set_estimate(estimate);
  result.set_combined_standard_uncertainty(combined);
  result.set_effective_degrees_of_freedom(nu_eff);
  result.set_coverage_factor(*k);
  result.set_expanded_uncertainty(expanded);
  result.set_expanded_uncertainty_rounded(expanded_rounded);
  result.set_estimate_rounded(RoundAt(estimate, estimate_exponent));
  auto with_unit = [](std::string number, const std::string& unit) {
    return unit == "1" ? number : number + " " + unit;  // "1" is dimensionless
  };
  result.set_statement(fmt::format("{} ± {} (k = {:.2f}, p = {:.2f} %)",
                                   with_unit(FormatAt(result.estimate_rounded(), estimate_exponent), budget.unit()),
                                   with_unit(FormatAt(expanded_rounded, last_digit), report_unit), *k,
                                   100 * result.coverage_probability()));
  return result;
}

}  // namespace labtrace::metrology
