// DOMAIN.md W5, who may sign a test run, and CheckTestMethod on good and bad methods,
// including every method of the demo lab.
#include <algorithm>
#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "config/lab_config.h"
#include "conformity/review_rules.h"
#include "conformity/run_results.h"

namespace labtrace::conformity {
namespace {

constexpr SignatureMeaning kReviewed = SIGNATURE_MEANING_REVIEWED;
constexpr SignatureMeaning kApproved = SIGNATURE_MEANING_APPROVED;

config::ReviewPolicy Policy(uint32_t required, bool self_verification = false) {
  config::ReviewPolicy policy;
  policy.set_required_signatures(required);
  policy.set_allow_self_verification(self_verification);
  return policy;
}

TestRun Submitted(const std::string& by = "lan.nguyen") {
  TestRun run;
  run.set_id("TN-2026-00017");
  run.set_state(RUN_STATE_SUBMITTED);
  run.set_submitted_by(by);
  return run;
}

TestRun ReviewedBy(const std::string& reviewer) {
  TestRun run = Submitted();
  run.set_state(RUN_STATE_REVIEWED);
  SignatureStatement* statement = run.add_signatures()->mutable_statement();
  statement->set_signer_user(reviewer);
  statement->set_meaning(kReviewed);
  return run;
}

TEST(ReviewRules, W5_TheSubmitterMayNotSignUnlessSelfVerificationIsAllowed) {
  const Status refused = MaySign(Policy(2), Submitted(), "lan.nguyen", kReviewed);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(),
            "lan.nguyen submitted TN-2026-00017 and may not also review it: the lab's review "
            "policy does not allow self-verification");
  EXPECT_TRUE(MaySign(Policy(2, true), Submitted(), "lan.nguyen", kReviewed).ok());
  EXPECT_TRUE(MaySign(Policy(2), Submitted(), "minh.tran", kReviewed).ok());
  // Nor approve it, after someone else's review.
  EXPECT_EQ(MaySign(Policy(2), ReviewedBy("minh.tran"), "lan.nguyen", kApproved).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(MaySign(Policy(2, true), ReviewedBy("minh.tran"), "lan.nguyen", kApproved).ok());
}

TEST(ReviewRules, W5_TheSamePersonMayNotGiveBothSignatures) {
  const Status refused = MaySign(Policy(2), ReviewedBy("minh.tran"), "minh.tran", kApproved);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(),
            "minh.tran reviewed TN-2026-00017 already and may not also approve it: two signatures "
            "must come from two people");
  // Not even when self-verification is allowed: that concerns the submitter only.
  EXPECT_EQ(MaySign(Policy(2, true), ReviewedBy("minh.tran"), "minh.tran", kApproved).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(MaySign(Policy(2), ReviewedBy("minh.tran"), "hoa.le", kApproved).ok());
}

TEST(ReviewRules, W5_ReviewedComesBeforeApproved) {
  const Status early = MaySign(Policy(2), Submitted(), "minh.tran", kApproved);
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.message(),
            "TN-2026-00017 must be reviewed before it is approved: the lab's review policy asks "
            "for two signatures, review first");
  const Status twice = MaySign(Policy(2), ReviewedBy("minh.tran"), "hoa.le", kReviewed);
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.message(),
            "TN-2026-00017 is reviewed already; the signature still due is its approval");
  // required_signatures 0 is the default, 2.
  EXPECT_EQ(MaySign(Policy(0), Submitted(), "minh.tran", kApproved).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(MaySign(Policy(0), Submitted(), "minh.tran", kReviewed).ok());
}

TEST(ReviewRules, W5_OneSignaturePolicyTakesOnlyAnApproval) {
  EXPECT_TRUE(MaySign(Policy(1), Submitted(), "minh.tran", kApproved).ok());
  const Status review = MaySign(Policy(1), Submitted(), "minh.tran", kReviewed);
  EXPECT_EQ(review.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(review.message(),
            "TN-2026-00017 takes one signature, its approval: the lab's review policy asks for no "
            "separate review");
  EXPECT_EQ(MaySign(Policy(1), Submitted(), "lan.nguyen", kApproved).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(MaySign(Policy(1, true), Submitted(), "lan.nguyen", kApproved).ok());
}

TEST(ReviewRules, OnlyASubmittedOrReviewedRunIsSigned) {
  TestRun run = Submitted();
  run.set_state(RUN_STATE_DRAFT);
  const Status draft = MaySign(Policy(2), run, "minh.tran", kReviewed);
  EXPECT_EQ(draft.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(draft.message(), "TN-2026-00017 is a draft: it can be signed once it is submitted");
  run.set_state(RUN_STATE_APPROVED);
  EXPECT_EQ(MaySign(Policy(2), run, "minh.tran", kApproved).message(),
            "TN-2026-00017 is approved already and takes no more signatures");
  EXPECT_EQ(MaySign(Policy(2), Submitted(), "", kReviewed).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MaySign(Policy(2), Submitted(), "minh.tran", SIGNATURE_MEANING_UNSPECIFIED).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MaySign(Policy(3), Submitted(), "minh.tran", kReviewed).code(),
            StatusCode::kFailedPrecondition);
}

config::TestMethod Method(const std::string& text) {
  config::TestMethod method;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &method)) << text;
  return method;
}

constexpr char kGood[] = R"pb(
  id: "PP-DA-GAO"
  version: 1
  standard: "TCVN 9706:2013"
  characteristic_vi: "Độ ẩm"
  unit: "%"
  formula: "(wet - dry) / (wet - dish) * 100"
  replicates: 2
  repeatability_limit: 0.15
  upper_limit: 14
  decision_rule { kind: SIMPLE_ACCEPTANCE }
  steps {
    name: "dish"
    unit: "g"
    instrument_kind: "balance"
    uncertainty {
      symbol: "cal"
      uncertainty_unit: "mg"
      normal { expanded_uncertainty: 0.1 coverage_factor: 2 }
    }
  }
  steps { name: "wet" unit: "g" instrument_kind: "balance" }
  steps { name: "dry" unit: "g" instrument_kind: "balance" }
)pb";

std::string Refusal(const std::string& change) {
  config::TestMethod method = Method(kGood);
  EXPECT_TRUE(google::protobuf::TextFormat::MergeFromString(change, &method)) << change;
  const Status status = CheckTestMethod(method);
  EXPECT_FALSE(status.ok()) << change;
  return status.message();
}

TEST(CheckTestMethod, AGoodMethodPasses) { EXPECT_TRUE(CheckTestMethod(Method(kGood)).ok()); }

TEST(CheckTestMethod, ErrorsNameTheMethodVersionAndField) {
  const std::string prefix = "test method PP-DA-GAO version 1: ";
  EXPECT_EQ(
      Refusal(R"pb(formula: "(wet - dry) / (wett - dish) * 100")pb"),
      prefix + "formula uses \"wett\", which is not one of the method's steps (dish, wet, dry)");
  EXPECT_EQ(Refusal(R"pb(formula: "(wet - dry) / * 100")pb"),
            prefix +
                "formula \"(wet - dry) / * 100\": column 15: expected a number, a step name or "
                "\"(\", found \"*\"");
  EXPECT_EQ(Refusal(R"pb(steps { name: "lid" instrument_kind: "balance" })pb"),
            prefix + "steps[3].unit is empty");
  EXPECT_EQ(Refusal(R"pb(steps { name: "lid" unit: "g" })pb"),
            prefix +
                "steps[3].instrument_kind is empty: say which kind of instrument takes \"lid\" "
                "(\"balance\", \"thermometer\", …)");
  EXPECT_EQ(Refusal(R"pb(steps { name: "dish" unit: "g" instrument_kind: "balance" })pb"),
            prefix + "steps[3].name \"dish\" is used by an earlier step");
  EXPECT_EQ(Refusal(R"pb(steps { name: "2nd dry" unit: "g" instrument_kind: "balance" })pb"),
            prefix +
                "steps[3].name \"2nd dry\" is not a name a formula can use (letters, digits and _, "
                "not starting with a digit)");
  EXPECT_EQ(
      Refusal(R"pb(steps {
                     name: "lid"
                     unit: "g"
                     instrument_kind: "balance"
                     uncertainty { symbol: "cal" uncertainty_unit: "°C" standard_uncertainty: 1 }
                   })pb")
          .find(prefix +
                "steps[3].uncertainty[0].uncertainty_unit \"°C\" does not convert to \"g\""),
      0u);
  EXPECT_EQ(Refusal(R"pb(lower_limit: 15)pb"), prefix + "lower_limit 15 is above upper_limit 14");
  EXPECT_EQ(Refusal(R"pb(decision_rule { kind: DECISION_RULE_UNSPECIFIED })pb"),
            prefix +
                "decision_rule is missing: a method with limits needs one (SIMPLE_ACCEPTANCE, "
                "GUARDED_ACCEPTANCE or NON_BINARY)");
  EXPECT_EQ(Refusal(R"pb(coverage_probability: 95)pb"),
            prefix + "coverage_probability 95 is not between 0 and 1 (0: the lab's 0.9545)");
  EXPECT_EQ(Refusal(R"pb(version: 0)pb"),
            "test method PP-DA-GAO version 0: version is 0; versions start at 1");
  EXPECT_EQ(Refusal(R"pb(standard: "")pb"), prefix +
                                                "standard is empty: name the standard or "
                                                "regulation with its edition (\"TCVN 9706:2013\")");
  EXPECT_EQ(Refusal(R"pb(net_quantity { nominal_quantity: 500 })pb"),
            prefix +
                "lower_limit/upper_limit: a net-quantity method is judged by OIML R87's tolerable "
                "negative error at its nominal quantity, not by limits; remove them");
  EXPECT_EQ(Refusal(R"pb(id: "")pb"), "test method (no id) version 1: id is empty");
}

// Every method the demo lab ships is fit to run, and each runs on made-up captures of
// its steps: the lab-config the quickstart uses must not carry a method that fails.
TEST(CheckTestMethod, EveryDemoLabMethodPassesAndRuns) {
  auto lab = config::LoadLab(LABTRACE_DEMO_LAB);
  ASSERT_TRUE(lab.has_value()) << lab.error().message();
  ASSERT_GE(lab->test_methods_size(), 3);
  for (const config::TestMethod& method : lab->test_methods()) {
    const Status checked = CheckTestMethod(method);
    EXPECT_TRUE(checked.ok()) << checked.message();
    for (const config::MethodStep& step : method.steps()) {
      bool instrument_of_kind = false;
      for (const config::Instrument& instrument : lab->instruments()) {
        instrument_of_kind = instrument_of_kind || instrument.kind() == step.instrument_kind();
      }
      EXPECT_TRUE(instrument_of_kind)
          << method.id() << ": no instrument of kind " << step.instrument_kind();
    }
    std::vector<Capture> captures;
    for (uint32_t r = 1; r <= std::max<uint32_t>(1, method.replicates()); ++r) {
      for (int s = 0; s < method.steps_size(); ++s) {
        Capture capture;
        capture.set_step(method.steps(s).name());
        capture.set_replicate(r);
        capture.set_value(10.0 + 5 * s + 0.001 * r);
        captures.push_back(capture);
      }
    }
    auto results = EvaluateRun(method, captures);
    EXPECT_TRUE(results.has_value()) << method.id() << ": " << results.error().message();
  }
  EXPECT_EQ(lab->review().required_signatures(), 2u);
  EXPECT_FALSE(lab->identity().name_vi().empty());
}

}  // namespace
}  // namespace labtrace::conformity
