// GUM uncertainty evaluation (JCGM 100:2008). Pure functions over numbers and units.
#pragma once

#include "labtrace/metrology.pb.h"
#include "labtrace/status.h"

namespace labtrace::metrology {

inline constexpr double kLabCoverageProbability = 0.9545;

// u(x_i) of one component, in the component's uncertainty unit (GUM §4.2, §4.3).
Result<double> StandardUncertainty(const UncertaintyComponent& component);

// ν_i of one component: stated, or n − 1 for Type A from readings, or infinite.
double DegreesOfFreedom(const UncertaintyComponent& component);

// Two-sided coverage factor at probability p: Student's t with ν degrees of freedom
// (GUM G.3), the normal quantile when ν is infinite.
Result<double> CoverageFactor(double p, double degrees_of_freedom);

// Welch–Satterthwaite (GUM G.4.1): u_c⁴ / Σ (c_i u_i)⁴/ν_i, truncated down to an
// integer (G.4.1 note 1); infinite when every ν_i is.
double EffectiveDegreesOfFreedom(double combined, const std::vector<double>& contributions,
                                 const std::vector<double>& degrees_of_freedom);

// Rounds to `digits` significant digits, halves away from zero. Returns the rounded
// value and the power of ten of its last digit (58.52, 2 → 59 and 0).
std::pair<double, int> RoundSignificant(double value, int digits);

// Evaluates the whole budget: contributions, u_c, ν_eff, k, U, and the rounded result.
Result<BudgetResult> EvaluateBudget(const UncertaintyBudget& budget);

}  // namespace labtrace::metrology
