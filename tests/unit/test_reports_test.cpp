// The test report workflow's rules, without a daemon: what a draft may carry, who may
// issue it (the signatory scopes of the lab's accreditation), signatures that stay with
// the report they signed (one copied onto another report is named), and an amendment
// that supersedes the report it replaces.
#include "workflow/test_reports.h"

#include <gtest/gtest.h>

#include <set>

#include "auth/password.h"
#include "auth/sealed_key.h"
#include "auth/user_account.h"

namespace labtrace::workflow {
namespace {

constexpr int64_t kNs = 1'000'000'000;
// 2031-03-03 03:00 UTC, 10:00 in the lab (Asia/Ho_Chi_Minh, UTC+07:00): 22 341 days from
// 1970-01-01 (61 years, 15 of them leap, then 31 + 28 + 2 days) × 86 400 s + 3 h.
constexpr int64_t kNow = 1'930'273'200 * kNs;
// 18:00 UTC the same day is 01:00 on 2031-03-04 in the lab: the lab's date has turned.
constexpr int64_t kLateEvening = kNow + 15 * 3600 * kNs;
constexpr const char* kPassword = "correct-horse-battery-staple";
constexpr const char* kCode = "7KQ2M4XW9TNA";

config::Lab Lab() {
  config::Lab lab;
  lab.set_time_zone("Asia/Ho_Chi_Minh");
  lab.mutable_identity()->set_name_vi("Chi cục Tiêu chuẩn Đo lường Chất lượng tỉnh An Giang");
  // hoa.tran signs moisture and net quantity; minh.le only net quantity.
  config::Signatory& hoa = *lab.add_signatories();
  hoa.set_user("hoa.tran");
  hoa.add_methods("PP-DA-GAO");
  hoa.add_methods("PP-DL-TIEU-100G");
  config::Signatory& minh = *lab.add_signatories();
  minh.set_user("minh.le");
  minh.add_methods("PP-DL-TIEU-100G");
  return lab;
}

Enterprise Customer() {
  Enterprise customer;
  customer.set_id("DN-2031-0001");
  customer.set_name("Công ty TNHH Lương thực Minh Phú");
  customer.set_tax_code("1600123456");
  return customer;
}

Product Rice() {
  Product product;
  product.set_id("SP-2031-0001");
  product.set_enterprise("DN-2031-0001");
  product.set_name("Gạo trắng hạt dài 5 % tấm");
  return product;
}

Sample TheSample(const std::string& code = "M-2031-00001") {
  Sample sample;
  sample.set_code(code);
  sample.set_version(1);
  sample.set_enterprise("DN-2031-0001");
  sample.set_product("SP-2031-0001");
  sample.set_received_on("2031-03-01");
  return sample;
}

// An approved run of `method` on the sample, as the run workflow leaves it.
TestRun Approved(const std::string& id, const std::string& method, double value,
                 RunState state = RUN_STATE_APPROVED) {
  TestRun run;
  run.set_id(id);
  run.set_version(10);
  run.set_state(state);
  run.set_sample("M-2031-00001");
  run.mutable_method()->set_id(method);
  run.mutable_method()->set_version(1);
  run.mutable_method()->set_standard(method == "PP-DA-GAO" ? "TCVN 9706:2013" : "OIML R87:2016");
  run.set_tested_on("2031-03-02");
  TestResult& result = *run.add_results();
  result.set_characteristic_vi("Độ ẩm");
  result.set_unit("%");
  result.set_value(value);
  result.mutable_decision()->set_statement(metrology::PASS);
  run.mutable_signatures()->Add()->mutable_statement()->set_signer_user("an.pham");
  return run;
}

UserAccount Person(const std::string& name) {
  auto account =
      auth::Enrol({name, "Người " + name, ROLE_REVIEWER, kPassword}, kNow, auth::kTestOnlyCost);
  EXPECT_TRUE(account.has_value());
  return account ? *account : UserAccount();
}

// A draft as the store keeps it: numbered, version 1.
TestReport Draft(const std::vector<TestRun>& runs, const std::string& number = "PKQ-2031-00001",
                 const std::string& code = kCode) {
  auto draft = DraftReport(Lab(), TheSample(), Customer(), Rice(), runs, code, "lan.nguyen", kNow);
  EXPECT_TRUE(draft.has_value()) << draft.error().message();
  if (!draft) return TestReport();
  draft->set_number(number);
  draft->set_version(1);
  return *draft;
}

TestReport Sign(const TestReport& report, const UserAccount& person, int64_t at = kNow) {
  auto signer = auth::Signatory::Unseal(person, kPassword);
  EXPECT_TRUE(signer.has_value());
  auto issued = SignReport(Lab(), report, *signer, at);
  EXPECT_TRUE(issued.has_value()) << issued.error().message();
  return issued ? *issued : TestReport();
}

TEST(TestReports, ADraftCarriesFrozenCopiesOfApprovedRunsOfItsSampleOnly) {
  auto draft =
      DraftReport(Lab(), TheSample(), Customer(), Rice(),
                  {Approved("TN-2031-00001", "PP-DA-GAO", 13.46)}, kCode, "lan.nguyen", kNow);
  ASSERT_TRUE(draft) << draft.error().message();
  EXPECT_EQ(draft->state(), REPORT_STATE_DRAFT);
  EXPECT_EQ(draft->lab().name_vi(), "Chi cục Tiêu chuẩn Đo lường Chất lượng tỉnh An Giang");
  EXPECT_EQ(draft->customer().name(), "Công ty TNHH Lương thực Minh Phú");
  EXPECT_EQ(draft->sample().code(), "M-2031-00001");
  EXPECT_EQ(draft->verification_code(), kCode);
  ASSERT_EQ(draft->runs_size(), 1);
  EXPECT_EQ(draft->runs(0).run(), "TN-2031-00001");
  EXPECT_EQ(draft->runs(0).run_version(), 10u);
  EXPECT_DOUBLE_EQ(draft->runs(0).results(0).value(), 13.46);
  EXPECT_EQ(draft->runs(0).signatures_size(), 1) << "the run's own signatures go with it";

  auto submitted = DraftReport(Lab(), TheSample(), Customer(), Rice(),
                               {Approved("TN-2031-00002", "PP-DA-GAO", 13.46, RUN_STATE_REVIEWED)},
                               kCode, "lan.nguyen", kNow);
  ASSERT_FALSE(submitted);
  EXPECT_NE(submitted.error().message().find("TN-2031-00002 is RUN_STATE_REVIEWED"),
            std::string::npos)
      << submitted.error().message();

  TestRun elsewhere = Approved("TN-2031-00003", "PP-DA-GAO", 13.46);
  elsewhere.set_sample("M-2031-00009");
  auto other_sample =
      DraftReport(Lab(), TheSample(), Customer(), Rice(), {elsewhere}, kCode, "lan.nguyen", kNow);
  ASSERT_FALSE(other_sample);
  EXPECT_NE(other_sample.error().message().find("sample M-2031-00009"), std::string::npos);

  const TestRun run = Approved("TN-2031-00001", "PP-DA-GAO", 13.46);
  EXPECT_FALSE(
      DraftReport(Lab(), TheSample(), Customer(), Rice(), {run, run}, kCode, "lan.nguyen", kNow));
  EXPECT_FALSE(DraftReport(Lab(), TheSample(), Customer(), Rice(), {}, kCode, "lan.nguyen", kNow));
  EXPECT_FALSE(
      DraftReport(Lab(), TheSample(), Customer(), Rice(), {run}, "7KQ2M4XW9TN", "lan.nguyen", kNow))
      << "11 characters are no code";
  EXPECT_FALSE(
      DraftReport(config::Lab(), TheSample(), Customer(), Rice(), {run}, kCode, "lan.nguyen", kNow))
      << "a lab without an identity has nothing to print at the head";
}

TEST(TestReports, OnlyASignatoryWithEveryMethodInScopeIssuesTheReport) {
  const TestReport draft = Draft({Approved("TN-2031-00001", "PP-DA-GAO", 13.46),
                                  Approved("TN-2031-00002", "PP-DL-TIEU-100G", 101.2)});

  auto stranger = auth::Signatory::Unseal(Person("an.pham"), kPassword);
  ASSERT_TRUE(stranger);
  auto refused = SignReport(Lab(), draft, *stranger, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("an.pham is not one of the lab's report signatories"),
            std::string::npos)
      << refused.error().message();

  auto minh = auth::Signatory::Unseal(Person("minh.le"), kPassword);
  ASSERT_TRUE(minh);
  auto out_of_scope = SignReport(Lab(), draft, *minh, kNow);
  ASSERT_FALSE(out_of_scope);
  EXPECT_EQ(out_of_scope.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(out_of_scope.error().message().find("method PP-DA-GAO (TCVN 9706:2013)"),
            std::string::npos)
      << out_of_scope.error().message();

  const UserAccount hoa = Person("hoa.tran");
  const TestReport issued = Sign(draft, hoa, kLateEvening);
  EXPECT_EQ(issued.state(), REPORT_STATE_ISSUED);
  EXPECT_EQ(issued.issued_on(), "2031-03-04") << "18:00 UTC is 01:00 the next day in the lab";
  EXPECT_EQ(issued.signed_version(), 2u) << "the version the store gives the issued report";
  ASSERT_EQ(issued.signatures_size(), 1);
  EXPECT_EQ(issued.signatures(0).statement().meaning(), SIGNATURE_MEANING_APPROVED);
  EXPECT_EQ(issued.signatures(0).statement().record_kind(), "test_report");
  EXPECT_EQ(issued.signatures(0).statement().record_id(), "PKQ-2031-00001");

  auto again = auth::Signatory::Unseal(hoa, kPassword);
  ASSERT_TRUE(again);
  TestReport stored = issued;
  stored.set_version(2);
  auto twice = SignReport(Lab(), stored, *again, kNow);
  ASSERT_FALSE(twice) << "an issued report is amended, never signed again";
  EXPECT_EQ(twice.error().code(), StatusCode::kFailedPrecondition);
}

TEST(TestReports, ASignatureVerifiesOnItsReportAndIsNamedWhenCopiedOrTheContentAltered) {
  const UserAccount hoa = Person("hoa.tran");
  auto key_of = [&](const std::string& user) {
    return user == "hoa.tran" ? hoa.signing_key().public_key() : std::string();
  };
  TestReport first = Sign(Draft({Approved("TN-2031-00001", "PP-DA-GAO", 13.46)}), hoa);
  first.set_version(2);
  // Printing, keeping the PDF's hash and superseding change nothing signed.
  first.set_pdf_sha256(std::string(32, '\x5a'));
  Status verified = VerifyReportSignatures(first, key_of);
  EXPECT_TRUE(verified.ok()) << verified.message();
  TestReport superseded = first;
  superseded.set_version(3);
  superseded.set_state(REPORT_STATE_SUPERSEDED);
  superseded.set_superseded_by("PKQ-2031-00004");
  verified = VerifyReportSignatures(superseded, key_of);
  EXPECT_TRUE(verified.ok()) << verified.message();

  // A second report, issued without its own signature, shows the first one's.
  TestReport second =
      Draft({Approved("TN-2031-00002", "PP-DA-GAO", 13.46)}, "PKQ-2031-00002", "A1B2C3D4E5F6");
  second.set_version(2);
  second.set_state(REPORT_STATE_ISSUED);
  second.set_issued_on(first.issued_on());
  second.set_signed_version(2);
  *second.add_signatures() = first.signatures(0);
  const Status copied = VerifyReportSignatures(second, key_of);
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.message().find("made for test_report PKQ-2031-00001"), std::string::npos)
      << copied.message();
  EXPECT_NE(copied.message().find("PKQ-2031-00002"), std::string::npos) << copied.message();

  TestReport altered = first;
  altered.mutable_runs(0)->mutable_results(0)->set_value(13.06);
  const Status changed = VerifyReportSignatures(altered, key_of);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.message().find("altered after it was signed"), std::string::npos)
      << changed.message();

  TestReport unsigned_issue = second;
  unsigned_issue.clear_signatures();
  EXPECT_FALSE(VerifyReportSignatures(unsigned_issue, key_of).ok()) << "issued with no signature";
}

TEST(TestReports, AnAmendedReportCitesTheOneItReplacesWhichIsThenSuperseded) {
  const UserAccount hoa = Person("hoa.tran");
  TestReport old = Sign(Draft({Approved("TN-2031-00001", "PP-DA-GAO", 13.46)}), hoa);
  old.set_version(2);

  TestReport redraft = Draft({Approved("TN-2031-00001", "PP-DA-GAO", 13.46)}, "", "A1B2C3D4E5F6");
  redraft.clear_number();
  redraft.clear_version();
  EXPECT_FALSE(AmendReport(old, redraft, "")) << "an amendment says why";
  TestReport draft_only = Draft({Approved("TN-2031-00001", "PP-DA-GAO", 13.46)});
  EXPECT_FALSE(AmendReport(draft_only, redraft, "tên khách hàng viết sai"))
      << "a draft was never issued";
  TestReport other_sample = redraft;
  other_sample.mutable_sample()->set_code("M-2031-00002");
  EXPECT_FALSE(AmendReport(old, other_sample, "tên khách hàng viết sai"));

  auto amendment = AmendReport(old, redraft, "tên khách hàng viết sai");
  ASSERT_TRUE(amendment) << amendment.error().message();
  EXPECT_EQ(amendment->replaces(), "PKQ-2031-00001");
  EXPECT_EQ(amendment->amendment_reason(), "tên khách hàng viết sai");
  EXPECT_EQ(amendment->state(), REPORT_STATE_DRAFT);
  amendment->set_number("PKQ-2031-00002");
  amendment->set_version(1);

  // Not superseded by a draft: only once the amendment is issued.
  EXPECT_FALSE(SupersedeReport(old, *amendment));
  TestReport issued = Sign(*amendment, hoa);
  issued.set_version(2);
  auto superseded = SupersedeReport(old, issued);
  ASSERT_TRUE(superseded) << superseded.error().message();
  EXPECT_EQ(superseded->state(), REPORT_STATE_SUPERSEDED);
  EXPECT_EQ(superseded->superseded_by(), "PKQ-2031-00002");
  EXPECT_EQ(superseded->signatures_size(), 1) << "the old signature stays with the old report";
  superseded->set_version(3);
  EXPECT_FALSE(SupersedeReport(*superseded, issued)) << "superseded once";
  EXPECT_FALSE(AmendReport(*superseded, redraft, "again"))
      << "the replacement is what is amended next";

  auto old_answer = VerificationOf(*superseded);
  ASSERT_TRUE(old_answer);
  EXPECT_EQ(old_answer->number(), "PKQ-2031-00001");
  EXPECT_EQ(old_answer->state(), "superseded");
  EXPECT_EQ(old_answer->replaced_by(), "PKQ-2031-00002");
  auto new_answer = VerificationOf(issued);
  ASSERT_TRUE(new_answer);
  EXPECT_EQ(new_answer->state(), "valid");
  EXPECT_EQ(new_answer->replaced_by(), "");
  EXPECT_FALSE(VerificationOf(*amendment)) << "a draft's code was never handed out";
}

TEST(TestReports, VerificationCodesAreTwelveCharactersOfCrockfordBase32) {
  std::set<std::string> codes;
  for (int i = 0; i < 100; ++i) {
    const std::string code = NewVerificationCode();
    ASSERT_EQ(code.size(), 12u);
    EXPECT_EQ(code.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos)
        << code;
    EXPECT_EQ(NormaliseVerificationCode(code), code);
    codes.insert(code);
  }
  EXPECT_EQ(codes.size(), 100u) << "60 random bits each";
  EXPECT_EQ(NormaliseVerificationCode("7kq2-m4xw-9tna"), "7KQ2M4XW9TNA");
  EXPECT_EQ(NormaliseVerificationCode("7KQ2 M4XW 9TNO"), "7KQ2M4XW9TN0") << "O is read as zero";
  EXPECT_EQ(NormaliseVerificationCode("IL0000000000"), "110000000000");
  EXPECT_EQ(NormaliseVerificationCode("7KQ2M4XW9TNU"), "") << "U is not in the alphabet";
  EXPECT_EQ(NormaliseVerificationCode("7KQ2M4XW9TN"), "");
  EXPECT_EQ(NormaliseVerificationCode("7KQ2M4XW9TNA/../x"), "");
}

}  // namespace
}  // namespace labtrace::workflow
