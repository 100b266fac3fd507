// The run workflow's rules, without a daemon: instruments checked when a run starts,
// what a capture may bind, and signatures that stay with what they signed: one copied
// onto another run, or kept on an amended run, is named.
#include <gtest/gtest.h>

#include "auth/password.h"
#include "auth/sealed_key.h"
#include "auth/user_account.h"
#include "config/lab_config.h"
#include "workflow/test_runs.h"

namespace labtrace::workflow {
namespace {

constexpr int64_t kNs = 1'000'000'000;
// 2031-03-03 03:00 UTC: 10:00 in the lab (Asia/Ho_Chi_Minh).
constexpr int64_t kNow = 1'930'273'200 * kNs;
constexpr const char* kPassword = "correct-horse-battery-staple";

config::Lab Lab(const std::string& balance_due = "2031-12-31") {
  config::Lab lab;
  lab.set_time_zone("Asia/Ho_Chi_Minh");
  config::Instrument& balance = *lab.add_instruments();
  balance.set_name("balance-xs205");
  balance.set_driver("mt-sics");
  balance.set_kind("balance");
  balance.mutable_calibration()->set_certificate("HC-2026-00405");
  balance.mutable_calibration()->set_due_date(balance_due);
  config::TestMethod& method = *lab.add_test_methods();
  method.set_id("PP-DA-GAO");
  method.set_version(1);
  method.set_characteristic_en("Moisture content");
  method.set_unit("%");
  method.set_formula("(wet - dry) / (wet - dish) * 100");
  method.set_upper_limit(14.0);
  method.mutable_decision_rule()->set_kind(metrology::SIMPLE_ACCEPTANCE);
  for (const char* name : {"dish", "wet", "dry"}) {
    config::MethodStep& step = *method.add_steps();
    step.set_name(name);
    step.set_instrument_kind("balance");
    step.set_channel("mass");
    step.set_unit("g");
    // The balance's certificate: U = 0.10 mg, k = 2.
    metrology::UncertaintyComponent& calibration = *step.add_uncertainty();
    calibration.set_symbol("u_cal");
    calibration.set_uncertainty_unit("mg");
    calibration.mutable_normal()->set_expanded_uncertainty(0.10);
    calibration.mutable_normal()->set_coverage_factor(2);
  }
  return lab;
}

api::RunStart Start() {
  api::RunStart start;
  start.set_sample("M-2031-00001");
  start.set_method("PP-DA-GAO");
  api::InstrumentChoice& choice = *start.add_instruments();
  choice.set_instrument_kind("balance");
  choice.set_instrument("balance-xs205");
  return start;
}

Sample TheSample() {
  Sample sample;
  sample.set_code("M-2031-00001");
  return sample;
}

Reading Weighing(uint64_t sequence, double grams, int64_t at_ns) {
  Reading reading;
  reading.set_sequence(sequence);
  reading.set_instrument("balance-xs205");
  reading.set_channel("mass");
  reading.set_value(grams);
  reading.set_unit("g");
  reading.set_quality(GOOD);
  reading.set_requested_at_ns(at_ns);
  reading.mutable_provenance()->set_source(Provenance::POLLED);
  return reading;
}

api::CaptureRequest Step(const std::string& step) {
  api::CaptureRequest capture;
  capture.set_step(step);
  return capture;
}

UserAccount Person(const std::string& name) {
  auto account = auth::Enrol({name, "Người " + name, ROLE_REVIEWER, kPassword}, kNow, auth::kTestOnlyCost);
  EXPECT_TRUE(account.has_value());
  return account ? *account : UserAccount();
}

// A run captured in full and submitted by lan.nguyen, at version 5.
TestRun Submitted(const config::Lab& lab, double dry_grams = 29.45620) {
  auto run = StartRun(lab, Start(), TheSample(), "lan.nguyen", kNow);
  EXPECT_TRUE(run.has_value()) << run.error().message();
  run->set_id("TN-2031-00001");
  run->set_version(1);
  uint64_t sequence = 100;
  for (auto [step, grams] : {std::pair{"dish", 25.12340}, {"wet", 30.13010}, {"dry", dry_grams}}) {
    const Reading reading = Weighing(++sequence, grams, kNow + kNs);
    auto next = AddCapture(lab, *run, Step(step), &reading, "lan.nguyen", kNow + 2 * kNs);
    EXPECT_TRUE(next.has_value()) << next.error().message();
    run = std::move(next);
    run->set_version(run->version() + 1);
  }
  auto submitted = SubmitRun(*run, "lan.nguyen", kNow + 3 * kNs);
  EXPECT_TRUE(submitted.has_value()) << submitted.error().message();
  submitted->set_version(submitted->submitted_version());
  return *submitted;
}

TestRun Signed(const config::Lab& lab, const TestRun& run, const UserAccount& person) {
  auto signer = auth::Signatory::Unseal(person, kPassword);
  EXPECT_TRUE(signer.has_value());
  auto next = SignRun(lab, run, *signer, kNow + 4 * kNs);
  EXPECT_TRUE(next.has_value()) << next.error().message();
  next->set_version(run.version() + 1);
  return *next;
}

TEST(TestRuns, AnInstrumentPastItsDueDateIsRefusedWhenTheRunStarts) {
  // Due 2031-03-02 (lab date): out of service from 00:00 on the 3rd, in the lab's zone.
  auto refused = StartRun(Lab("2031-03-02"), Start(), TheSample(), "lan.nguyen", kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("was due 2031-03-02"), std::string::npos) << refused.error().message();
  auto started = StartRun(Lab("2031-03-03"), Start(), TheSample(), "lan.nguyen", kNow);
  ASSERT_TRUE(started) << "due today is still in date: " << started.error().message();
  EXPECT_EQ(started->tested_on(), "2031-03-03");
  EXPECT_EQ(started->instruments(0).calibration_certificate(), "HC-2026-00405");
}

TEST(TestRuns, ACaptureBindsOnlyAStableReadingOfTheStepsInstrumentTakenDuringTheRun) {
  const config::Lab lab = Lab();
  auto run = StartRun(lab, Start(), TheSample(), "lan.nguyen", kNow);
  ASSERT_TRUE(run);
  const Reading before = Weighing(7, 25.1, kNow - kNs);
  EXPECT_FALSE(AddCapture(lab, *run, Step("dish"), &before, "lan.nguyen", kNow)) << "taken before the run";
  Reading unstable = Weighing(8, 25.1, kNow + kNs);
  unstable.set_quality(UNSTABLE);
  EXPECT_FALSE(AddCapture(lab, *run, Step("dish"), &unstable, "lan.nguyen", kNow));
  Reading uploaded = Weighing(9, 25.1, kNow + kNs);
  uploaded.mutable_provenance()->set_source(Provenance::UPLOADED);
  auto from_upload = AddCapture(lab, *run, Step("dish"), &uploaded, "lan.nguyen", kNow);
  ASSERT_FALSE(from_upload) << "the daemon reads this balance itself";
  EXPECT_NE(from_upload.error().message().find("UPLOADED"), std::string::npos) << from_upload.error().message();
  api::CaptureRequest typed = Step("dish");
  typed.set_typed_value(25.1);
  EXPECT_EQ(AddCapture(lab, *run, typed, nullptr, "lan.nguyen", kNow).error().code(), StatusCode::kPermissionDenied);

  const Reading good = Weighing(10, 25.1, kNow + kNs);
  auto bound = AddCapture(lab, *run, Step("dish"), &good, "lan.nguyen", kNow);
  ASSERT_TRUE(bound) << bound.error().message();
  auto twice = AddCapture(lab, *bound, Step("wet"), &good, "lan.nguyen", kNow);
  ASSERT_FALSE(twice) << "one weighing cannot be both the dish and the wet sample";
  EXPECT_NE(twice.error().message().find("bound already, to step dish"), std::string::npos);
}

TEST(TestRuns, SignaturesVerifyOnTheirRunAndAreNamedWhenCopiedOrKeptAfterAnAmendment) {
  const config::Lab lab = Lab();
  const UserAccount an = Person("an.tran"), binh = Person("binh.le");
  auto key_of = [&](const std::string& user) {
    return user == "an.tran" ? an.signing_key().public_key() : user == "binh.le" ? binh.signing_key().public_key() : "";
  };
  const TestRun approved = Signed(lab, Signed(lab, Submitted(lab), an), binh);
  ASSERT_EQ(approved.state(), RUN_STATE_APPROVED);
  EXPECT_TRUE(VerifyRunSignatures(approved, key_of).ok()) << VerifyRunSignatures(approved, key_of).message();

  // The signatures copied onto another run with other weighings: named.
  TestRun other = Submitted(lab, 29.40000);
  *other.mutable_signatures() = approved.signatures();
  const Status copied = VerifyRunSignatures(other, key_of);
  EXPECT_FALSE(copied.ok());
  EXPECT_NE(copied.message().find("an.tran"), std::string::npos) << copied.message();

  // Kept on the run after an amendment changed a weighing: no longer its content.
  auto amended = AmendRun(approved, "the dry weighing was taken before constant mass");
  ASSERT_TRUE(amended);
  EXPECT_EQ(amended->state(), RUN_STATE_DRAFT);
  EXPECT_EQ(amended->signatures_size(), 0) << "an amendment starts unsigned";
  TestRun forged = *amended;
  forged.mutable_captures(2)->set_value(29.40000);
  *forged.mutable_signatures() = approved.signatures();
  EXPECT_FALSE(VerifyRunSignatures(forged, key_of).ok());

  // A signature by someone the lab does not know.
  EXPECT_FALSE(VerifyRunSignatures(approved, [](const std::string&) { return std::string(); }).ok());
}

TEST(TestRuns, TheReviewPolicyDecidesTheMeaningAndWhoMaySign) {
  const config::Lab lab = Lab();
  const UserAccount lan = Person("lan.nguyen"), an = Person("an.tran");
  const TestRun submitted = Submitted(lab);
  auto own = auth::Signatory::Unseal(lan, kPassword);
  ASSERT_TRUE(own);
  EXPECT_FALSE(SignRun(lab, submitted, *own, kNow)) << "the submitter may not sign (W5)";
  const TestRun reviewed = Signed(lab, submitted, an);
  EXPECT_EQ(reviewed.signatures(0).statement().meaning(), SIGNATURE_MEANING_REVIEWED);
  auto again = auth::Signatory::Unseal(an, kPassword);
  EXPECT_FALSE(SignRun(lab, reviewed, *again, kNow)) << "the same person may not give both signatures (W5)";

  config::Lab one_signature = lab;
  one_signature.mutable_review()->set_required_signatures(1);
  const TestRun approved = Signed(one_signature, submitted, an);
  EXPECT_EQ(approved.state(), RUN_STATE_APPROVED);
  EXPECT_EQ(approved.signatures(0).statement().meaning(), SIGNATURE_MEANING_APPROVED);
}

}  // namespace
}  // namespace labtrace::workflow
