// A test run's results from its captures: each determination by the method's formula,
// their mean, the GUM uncertainty budget, and the statement of conformity under the
// method's decision rule (ILAC-G8) or, for prepackaged goods, OIML R87's rules for the
// net quantity. Pure: the store calls it when a run is submitted, on any thread.
#pragma once

#include <vector>

#include "labtrace/config.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/status.h"

namespace labtrace::conformity {

// One TestResult for the method's characteristic. Every determination 1..replicates (0
// means 1) needs a capture of every step; of several captures of one step and
// determination, the last in `captures` counts (a re-capture is appended, never edited).
// Fails, naming the method, on a missing capture, a capture of an unknown step or
// determination, a unit that does not convert to the step's, or a formula that cannot be
// evaluated (naming the determination).
//
// What the budget holds, and why (docs/DECISIONS.md, "Conformity calculations"):
//   - the mean of the determinations, with their Type A s/√n (ν = n − 1) when n > 1;
//   - each step's Type B components (MethodStep.uncertainty) with the formula's
//     sensitivity to that step, taken at the mean step values. They are systematic over
//     the run's determinations (one balance, one calibration, one day), so they are not
//     divided by √n; the random part of the weighings is in the Type A already;
//   - the method's own components (TestMethod.uncertainty), sensitivity as given (1).
// Determinations that differ by more than the repeatability limit r cannot be judged:
// the statement is FAIL, with a note asking for the determinations to be repeated.
// For a net quantity (method.net_quantity) each determination is one package's content,
// the mean carries no Type A (the packages differ because the product does), and the
// statement is OIML R87's on the packages (net_quantity.h).
Result<std::vector<TestResult>> EvaluateRun(const config::TestMethod& method,
                                            const std::vector<Capture>& captures);

}  // namespace labtrace::conformity
