// Conformity test runs (issue 15): a run of a method on a sample, from start to approval.
// Pure: each function takes the run as it is and returns its next version (which the
// store numbers and keeps beside the old one); the caller fetches the sample, the
// readings and the signer's key, and stores what comes back.
//
//   StartRun    DRAFT      method frozen, instruments checked calibrated for today
//   AddCapture  DRAFT      a stored reading (or, where the method allows, a typed value)
//                          bound to a step of a determination
//   SubmitRun   SUBMITTED  results computed (conformity::EvaluateRun); nothing changes now
//   SignRun     REVIEWED / APPROVED   an Ed25519 signature by a reviewer, who re-entered
//                          the password; who may sign is the lab's review policy (W5)
//   AmendRun    DRAFT      a retest or amendment: a new draft with its reason; the
//                          signatures stay on the versions they signed
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "auth/sealed_key.h"
#include "labtrace/api.pb.h"
#include "labtrace/config.pb.h"
#include "labtrace/conformity.pb.h"
#include "labtrace/reading.pb.h"
#include "labtrace/status.h"

namespace labtrace::workflow {

inline constexpr std::string_view kRunKind = "test_run";

// The method `id` at `version`, or its newest version when `version` is 0; null if none.
const config::TestMethod* FindTestMethod(const config::Lab& lab, std::string_view id, uint32_t version);

// A new run (no id yet: the store numbers it) of `start.method` on `sample`, started by
// `user` at `now_ns`. Each instrument kind the method's steps need must be given one
// instrument of that kind, calibrated and in date on the lab's date of `now_ns` (or
// used under an approved override, as acquisition allows); the run keeps which, and the
// calibration it had.
Result<TestRun> StartRun(const config::Lab& lab, const api::RunStart& start, const Sample& sample,
                         std::string_view user, int64_t now_ns);

// Where a step's values come from in this run.
struct StepSource {
  const config::MethodStep* step = nullptr;  // into run.method()
  std::string instrument, channel;
};
Result<StepSource> SourceOfStep(const TestRun& run, std::string_view step);

// The run with `reading` (null for a typed value) bound to request.step() of
// determination request.replicate(). A reading must be of the step's instrument and
// channel, GOOD (stable, in calibration), taken by the daemon or uploaded as the
// instrument's configuration allows, taken after the run started, and not bound
// already; a typed value only where the method allows manual entry. A later capture of
// the same step and determination replaces the earlier one in the results; both stay.
Result<TestRun> AddCapture(const config::Lab& lab, const TestRun& run, const api::CaptureRequest& request,
                           const Reading* reading, std::string_view user, int64_t now_ns);

// The run with its results computed and frozen for review, as the version after `run`.
Result<TestRun> SubmitRun(const TestRun& run, std::string_view user, int64_t now_ns);

// What a signature on a run binds: the run without its version, state and signatures,
// so that adding a signature changes nothing signed. Deterministic protobuf bytes.
std::string SignedRunBytes(const TestRun& run);
// SHA-256 of SignedRunBytes, 32 bytes.
std::string SignedRunHash(const TestRun& run);

// The run with `signer`'s signature added: "reviewed" while more are required, then
// "approved". Refused when the review policy does not let this person sign now.
Result<TestRun> SignRun(const config::Lab& lab, const TestRun& run, const auth::Signatory& signer, int64_t now_ns);

// Checks every signature shown on `run` against the run's own content and the public
// key the store holds for its signer (`key_of(user)`, "" when unknown); names the first
// that fails: a signature copied from another run or kept on an amended one.
Status VerifyRunSignatures(const TestRun& run, const std::function<std::string(const std::string&)>& key_of);

// A retest or amendment of a submitted (or signed) run: a new draft, with `reason`,
// that names the version it replaces. Results and signatures go; captures stay, and a
// step captured again counts instead of its earlier capture.
Result<TestRun> AmendRun(const TestRun& run, std::string_view reason);

}  // namespace labtrace::workflow
