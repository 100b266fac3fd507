// Who may sign a test run, and whether a test method is fit to run. Pure: the API asks
// before it signs, the config loader before it accepts a lab-config.
#pragma once

#include <string_view>

#include "labtrace/auth.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/status.h"

namespace labtrace::conformity {

// DOMAIN.md W5, with the lab's ReviewPolicy (required_signatures 0 means 2):
//   - only a SUBMITTED or REVIEWED run is signed;
//   - with two signatures, the first means REVIEWED and the second APPROVED; with one,
//     the one means APPROVED;
//   - the person who submitted the run may not sign it unless the policy allows
//     self-verification (with one signature too: otherwise nobody but the tester would
//     have looked at the work);
//   - nobody signs one version of a run twice, so the same person never gives both.
// kFailedPrecondition when the run is not in a state for this signature, kPermissionDenied
// when this person may not give it, kInvalidArgument for a signer or meaning that is no
// signature at all. Messages name the person and the run in a reviewer's words.
Status MaySign(const config::ReviewPolicy& policy, const TestRun& run, std::string_view signer,
               SignatureMeaning meaning);

// A test method is fit to run: it has an id, version, standard, characteristic and unit;
// its formula parses and names only its steps; each step has a name, unit, instrument
// kind and valid uncertainty components; the limits, decision rule, repeatability limit,
// coverage probability and net quantity make sense together. Errors name the method, its
// version and the field: "test method PP-DA-GAO version 1: steps[2].unit is empty".
Status CheckTestMethod(const config::TestMethod& method);

}  // namespace labtrace::conformity
