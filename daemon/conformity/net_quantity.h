// The net quantity of prepackaged goods under OIML R87:2016 "Quantity of product in
// prepackages", which Vietnam applies to prepackaged goods by quantity through Circular
// 21/2014/TT-BKHCN: the tolerable negative error T at the labelled nominal quantity Qn,
// T1 and T2 defectives, and the lot's statement from the sampling plan. Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "labtrace/config.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/status.h"

namespace labtrace::conformity {

// T for a nominal quantity `nominal` in `unit` (a unit of mass or volume: g, kg, mL, L
// …), returned in the same unit. R87 Table 1 (percent bands rounded up as it says);
// fails for Qn ≤ 0 or above 50 kg (50 L), where the table ends.
Result<double> TolerableNegativeError(double nominal, std::string_view unit);

// What a lot of packages must meet for a sample of `sample_size` packages: at most
// `acceptance_number` packages with a T1 error, none with a T2 error, and a mean content
// of at least Qn − correction_factor·s.
struct SamplingPlan {
  uint32_t sample_size = 0;
  uint32_t acceptance_number = 0;
  double correction_factor = 0;  // λ = t(0.995; n − 1)/√n
  bool r87_table = false;        // a row of R87 Table 2; otherwise see net_quantity.cpp
};
Result<SamplingPlan> SamplingPlanFor(uint32_t sample_size);

// Judges packages whose contents are `contents` (in the method's unit) against the
// method's nominal quantity: fills `result`'s packages, tolerable_negative_error, value
// (the mean content), decision (PASS or FAIL) and notes.
Status JudgePackages(const config::TestMethod& method, const std::vector<double>& contents,
                     TestResult& result);

}  // namespace labtrace::conformity
